"""A community's automatic messages and spam guard, and checklist messages sent to the
group (kept beside their views; included by automations/urls.py)."""

from django.urls import path

from automations.views import checklist_send, community_settings

urlpatterns = [
    path(
        "communities/<slug:community_slug>/settings/",
        community_settings.community_settings,
        name="community-settings",
    ),
    path(
        "checklist-items/<int:run_item_id>/send/",
        checklist_send.checklist_send,
        name="checklist-send",
    ),
]
