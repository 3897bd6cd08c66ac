"""A community's public application page: no login, the link's key is what finds it.

Applicants fill in the questionnaire themselves (``members/apply/<key>/``); the answers
land in the review queue as if staff had typed them. The page shows the community's name
and its questions and nothing else about it or its organisation. Submissions are
rate-limited per address and link; a honeypot field catches form-filling robots (they are
thanked, and nothing is written). CSRF applies as on every form. Staff find the link, its
QR code (PNG, SVG) and the buttons to renew or close it on the questionnaire page.
"""

from __future__ import annotations

import io

import segno
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from communities.models import Community
from communities.permissions import Capability, staff_required
from communities.ratelimit import count_in_window
from communities.shortcuts import HtmxHttpRequest
from members import services
from members.forms_applications import PublicApplicationForm
from members.models import ApplicationLink

TEMPLATE = "members/apply.html"
# Submissions per client address and link in the window (a group of friends behind one
# router applies well within it; a script does not).
SUBMISSIONS_PER_WINDOW = 10
WINDOW_SECONDS = 600


def _open_link(key: str) -> ApplicationLink:
    link = (
        ApplicationLink.objects.select_related("community__organization")
        .filter(key=key, community__archived=False)
        .first()
    )
    if link is None:
        raise Http404
    return link


def public_url(request, link: ApplicationLink) -> str:
    return request.build_absolute_uri(reverse("members:apply", args=[link.key]))


@require_http_methods(["GET", "POST"])
def apply(request, link_key: str) -> HttpResponse:
    link = _open_link(link_key)
    community = link.community
    context = {"community": community, "public": True}
    if not link.enabled:
        return render(request, TEMPLATE, {**context, "closed": True})
    questions = list(community.questions.all())
    form = PublicApplicationForm(
        request.POST if request.method == "POST" else None,
        community=community,
        questions=questions,
    )
    if request.method == "POST":
        address = request.META.get("REMOTE_ADDR", "")
        if count_in_window(f"apply:{link.key}:{address}", seconds=WINDOW_SECONDS) > (
            SUBMISSIONS_PER_WINDOW
        ):
            return render(request, TEMPLATE, {**context, "form": form, "limited": True}, status=429)
        if form.is_robot:
            return redirect(reverse("members:apply-thanks", args=[link.key]))
        if form.is_valid():
            try:
                services.application_submit(
                    community=community,
                    display_name=form.cleaned_data["display_name"],
                    platform=community.platform,
                    external_id=form.cleaned_data["external_id"],
                    answers=form.answers(),
                )
            except ValidationError as error:
                form.add_service_error(error)
            else:
                return redirect(reverse("members:apply-thanks", args=[link.key]))
    status = 400 if form.is_bound else 200
    return render(request, TEMPLATE, {**context, "form": form}, status=status)


@require_GET
def apply_thanks(request, link_key: str) -> HttpResponse:
    link = _open_link(link_key)
    return render(request, TEMPLATE, {"community": link.community, "public": True, "thanks": True})


QR_KINDS = {"png": "image/png", "svg": "image/svg+xml"}


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def application_qr(
    request: HtmxHttpRequest, community: Community, image_format: str
) -> HttpResponse:
    """The public link's QR code, to paste into a traffic group or print."""
    kind = image_format
    if kind not in QR_KINDS:
        raise Http404
    link = services.application_link_get(community=community)
    buffer = io.BytesIO()
    qr = segno.make(public_url(request, link), error="m")
    qr.save(buffer, kind=kind, scale=8 if kind == "png" else 4, border=2)
    response = HttpResponse(buffer.getvalue(), content_type=QR_KINDS[kind])
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="{community.slug}-apply.{kind}"'
    return response


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def application_link_change(request: HtmxHttpRequest, community: Community) -> HttpResponse:
    """Renew the link (the old one stops working), or close or reopen it."""
    action = request.POST.get("action")
    if action == "renew":
        services.application_link_renew(community=community)
    elif action in {"close", "open"}:
        services.application_link_set_open(community=community, open=action == "open")
    return redirect(reverse("members:questions", args=[community.slug]) + "#application-link")
