"""The calendar's URLs (included from activities/urls.py; names in the ``activities`` namespace)."""

from django.urls import path

from activities.calendar import views, views_challenges, views_feeds, views_occurrence

urlpatterns = [
    path("calendar/", views.month, name="calendar"),
    path("calendar/week/", views.week, name="calendar-week"),
    path("calendar/agenda/", views.agenda, name="calendar-agenda"),
    path("calendar/new/", views.entry_create, name="calendar-entry-create"),
    path("calendar/preview/", views.preview, name="calendar-preview"),
    path("calendar/o/<str:occurrence_key>/", views.occurrence_page, name="occurrence"),
    path("calendar/o/<str:occurrence_key>/edit/", views.occurrence_edit, name="occurrence-edit"),
    path(
        "calendar/o/<str:occurrence_key>/cancel/",
        views.occurrence_cancel,
        name="occurrence-cancel",
    ),
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
    # Check-in challenges (views_challenges.py): a community's list and form, the page.
    path(
        "calendar/challenges/of/<slug:community_slug>/",
        views_challenges.challenge_list,
        name="challenge-list",
    ),
    path(
        "calendar/challenges/of/<slug:community_slug>/new/",
        views_challenges.challenge_create,
        name="challenge-create",
    ),
    path(
        "calendar/challenges/<int:challenge_id>/",
        views_challenges.challenge_page,
        name="challenge",
    ),
    path(
        "calendar/challenges/<int:challenge_id>/check-in/",
        views_challenges.challenge_check_in,
        name="challenge-check-in",
    ),
    path(
        "calendar/challenges/<int:challenge_id>/participants/",
        views_challenges.challenge_participants_add,
        name="challenge-participants",
    ),
    path(
        "calendar/challenges/<int:challenge_id>/participants/remove/",
        views_challenges.challenge_participant_remove,
        name="challenge-participant-remove",
    ),
    path(
        "calendar/challenges/<int:challenge_id>/settle/",
        views_challenges.challenge_settle,
        name="challenge-settle",
    ),
]
