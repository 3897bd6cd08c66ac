"""CSRF over every URL: a signed-in owner's POST without the token is refused everywhere.

Read from the URLconf like the permission tests, so a form added later is covered. The
only views exempt are the machine APIs, which take no cookies (bearer keys, HMAC
signatures); the list below pins them, so a new exemption has to be argued here.
"""

import pytest
from django.test import Client
from django.urls import reverse

from tests.urlwalk import ALL_URLS, sample_kwargs

pytestmark = pytest.mark.django_db

CSRF_EXEMPT = {
    "activities:api-ingest",  # HMAC-signed by the bot (test_webhook.py)
    "api:communities",  # bearer keys only; a session cookie does not authenticate (test_api.py)
    "api:metrics",
    "api:metric-csv",
    "api:portfolio",
    "api:openapi",
}
# Exempt from the middleware, because the view installs its upload limit before the body is
# read and only then checks the token itself (activities/uploads.py); walked below like
# every other view.
CHECKED_IN_THE_VIEW = {"activities:imports"}


def exempt(pattern) -> bool:
    return getattr(pattern.callback, "csrf_exempt", False)


def test_only_the_machine_apis_are_exempt():
    assert {name for name, pattern in ALL_URLS if exempt(pattern)} == (
        CSRF_EXEMPT | CHECKED_IN_THE_VIEW
    )


@pytest.mark.parametrize(
    ("name", "pattern"),
    [(n, p) for n, p in ALL_URLS if n not in CSRF_EXEMPT],
    ids=[n for n, _ in ALL_URLS if n not in CSRF_EXEMPT],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_a_post_without_the_token_is_refused(name, pattern, htmx, owner_a, community_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner_a.user)
    url = reverse(name, kwargs=sample_kwargs(pattern, community_a))
    headers = {"HX-Request": "true"} if htmx else {}
    # A token-shaped field that the session never issued counts for nothing either.
    response = client.post(url, {"csrfmiddlewaretoken": "x" * 64, "name": "改了"}, headers=headers)
    assert response.status_code in {403, 405}, response.status_code
