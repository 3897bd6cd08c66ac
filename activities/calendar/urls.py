"""The calendar's URLs (included from activities/urls.py; names in the ``activities`` namespace)."""

from django.urls import path

from activities.calendar import views, views_feeds

urlpatterns = [
    path("calendar/", views.month, name="calendar"),
    # Feeds (views_feeds.py): the page, and the public .ics whose key is the credential.
    path("calendar/feeds/", views_feeds.feed_list, name="calendar-feeds"),
    path("calendar/feeds/new/", views_feeds.feed_create, name="calendar-feed-create"),
    path("calendar/feeds/revoke/", views_feeds.feed_revoke, name="calendar-feed-revoke"),
    path("calendar/feeds/<str:key>.ics", views_feeds.feed, name="calendar-feed"),
]
