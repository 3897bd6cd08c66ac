from django.urls import path

from activities import views

app_name = "activities"

urlpatterns = [
    path("calendar/", views.calendar, name="calendar"),
    path("checklists/", views.checklists, name="checklists"),
    path("actions/", views.actions, name="actions"),
    path("imports/", views.imports, name="imports"),
]
