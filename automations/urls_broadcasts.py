"""The broadcasts pages' URLs (included in automations/urls.py)."""

from django.urls import path

from automations.views import broadcasts

urlpatterns = [
    path("broadcasts/", broadcasts.broadcasts, name="broadcasts"),
    path("broadcasts/new/", broadcasts.broadcast_new, name="broadcast-new"),
    path("broadcasts/preview/", broadcasts.broadcast_preview, name="broadcast-preview"),
    path("broadcasts/<int:broadcast_id>/", broadcasts.broadcast_edit, name="broadcast-edit"),
    path(
        "broadcasts/<int:broadcast_id>/pause/", broadcasts.broadcast_pause, name="broadcast-pause"
    ),
    path(
        "broadcasts/<int:broadcast_id>/resume/",
        broadcasts.broadcast_resume,
        name="broadcast-resume",
    ),
    path(
        "broadcasts/<int:broadcast_id>/delete/",
        broadcasts.broadcast_delete,
        name="broadcast-delete",
    ),
]
