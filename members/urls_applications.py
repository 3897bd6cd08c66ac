from django.urls import path

from members.views import applications

# Entry questionnaires and the application review queue (members/views/applications.py).
urlpatterns = [
    path("applications/", applications.application_list, name="applications"),
    path(
        "applications/<slug:community_slug>/questions/",
        applications.questions,
        name="questions",
    ),
    path(
        "applications/<slug:community_slug>/new/",
        applications.application_create,
        name="application-create",
    ),
    path(
        "applications/<int:application_id>/approve/",
        applications.application_approve,
        name="application-approve",
    ),
    path(
        "applications/<int:application_id>/reject/",
        applications.application_reject,
        name="application-reject",
    ),
]
