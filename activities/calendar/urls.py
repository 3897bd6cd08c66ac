"""The calendar's URLs (included from activities/urls.py; names in the ``activities`` namespace)."""

from django.urls import path

from activities.calendar import views, views_feeds, views_occurrence

urlpatterns = [
    path("calendar/", views.month, name="calendar"),
    # Feeds (views_feeds.py): the page, and the public .ics whose key is the credential.
    path("calendar/feeds/", views_feeds.feed_list, name="calendar-feeds"),
    path("calendar/feeds/new/", views_feeds.feed_create, name="calendar-feed-create"),
    path("calendar/feeds/revoke/", views_feeds.feed_revoke, name="calendar-feed-revoke"),
    path("calendar/feeds/<str:key>.ics", views_feeds.feed, name="calendar-feed"),
    # Participation (views_occurrence.py): the section, answers, attendance, closing; rules.
    path(
        "calendar/o/<str:occurrence_key>/people/",
        views_occurrence.occurrence_participation,
        name="occurrence-participation",
    ),
    path(
        "calendar/o/<str:occurrence_key>/answer/",
        views_occurrence.occurrence_answer,
        name="occurrence-answer",
    ),
    path(
        "calendar/o/<str:occurrence_key>/attendance/<int:membership_id>/",
        views_occurrence.occurrence_attendance,
        name="occurrence-attendance",
    ),
    path(
        "calendar/o/<str:occurrence_key>/close/",
        views_occurrence.occurrence_close,
        name="occurrence-close",
    ),
    path(
        "calendar/rules/<slug:community_slug>/",
        views_occurrence.calendar_rules,
        name="calendar-rules",
    ),
]
