from django.urls import include, path

from activities import api, views

app_name = "activities"

urlpatterns = [
    path("", include("activities.calendar.urls")),
    path("imports/", views.imports, name="imports"),
    path("imports/<int:import_id>/", views.import_detail, name="import"),
    path("imports/<int:import_id>/retry/", views.import_retry, name="import-retry"),
    path("memberships/<int:membership_id>/activity/", views.record_activity, name="record"),
    path("api/v1/ingest/<str:connector_id>/events", api.ingest, name="api-ingest"),
]
