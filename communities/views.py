from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRefresh

from communities import selectors, services, team
from communities.announcement import announcement_text
from communities.forms import (
    FIVE_W_ONE_H,
    MAX_RULES_PER_KIND,
    CommunityFilterForm,
    CommunityForm,
    ConnectorForm,
    ProgrammeForm,
    RuleTextsForm,
    add_service_error,
    rule_formset,
)
from communities.heartbeat import worker_status
from communities.models import Community, Connector, Programme, RuleKind
from communities.panels import (
    CONNECTORS_PAGE,
    SETTINGS_PAGE,
    links_for,
    member_counts,
    panel_scripts,
    panels_for,
)
from communities.permissions import (
    SESSION_ORGANIZATION_KEY,
    Capability,
    has_capability,
    staff_required,
    staff_roles,
)
from communities.shortcuts import HtmxHttpRequest


@require_GET
@vary_on_headers("HX-Request")
@staff_required(Capability.VIEW_COMMUNITIES)
def community_list(request: HtmxHttpRequest):
    form = CommunityFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    communities = selectors.community_list(
        staff=request.staff,
        archived=filters.get("archived") or False,
        platform=filters.get("platform") or "",
        search=filters.get("q") or "",
    )
    template = "communities/list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#community-table"
    return render(
        request,
        template,
        {
            "nav": "communities",
            "form": form,
            "communities": communities,
            "can_manage": has_capability(request.staff, Capability.MANAGE_COMMUNITIES),
        },
    )


@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_COMMUNITIES)
def community_create(request: HtmxHttpRequest):
    organization = request.staff.organization
    name = (request.GET.get("name") or "")[:200]
    suggested = (
        services.community_slug_suggest(organization=organization, name=name) if name else ""
    )
    form = CommunityForm(
        request.POST or None,
        creating=True,
        organization=organization,
        suggested_slug=suggested,
        initial={"name": name, "slug": (request.GET.get("slug") or "")[:50]},
    )
    if request.method == "POST" and form.is_valid():
        try:
            community = services.community_create(organization=organization, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Community “%(name)s” created.") % {"name": community})
            return redirect("communities:detail", community_slug=community.slug)
    return render(request, "communities/form.html", {"nav": "communities", "form": form})


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def community_detail(request: HtmxHttpRequest, community: Community):
    rules = selectors.community_rules(community=community)
    counts = member_counts([community.pk])
    panels = panels_for(request, community)
    return render(
        request,
        "communities/detail.html",
        {
            "nav": "communities",
            "community": community,
            "can_manage": has_capability(request.staff, Capability.MANAGE_COMMUNITIES),
            "five_w_one_h": [
                (Community._meta.get_field(name).verbose_name, getattr(community, name))
                for name in FIVE_W_ONE_H
            ],
            "members_present": None if counts is None else counts[community.pk],
            "encouraged": [rule for rule in rules if rule.kind == RuleKind.ENCOURAGED],
            "forbidden": [rule for rule in rules if rule.kind == RuleKind.FORBIDDEN],
            "announcement": announcement_text(community, rules),
            "panels": panels,
            "panel_scripts": panel_scripts(panels),
            "links": links_for(request, community),
            "moderators": _moderators_of(request, community),
        },
    )


def _moderators_of(request, community: Community):
    """For owners: the organisation's moderators, each marked if assigned to this group."""
    if not has_capability(request.staff, Capability.MANAGE_STAFF):
        return None
    assigned = set(community.assigned_staff.values_list("pk", flat=True))
    moderators = team.community_moderator_choices(community)
    for moderator in moderators:
        moderator.assigned = moderator.pk in assigned
    return moderators


@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_COMMUNITIES)
def community_edit(request: HtmxHttpRequest, community: Community):
    form = CommunityForm(
        request.POST or None, instance=community, organization=request.staff.organization
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.community_update(community=community, data=form.cleaned_data, by=request.user)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Changes to “%(name)s” saved.") % {"name": community})
            return redirect("communities:detail", community_slug=community.slug)
    return render(
        request,
        "communities/form.html",
        {"nav": "communities", "form": form, "community": community},
    )


@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_COMMUNITIES)
def community_rules(request: HtmxHttpRequest, community: Community):
    """The rules editor: value, entry standard, vision, language, and the behaviours.

    "Add a behaviour" puts one more empty row in place: with htmx a GET answers the row
    (and the formset's new total, out of band); without JavaScript the button posts the
    form, which comes back with the typed text kept, one row more and nothing saved."""
    kind = request.GET.get("add_row") if request.method == "GET" else None
    if request.htmx and kind in RuleKind.values:
        return _rule_row(request, community, kind)
    data = request.POST if request.method == "POST" else None
    adding = data.get("add_row") if data is not None else None
    if adding in RuleKind.values:
        data = _with_one_more_row(data, adding)
    texts = RuleTextsForm(data, instance=community, prefix="texts")
    encouraged = rule_formset(RuleKind.ENCOURAGED, community, data)
    forbidden = rule_formset(RuleKind.FORBIDDEN, community, data)
    if (
        data is not None
        and adding is None
        and all([texts.is_valid(), encouraged.is_valid(), forbidden.is_valid()])
    ):
        try:
            services.community_rules_save(
                community=community,
                texts=texts.cleaned_data,
                edits=[*encouraged.edits(), *forbidden.edits()],
                by=request.user,
            )
        except ValidationError as error:
            add_service_error(texts, error)
        else:
            messages.success(request, _("Rules of “%(name)s” saved.") % {"name": community})
            return redirect(reverse("communities:detail", args=[community.slug]) + "#rules")
    return render(
        request,
        "communities/rules.html",
        {
            "nav": "communities",
            "community": community,
            "texts": texts,
            "encouraged": encouraged,
            "forbidden": forbidden,
        },
    )


