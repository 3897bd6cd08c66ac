from django.urls import path

from communities import views

app_name = "communities"

urlpatterns = [
    path("", views.community_list, name="list"),
    path("new/", views.community_create, name="create"),
    # Before the community patterns: "programmes" is not a community's slug.
    path("programmes/", views.programme_list, name="programmes"),
    path("programmes/new/", views.programme_create, name="programme-create"),
    path("programmes/<int:programme_id>/", views.programme_detail, name="programme"),
    path("<slug:community_slug>/", views.community_detail, name="detail"),
    path("<slug:community_slug>/edit/", views.community_edit, name="edit"),
    path("<slug:community_slug>/rules/", views.community_rules, name="rules"),
    path("<slug:community_slug>/connectors/", views.connector_list, name="connectors"),
    path(
        "<slug:community_slug>/connectors/<int:connector_pk>/rotate/",
        views.connector_rotate,
        name="connector-rotate",
    ),
    path(
        "<slug:community_slug>/connectors/<int:connector_pk>/revoke/",
        views.connector_revoke,
        name="connector-revoke",
    ),
]
