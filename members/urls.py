from django.urls import path

from members.urls_applications import urlpatterns as application_urls
from members.urls_squads import urlpatterns as squad_urls
from members.urls_transfer import urlpatterns as transfer_urls
from members.views import members, merge, privacy

app_name = "members"

# Each part of the members area keeps its routes beside its views.
urlpatterns = [
    path("", members.member_list, name="list"),
    path("bulk/", members.member_bulk, name="bulk"),
    path("new/", members.member_add, name="create"),
    path("<int:member_id>/edit/", members.member_edit, name="edit"),
    path("<int:member_id>/", members.member_profile, name="profile"),
    path("<int:member_id>/export/", privacy.member_export, name="data_export"),
    path("<int:member_id>/erase/", privacy.member_erase, name="erase"),
    path("<int:member_id>/merge/", merge.member_merge, name="merge"),
    path("memberships/<int:membership_id>/points/", members.membership_points, name="points"),
    path("memberships/<int:membership_id>/deposit/", members.membership_deposit, name="deposit"),
    path("memberships/<int:membership_id>/roles/", members.membership_roles, name="roles"),
    path("memberships/<int:membership_id>/tier/", members.membership_tier, name="tier"),
    path(
        "memberships/<int:membership_id>/violation/",
        members.membership_violation,
        name="violation",
    ),
    *application_urls,
    *transfer_urls,
    *squad_urls,
]
