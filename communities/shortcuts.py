"""Small rendering helpers shared by the apps' views."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails

from communities.models import Staff


class HtmxHttpRequest(HttpRequest):
    """The request our views see: django-htmx details, and the staff set by permissions."""

    htmx: HtmxDetails
    staff: Staff


def render_coming_soon(
    request: HttpRequest, *, nav: str, title: str, lead: str, items: list[str]
) -> HttpResponse:
    """A page that a later issue fills: it says plainly what will be there."""
    return render(
        request,
        "pages/coming_soon.html",
        {"nav": nav, "title": title, "lead": lead, "items": items},
    )
