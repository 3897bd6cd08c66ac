from django.urls import path

from communities import views_team

app_name = "team"

urlpatterns = [
    path("", views_team.staff_list, name="staff"),
    path("log/", views_team.log, name="log"),
    path("invite/", views_team.invitation_create, name="invite"),
    path("new/", views_team.account_create, name="account-create"),
    path(
        "invitations/<int:invitation_id>/resend/",
        views_team.invitation_resend,
        name="invitation-resend",
    ),
    path(
        "invitations/<int:invitation_id>/revoke/",
        views_team.invitation_revoke,
        name="invitation-revoke",
    ),
    path("<int:staff_id>/role/", views_team.staff_role, name="role"),
    path("<int:staff_id>/communities/", views_team.staff_communities, name="communities"),
    path("<int:staff_id>/deactivate/", views_team.staff_deactivate, name="deactivate"),
    path("<int:staff_id>/reactivate/", views_team.staff_reactivate, name="reactivate"),
    path(
        "community/<slug:community_slug>/moderators/",
        views_team.community_moderators,
        name="community-moderators",
    ),
]
