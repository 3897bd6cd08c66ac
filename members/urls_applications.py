from django.urls import path

from members.views import applications, apply

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
        "applications/<slug:community_slug>/link/",
        apply.application_link_change,
        name="application-link",
    ),
    path(
        "applications/<slug:community_slug>/qr.<str:image_format>",
        apply.application_qr,
        name="application-qr",
    ),
    # Public: the link's key finds the page; no login (members/views/apply.py).
    path("apply/<str:link_key>/", apply.apply, name="apply"),
    path("apply/<str:link_key>/thanks/", apply.apply_thanks, name="apply-thanks"),
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
