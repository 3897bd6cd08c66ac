from django.urls import path

from members.urls_applications import urlpatterns as application_urls
from members.urls_transfer import urlpatterns as transfer_urls
from members.views import members

app_name = "members"

# Each part of the members area keeps its routes beside its views.
urlpatterns = [
    path("", members.member_list, name="list"),
    *application_urls,
    *transfer_urls,
]
