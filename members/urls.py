from django.urls import path

from members.views import members

app_name = "members"

urlpatterns = [
    path("", members.member_list, name="list"),
]