def _row_count(value) -> int | None:
    try:
        count = int(value)
    except (TypeError, ValueError):
        return None
    return count if 0 <= count < MAX_RULES_PER_KIND else None


def _with_one_more_row(data, kind: str):
    data = data.copy()
    key = f"{kind}-TOTAL_FORMS"
    count = _row_count(data.get(key))
    if count is not None:
        data[key] = str(count + 1)
    return data


def _rule_row(request: HtmxHttpRequest, community: Community, kind: str):
    """One more empty row of ``kind``'s table, and the formset's total out of band."""
    formset = rule_formset(kind, community)
    index = _row_count(request.GET.get(f"{kind}-TOTAL_FORMS"))
    if index is None:
        return HttpResponse(status=204)  # at the most rows (or a bad count): nothing to add
    form = formset.empty_form
    form.prefix = formset.add_prefix(index)
    total = format_html(
        '<input type="hidden" name="{0}-TOTAL_FORMS" value="{1}" id="id_{0}-TOTAL_FORMS" '
        'hx-swap-oob="true">',
        kind,
        index + 1,
    )
    context = {"form": form, "total_form": total}
    return render(request, f"communities/rules.html#{kind}-row", context)


# --- Programmes: the community matrix (社群矩阵) ------------------------------------------------


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def programme_list(request: HtmxHttpRequest):
    return render(
        request,
        "communities/programmes.html",
        {
            "nav": "communities",
            "programmes": selectors.programme_list(staff=request.staff),
            "can_manage": has_capability(request.staff, Capability.MANAGE_COMMUNITIES),
        },
    )


@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_COMMUNITIES)
def programme_create(request: HtmxHttpRequest):
    form = ProgrammeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            programme = services.programme_create(
                organization=request.staff.organization, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Programme “%(name)s” created.") % {"name": programme})
            return redirect("communities:programme", programme_id=programme.pk)
    return render(request, "communities/programme_form.html", {"nav": "communities", "form": form})


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def programme_detail(request: HtmxHttpRequest, programme: Programme):
    columns = selectors.programme_matrix(staff=request.staff, programme=programme)
    return render(
        request,
        "communities/programme.html",
        {
            "nav": "communities",
            "programme": programme,
            "columns": columns,
            "groups": sum(len(column.communities) for column in columns),
            "can_manage": has_capability(request.staff, Capability.MANAGE_COMMUNITIES),
        },
    )


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def organization_settings(request: HtmxHttpRequest):
    can_manage = has_capability(request.staff, Capability.MANAGE_ORGANIZATION)
    return render(
        request,
        "communities/settings.html",
        {
            "nav": "settings",
            "staff_list": selectors.organization_staff(staff=request.staff) if can_manage else [],
            "worker": worker_status() if can_manage else None,
            "can_manage": can_manage,
            "panels": panels_for(request, request.staff.organization, place=SETTINGS_PAGE),
        },
    )


@require_POST
@staff_required(Capability.MANAGE_ORGANIZATION)
def organization_privacy(request: HtmxHttpRequest):
    keep = request.POST.get("keep_message_text") == "on"
    services.organization_set_privacy(
        organization=request.staff.organization, keep_message_text=keep
    )
    messages.success(request, _("Privacy setting saved."))
    return redirect("settings")


@require_POST
@staff_required(Capability.VIEW_COMMUNITIES)
def organization_switch(request: HtmxHttpRequest):
    """Work in another organisation this user belongs to (chosen in the header)."""
    wanted = request.POST.get("organization", "")
    match = next((s for s in staff_roles(request) if str(s.organization_id) == wanted), None)
    if match is None:
        raise Http404
    request.session[SESSION_ORGANIZATION_KEY] = match.organization_id
    if request.htmx:
        return HttpResponseClientRefresh()
    return redirect(settings.LOGIN_REDIRECT_URL)  # the home page, whichever app has it


# --- Connectors (the webhook API's keys) --------------------------------------------------


def _connectors_page(request, community: Community, form: ConnectorForm, issued=None):
    return render(
        request,
        "communities/connectors.html",
        {
            "nav": "communities",
            "community": community,
            "form": form,
            "connectors": selectors.connector_list(community=community),
            "issued": issued,
            # How a bot sends events (the webhook is activities'): its panel.
            "panels": panels_for(request, community, place=CONNECTORS_PAGE),
            "links": links_for(request, community),
        },
    )


@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_COMMUNITIES)
def connector_list(request: HtmxHttpRequest, community: Community):
    form = ConnectorForm(request.POST or None, initial={"platform": community.platform})
    issued = None
    if request.method == "POST" and form.is_valid():
        issued = services.connector_create(
            community=community, by=request.user, **form.cleaned_data
        )
        form = ConnectorForm(initial={"platform": community.platform})
    # The secret appears in this response only; no page shows it again.
    return _connectors_page(request, community, form, issued)


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def connector_rotate(request: HtmxHttpRequest, community: Community, connector: Connector):
    if connector.community_id != community.pk or connector.revoked_at:
        raise Http404
    issued = services.connector_rotate(connector=connector, by=request.user)
    form = ConnectorForm(initial={"platform": community.platform})
    return _connectors_page(request, community, form, issued)


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def connector_revoke(request: HtmxHttpRequest, community: Community, connector: Connector):
    if connector.community_id != community.pk:
        raise Http404
    services.connector_revoke(connector=connector, by=request.user)
    messages.success(request, _("Connector “%(name)s” revoked.") % {"name": connector.name})
    return redirect("communities:connectors", community_slug=community.slug)
