"""The calendar's URLs (included from activities/urls.py; names in the ``activities`` namespace)."""

from django.urls import path

from activities.calendar import views

urlpatterns = [
    path("calendar/", views.month, name="calendar"),
]
