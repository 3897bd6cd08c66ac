from django.urls import path  # noqa: F401

# Entry questionnaires and the application review queue (members/views/applications.py).
urlpatterns: list = []
