from django.urls import path

from communities import views

app_name = "communities"

urlpatterns = [
    path("", views.community_list, name="list"),
    path("new/", views.community_create, name="create"),
    path("<slug:community_slug>/", views.community_detail, name="detail"),
    path("<slug:community_slug>/edit/", views.community_edit, name="edit"),
]
