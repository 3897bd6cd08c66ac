"""Calendar feeds: the page that makes and revokes them, and the public ``.ics`` URL.

The feeds page is for every staff member ("my events"); community feeds need
``MANAGE_COMMUNITIES`` on that community. The ``.ics`` URL needs no sign-in (calendar
apps cannot sign in): its random key is the credential, only its digest is stored, and an
unknown, malformed or revoked key is a plain 404.
"""

from __future__ import annotations

import hashlib

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST, require_safe

from activities.calendar import feeds
from communities.models import Community
from communities.permissions import Capability, communities_for, has_capability, staff_required
from communities.shortcuts import HtmxHttpRequest
from communities.validators import database_id

# Calendar apps poll; a few minutes of staleness is what they expect of a feed.
FEED_MAX_AGE = 300


class FeedForm(forms.Form):
    community = forms.ModelChoiceField(
        label=gettext_lazy("Feed of"),
        queryset=Community.objects.none(),
        required=False,
        empty_label=gettext_lazy("My events"),
        help_text=gettext_lazy(
            "“My events”: the entries you host and those of the communities assigned to you."
        ),
    )

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        if has_capability(staff, Capability.MANAGE_COMMUNITIES):
            queryset = communities_for(staff).order_by("name")
        else:
            queryset = Community.objects.none()
        self.fields["community"].queryset = queryset


def _feed_url(request, key: str) -> str:
    return request.build_absolute_uri(reverse("activities:calendar-feed", kwargs={"key": key}))


def _feeds_page(request: HtmxHttpRequest, form: FeedForm, issued=None):
    issued_url = _feed_url(request, issued["key"]) if issued else ""
    return render(
        request,
        "activities/calendar/feeds.html",
        {
            "nav": "calendar",
            "form": form,
            "feeds": feeds.feeds_for(request.staff),
            "issued": issued,
            "issued_url": issued_url,
            "issued_webcal": issued_url.replace("https://", "webcal://", 1).replace(
                "http://", "webcal://", 1
            ),
        },
    )


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def feed_list(request: HtmxHttpRequest):
    """The feeds; ``?community=<slug>`` (the community page's link) preselects one."""
    form = FeedForm(staff=request.staff)
    slug = request.GET.get("community", "")
    if slug and len(slug) <= 100 and "\x00" not in slug:  # PostgreSQL refuses NUL in text
        form.initial["community"] = (
            form.fields["community"].queryset.filter(slug=slug).values_list("pk", flat=True).first()
        )
    return _feeds_page(request, form)


@require_POST
@staff_required(Capability.VIEW_COMMUNITIES)
def feed_create(request: HtmxHttpRequest):
    form = FeedForm(request.POST, staff=request.staff)
    if not form.is_valid():
        return _feeds_page(request, form)
    feed, key = feeds.feed_create(staff=request.staff, community=form.cleaned_data["community"])
    # The URL is in this response only; afterwards the page shows its first characters.
    return _feeds_page(request, FeedForm(staff=request.staff), issued={"feed": feed, "key": key})


@require_POST
@staff_required(Capability.VIEW_COMMUNITIES)
def feed_revoke(request: HtmxHttpRequest):
    try:
        feed_id = database_id(request.POST.get("feed", ""))
    except ValueError:
        raise Http404 from None
    feed = feeds.feeds_for(request.staff).filter(pk=feed_id).first()
    if feed is None:  # someone else's feed is as unknown as a missing one
        raise Http404
    feeds.feed_revoke(feed=feed)
    messages.success(request, _("Feed %(prefix)s… revoked.") % {"prefix": feed.prefix})
    return redirect("activities:calendar-feeds")


@require_safe
def feed(request, key: str):
    """The feed itself (public: the key is the credential)."""
    found = feeds.feed_for_key(key)
    if found is None:
        raise Http404
    body = feeds.feed_ics(found)
    feeds.mark_fetched(found)
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(
            False, feeds.feed_filename(found)
        )
    response["ETag"] = etag
    response["Cache-Control"] = f"private, max-age={FEED_MAX_AGE}"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
