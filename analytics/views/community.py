"""One community's analytics: core indicators, stage, charts, drill-down, CSV per chart.

Everything reads the rollups through the query units of ``analytics.metrics`` (and, for
the drill-down, ``MemberDay`` + ``Membership``), never ``ActivityEvent``; action power reads
the calendar's closed occurrences and challenges (``metrics.action_report``). The page costs
the same number of queries whatever the size of the group or of the range.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from activities.calendar.recurrence import Slot
from analytics import figures_community as figures
from analytics.forms import DEFAULT_RANGE_DAYS, DrilldownForm, RangeForm, TagMembersForm
from analytics.metrics import (
    ACTION_WINDOW_DAYS,
    LIFECYCLE_GROUPS,
    SOP_WINDOW_DAYS,
    ActionReport,
    CallToAction,
    Indicators,
    Retention,
    action_report,
    activity_series,
    health,
    indicators,
    lifecycle,
    lifecycle_conditions,
    pyramid_series,
    retention,
    sop_completion,
)
from analytics.models import CommunityDay, MemberDay
from communities.models import Community
from communities.permissions import Capability, has_capability, staff_required
from communities.shortcuts import HtmxHttpRequest
from members import services as member_services
from members.models import Membership, MembershipStatus, PlatformHandle, TagKind
from members.transfer import csv_download, neutralise

TEMPLATE = "analytics/community.html"
COMPARE_DAYS = 30  # core indicators: the range's end day against this many days earlier
DRILLDOWN_SHOWN = 200  # names listed; the count and the tag action cover every member


def _wants_partial(request: HtmxHttpRequest) -> bool:
    return bool(
        request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request
    )


def _errors_text(*forms) -> str:
    return " ".join(
        str(error) for form in forms for errors in form.errors.values() for error in errors
    )


# --- Core indicators with period-over-period change -----------------------------------------


@dataclass(frozen=True)
class IndicatorRow:
    key: str
    label: str
    value: float | int | None
    previous: float | int | None
    kind: str  # "count", "decimal" or "share" (a ratio shown in percent)

    @staticmethod
    def show(value, kind: str) -> str:
        if value is None:
            return "—"
        if kind == "share":
            return f"{value * 100:.1f}%"
        if kind == "decimal":
            return f"{value:.2f}"
        return str(value)

    @property
    def value_text(self) -> str:
        return self.show(self.value, self.kind)

    @property
    def previous_text(self) -> str:
        return self.show(self.previous, self.kind)

    @property
    def change(self) -> float | None:
        """Shares change in percentage points, everything else in percent."""
        if self.value is None or self.previous is None:
            return None
        if self.kind == "share":
            return (self.value - self.previous) * 100
        if not self.previous:
            return None
        return (self.value - self.previous) / self.previous * 100

    @property
    def direction(self) -> str:
        change = self.change
        if change is None or abs(change) < 0.05:
            return "flat"
        return "up" if change > 0 else "down"

    @property
    def change_text(self) -> str:
        change = self.change
        if change is None:
            return "—"
        if self.kind == "share":
            return _("%(change)s pts") % {"change": f"{change:+.1f}"}
        return f"{change:+.1f}%"


def indicator_rows(now: Indicators, before: Indicators) -> list[IndicatorRow]:
    def row(key: str, label: str, kind: str = "count") -> IndicatorRow:
        return IndicatorRow(key, label, getattr(now, key), getattr(before, key), kind)

    return [
        row("members", _("Members")),
        row("dau", _("Daily active (DAU)")),
        row("wau", _("Weekly active (WAU)")),
        row("mau", _("Monthly active (MAU)")),
        row("stickiness", _("Stickiness (DAU / MAU)"), "share"),
        row("interaction_frequency", _("Interaction frequency"), "decimal"),
        row("mainstream", _("Mainstream members")),
        row("mainstream_share", _("Mainstream share"), "share"),
    ]


def percent_change(change: float | None) -> str:
    return "—" if change is None else f"{change * 100:+.1f}%"


# --- Tables beside the charts ---------------------------------------------------------------


def retention_rows(result, link: Callable[[dict], str]) -> list[dict]:
    rows = []
    for cohort in result.cohorts:
        week = cohort.week.isoformat()
        cells = [
            {
                "offset": offset,
                "retained": kept,
                "rate": None if rate is None else f"{rate * 100:.0f}%",
                "url": link({"cohort": week, "offset": offset}),
            }
            for offset, (kept, rate) in enumerate(zip(cohort.retained, cohort.rates, strict=True))
        ]
        rows.append(
            {"week": week, "size": cohort.size, "url": link({"cohort": week}), "cells": cells}
        )
    return rows


def lifecycle_rows(weeks, link: Callable[[dict], str]) -> list[dict]:
    return [
        {
            "week": week.week.isoformat(),
            "active": week.active,
            "groups": [
                {
                    "group": group,
                    "count": getattr(week, group),
                    "url": link({"week": week.week.isoformat(), "group": group}),
                }
                for group in LIFECYCLE_GROUPS
            ],
        }
        for week in weeks
    ]


# --- Action power -----------------------------------------------------------------------------


def call_kind_label(kind: str) -> str:
    return {"occurrence": _("Event"), "challenge_day": _("Challenge day")}[kind]


def value_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def call_url(call: CallToAction) -> str:
    """The occurrence's or the challenge's page ("" while the calendar has no such page)."""
    try:
        if call.challenge_id is not None:
            return reverse("activities:challenge", args=[call.challenge_id])
        start = call.original_start
        key = Slot(call.entry_id, start, start, start).key()
        return reverse("activities:occurrence", args=[key])
    except NoReverseMatch:
        return ""


def call_rows(calls: list[CallToAction]) -> list[dict]:
    return [
        {
            "url": call_url(call),
            "day": call.day,
            "kind": call.kind,
            "kind_label": call_kind_label(call.kind),
            "title": call.title,
            "participants": call.participants,
            "invited": call.invited,
            "ratio": IndicatorRow.show(call.ratio, "share"),
        }
        for call in reversed(calls)  # the latest first
    ]


def action_context(report: ActionReport) -> dict:
    power = report.power
    completion = power.check_in_completion
    return {
        "action": power,
        "action_window_start": power.day - timedelta(days=ACTION_WINDOW_DAYS - 1),
        "action_index_text": IndicatorRow.show(power.action_index, "share"),
        "community_value_text": value_text(power.community_value),
        "completion": completion,
        "check_in_text": IndicatorRow.show(completion.rate, "share"),
        "action_chart": figures.action_figure(points=report.trend),
        "action_calls": call_rows(report.calls),
        "action_trend_rows": [
            (point.day, point.calls, IndicatorRow.show(point.action_index, "share"))
            for point in report.trend
        ],
    }


def _page_context(request: HtmxHttpRequest, community: Community, form: RangeForm) -> dict:
    context = {
        "nav": "analytics",
        "community": community,
        "form": form,
        "can_export": has_capability(request.staff, Capability.EXPORT_DATA),
        "can_manage": has_capability(request.staff, Capability.MANAGE_COMMUNITIES),
        "lifecycle_labels": figures.lifecycle_labels(),
    }
    if not form.is_valid():
        return context
    start, end, interval = form.start, form.end, form.chosen_interval
    members_url = reverse("analytics:members", args=[community.slug])
    range_query = form.query()

    def link(selection: dict) -> str:
        # The range travels along, so that the page without JavaScript keeps it.
        return f"{members_url}?{urlencode({**range_query, **selection})}"

    now = indicators(communities=[community], day=end)
    before = indicators(communities=[community], day=end - timedelta(days=COMPARE_DAYS))
    stage = health(communities=[community], today=end)[community.pk]
    points = activity_series(communities=[community], start=start, end=end, interval=interval)
    cohorts = retention(communities=[community], end=end)
    # No cohort rows for the weeks before anybody joined (they count nobody).
    first = next((i for i, cohort in enumerate(cohorts.cohorts) if cohort.size), 0)
    cohorts = Retention(cohorts=cohorts.cohorts[first:], curve=cohorts.curve)
    weeks = lifecycle(communities=[community], start=start, end=end)
    tiers = pyramid_series(community=community, start=start, end=end)
    report = action_report(community=community, start=start, end=end, members=now.members)
    context.update(action_context(report))
    sop = sop_completion(communities=[community], day=end)[community.pk]
    context.update(
        {
            "sop": sop,
            "sop_window_start": end - timedelta(days=SOP_WINDOW_DAYS - 1),
        }
    )
    context.update(
        {
            "range_query": urlencode(range_query),
            "start": start,
            "end": end,
            "interval": interval,
            "compare_day": before.day,
            "indicators": indicator_rows(now, before),
            "stage": stage,
            "events_change": percent_change(stage.events_change),
            "members_change": percent_change(stage.members_change),
            "wau_share": IndicatorRow.show(stage.wau_share, "share"),
            "members_url": members_url,
            "activity_chart": figures.activity_figure(points=points, interval=interval),
            "activity_rows": [
                (figures.period_label(p.start, interval), p.events, p.active) for p in points
            ],
            "has_activity": any(p.events for p in points),
            "retention_chart": figures.retention_heatmap_figure(retention=cohorts),
            "retention_curve_chart": figures.retention_curve_figure(retention=cohorts),
            "retention_rows": retention_rows(cohorts, link),
            "retention_offsets": list(range(len(cohorts.curve))),
            "retention_curve": [IndicatorRow.show(rate, "share") for rate in cohorts.curve],
            "lifecycle_chart": figures.lifecycle_figure(weeks=weeks),
            "lifecycle_rows": lifecycle_rows(weeks, link),
            "pyramid_chart": figures.pyramid_over_time_figure(series=tiers),
            "pyramid_tiers": [name for _rank, name, _counts in tiers["tiers"]],
            "pyramid_rows": [
                (day, [counts[index] for _rank, _name, counts in tiers["tiers"]])
                for index, day in enumerate(tiers["days"])
            ],
        }
    )
    return context


@require_GET
@vary_on_headers("HX-Request")
@staff_required(Capability.VIEW_ANALYTICS)
def community_analytics(request: HtmxHttpRequest, community: Community):
    today = community.local_today()
    data, quiet_since = request.GET, None
    if not (request.GET.get("from") or request.GET.get("to")):
        # An imported history that ended long ago: open on the range ending at its last
        # activity, and say so, rather than on 90 empty days.
        last = (
            CommunityDay.objects.filter(community=community, events__gt=0)
            .order_by("-day")
            .values_list("day", flat=True)
            .first()
        )
        if last is not None and last < today - timedelta(days=DEFAULT_RANGE_DAYS - 1):
            data, quiet_since = {**request.GET.dict(), "to": last.isoformat()}, last
    form = RangeForm(data, today=today)
    context = _page_context(request, community, form)
    if quiet_since is not None:
        context["quiet_since"] = quiet_since
        context["current_range_query"] = urlencode({"to": today.isoformat()})
        context["default_range_days"] = DEFAULT_RANGE_DAYS
    # A bad range is a 400 page; to htmx it answers 200, since htmx swaps no error response
    # and the form must show what is wrong.
    status = 200 if form.is_valid() or request.htmx else 400
    if _wants_partial(request):
        return render(request, f"{TEMPLATE}#analytics-body", context, status=status)
    return render(request, TEMPLATE, context, status=status)


# --- Drill-down: the members behind a retention cell or a lifecycle bar ----------------------


def _active_in_week(community: Community, week: date) -> Exists:
    return Exists(
        MemberDay.objects.filter(
            community=community,
            member_id=OuterRef("member_id"),
            day__gte=week,
            day__lt=week + timedelta(weeks=1),
        )
    )


def drilldown_memberships(
    *,
    community: Community,
    cohort: date | None = None,
    offset: int | None = None,
    week: date | None = None,
    group: str | None = None,
) -> list[Membership]:
    """The memberships behind one cell or bar, by the definitions of docs/metrics.md, in one
    query (from ``MemberDay`` and ``Membership``, as the rollups count them).

    ``cohort`` (a Monday): who joined that week; with ``offset`` k, those of them active
    in week cohort + k. ``week`` P and ``group``: the group's members by
    ``metrics.LIFECYCLE_RULES``, the definition the lifecycle rollup counts by.
    """
    memberships = Membership.objects.filter(community=community)
    if cohort is not None:
        memberships = memberships.filter(
            joined_on__gte=cohort, joined_on__lt=cohort + timedelta(weeks=1)
        ).exclude(status=MembershipStatus.APPLICANT)
        if offset is not None:
            memberships = memberships.filter(
                _active_in_week(community, cohort + timedelta(weeks=offset))
            )
    elif week is not None:
        memberships = memberships.filter(
            *lifecycle_conditions(community=community, week=week, group=group)
        )
    else:
        return []
    return list(
        memberships.select_related("member")
        .only("pk", "member_id", "member__display_name")
        .order_by("member__display_name", "pk")
    )


def drilldown_title(data: dict) -> str:
    if data.get("cohort"):
        cohort = data["cohort"]
        if data.get("offset") is None:
            return _("Joined in the week of %(week)s") % {"week": cohort.isoformat()}
        offset = data["offset"]
        return _(
            "Joined in the week of %(week)s, active in week %(offset)s (the week of %(active)s)"
        ) % {
            "week": cohort.isoformat(),
            "offset": offset,
            "active": (cohort + timedelta(weeks=offset)).isoformat(),
        }
    week = data["week"].isoformat()
    return {
        "new": _("New in the week of %(week)s: first activity ever"),
        "returning": _("Returning in the week of %(week)s: active this week and the week before"),
        "resurrecting": _(
            "Resurrecting in the week of %(week)s: active again after at least a week away"
        ),
        "dormant": _("Dormant in the week of %(week)s: active the week before, not this week"),
    }[data["group"]] % {"week": week}


def _with_platform_ids(memberships: list[Membership]) -> None:
    """Each shown membership's ``platform_ids`` (its member's ids on the platforms), so
    that two people of one name can be told apart: one query for the whole list."""
    ids: dict[int, list[str]] = {}
    if memberships:
        for member_id, external_id in (
            PlatformHandle.objects.filter(member_id__in={m.member_id for m in memberships})
            .order_by("pk")
            .values_list("member_id", "external_id")
        ):
            ids.setdefault(member_id, []).append(external_id)
    for membership in memberships:
        membership.platform_ids = ids.get(membership.member_id, [])


def _drilldown_context(community: Community, form: DrilldownForm) -> dict:
    if form.is_empty:
        return {"drilldown": None}
    data = form.cleaned_data
    memberships = drilldown_memberships(
        community=community,
        cohort=data.get("cohort"),
        offset=data.get("offset"),
        week=data.get("week"),
        group=data.get("group") or None,
    )
    selection = form.selection_query()
    shown = memberships[:DRILLDOWN_SHOWN]
    _with_platform_ids(shown)
    return {
        "drilldown": {
            "title": drilldown_title(data),
            "count": len(memberships),
            "memberships": shown,
            "truncated": len(memberships) > DRILLDOWN_SHOWN,
            "selection": selection,
            "query": urlencode(selection),
        },
    }


def _tag_form_initial(form: DrilldownForm) -> TagMembersForm:
    data = form.cleaned_data
    week = data.get("cohort") or data.get("week")
    initial = {**form.selection_query(), "name": _("Re-engage %(week)s") % {"week": week}}
    return TagMembersForm(initial=initial)


@require_GET
@vary_on_headers("HX-Request")
@staff_required(Capability.VIEW_ANALYTICS)
def drilldown_members(request: HtmxHttpRequest, community: Community):
    """The members of a cell or bar: a partial to htmx, else the page with the list open."""
    form = DrilldownForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(_errors_text(form), content_type="text/plain; charset=utf-8")
    context = _drilldown_context(community, form)
    can_manage = has_capability(request.staff, Capability.MANAGE_COMMUNITIES)
    context.update({"community": community, "can_manage": can_manage})
    if context["drilldown"] and can_manage:
        context["tag_form"] = _tag_form_initial(form)
    if _wants_partial(request):
        return render(request, f"{TEMPLATE}#drilldown", context)
    range_form = RangeForm(request.GET, today=community.local_today())
    page = _page_context(request, community, range_form)
    page.update(context)
    return render(request, TEMPLATE, page, status=200 if range_form.is_valid() else 400)


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def tag_members(request: HtmxHttpRequest, community: Community):
    """Tag everyone behind a drill-down (re-engagement): the selection is recomputed here."""
    selection = DrilldownForm(request.POST)
    if not selection.is_valid() or selection.is_empty:
        message = _errors_text(selection) or _("Choose the members to tag first.")
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    form = TagMembersForm(request.POST)
    if not form.is_valid():
        context = {"community": community, "can_manage": True, "tag_form": form}
        context.update(_drilldown_context(community, selection))
        if _wants_partial(request):
            return render(request, f"{TEMPLATE}#drilldown", context)
        page = _page_context(request, community, RangeForm({}, today=community.local_today()))
        page.update(context)
        return render(request, TEMPLATE, page)
    memberships = drilldown_memberships(
        community=community,
        cohort=selection.cleaned_data.get("cohort"),
        offset=selection.cleaned_data.get("offset"),
        week=selection.cleaned_data.get("week"),
        group=selection.cleaned_data.get("group") or None,
    )
    with transaction.atomic():
        tag = member_services.tag_get_or_create(
            organization=community.organization, kind=TagKind.OTHER, name=form.cleaned_data["name"]
        )
        member_services.members_tag(memberships=memberships, tag=tag)
    text = ngettext(
        "Tagged %(count)s member with “%(tag)s”.",
        "Tagged %(count)s members with “%(tag)s”.",
        len(memberships),
    ) % {"count": len(memberships), "tag": tag.name}
    if not _wants_partial(request):
        messages.success(request, text)
        url = reverse("analytics:members", args=[community.slug])
        return redirect(f"{url}?{urlencode(selection.selection_query())}#drilldown")
    context = {"community": community, "tagged_text": text, "tag": tag}
    return render(request, f"{TEMPLATE}#tag-result", context)


# --- CSV, one file per chart --------------------------------------------------------------


def _activity_rows(community: Community, form: RangeForm) -> Iterable[list]:
    yield ["period_start", "events", "active_members"]
    for point in activity_series(
        communities=[community], start=form.start, end=form.end, interval=form.chosen_interval
    ):
        yield [point.start.isoformat(), point.events, point.active]


def _retention_rows(community: Community, form: RangeForm) -> Iterable[list]:
    yield ["cohort_week", "cohort_size", "weeks_after_joining", "retained", "rate"]
    for cohort in retention(communities=[community], end=form.end).cohorts:
        for offset, (kept, rate) in enumerate(zip(cohort.retained, cohort.rates, strict=True)):
            yield [
                cohort.week.isoformat(),
                cohort.size,
                offset,
                "" if kept is None else kept,
                "" if rate is None else round(rate, 4),
            ]


def _lifecycle_rows(community: Community, form: RangeForm) -> Iterable[list]:
    yield ["week", "active", "new", "returning", "resurrecting", "dormant"]
    for week in lifecycle(communities=[community], start=form.start, end=form.end):
        yield [
            week.week.isoformat(),
            week.active,
            week.new,
            week.returning,
            week.resurrecting,
            week.dormant,
        ]


def _pyramid_rows(community: Community, form: RangeForm) -> Iterable[list]:
    yield ["day", "tier_rank", "tier", "members"]
    series = pyramid_series(community=community, start=form.start, end=form.end)
    for index, day in enumerate(series["days"]):
        for rank, name, counts in series["tiers"]:
            yield [day.isoformat(), rank, name, counts[index]]


def _indicator_rows(community: Community, form: RangeForm) -> Iterable[list]:
    yield ["metric", "day", "value", "previous_day", "previous_value"]
    now = indicators(communities=[community], day=form.end)
    before = indicators(communities=[community], day=form.end - timedelta(days=COMPARE_DAYS))
    for row in indicator_rows(now, before):
        yield [row.key, now.day.isoformat(), _csv_number(row.value), before.day.isoformat(),
               _csv_number(row.previous)]  # fmt: skip
    stage = health(communities=[community], today=form.end)[community.pk]
    day = form.end.isoformat()
    for key, value in (
        ("stage", stage.stage),
        ("events_last_28_days", stage.events_28),
        ("events_previous_28_days", stage.events_prev_28),
        ("wau_share", stage.wau_share),
        ("members_28_days_before", stage.members_28_ago),
        ("age_days", stage.age_days),
        (
            "last_activity_at",
            stage.last_activity_at.isoformat() if stage.last_activity_at else "",
        ),
    ):
        yield [key, day, _csv_number(value), "", ""]
    power = action_report(community=community, start=form.end, end=form.end).power
    for key, value in (
        ("action_index", power.action_index),
        ("calls_to_action_last_30_days", power.calls),
        ("community_value", power.community_value),
        ("check_in_completion", power.check_in_completion.rate),
    ):
        yield [key, day, _csv_number(value), "", ""]
    sop = sop_completion(communities=[community], day=form.end)[community.pk]
    for key, value in (
        ("sop_completion", sop.rate),
        ("sop_items_due", sop.due),
        ("sop_items_on_time", sop.on_time),
    ):
        yield [key, day, _csv_number(value), "", ""]


def _action_rows(community: Community, form: RangeForm) -> Iterable[list]:
    yield ["day", "calls_last_30_days", "action_index"]
    report = action_report(community=community, start=form.start, end=form.end)
    for point in report.trend:
        yield [point.day.isoformat(), point.calls, _csv_number(point.action_index)]


def _calls_rows(community: Community, form: RangeForm) -> Iterable[list]:
    """The calls to action behind the index on the range's last day."""
    yield ["day", "kind", "title", "community", "participants", "invited", "ratio"]
    report = action_report(community=community, start=form.end, end=form.end)
    for call in report.calls:
        yield [call.day.isoformat(), call.kind, call.title, community.slug, call.participants,
               call.invited, _csv_number(call.ratio)]  # fmt: skip


def _csv_number(value):
    if value is None:
        return ""
    return round(value, 4) if isinstance(value, float) else value


CHART_ROWS: dict[str, Callable[[Community, RangeForm], Iterable[list]]] = {
    "activity": _activity_rows,
    "retention": _retention_rows,
    "lifecycle": _lifecycle_rows,
    "pyramid": _pyramid_rows,
    "indicators": _indicator_rows,
    "action": _action_rows,
    "calls": _calls_rows,
}


@require_GET
@staff_required(Capability.EXPORT_DATA)
def chart_csv(request: HtmxHttpRequest, community: Community, chart: str):
    """A chart's data as CSV (UTF-8 with BOM, English headers), for the page's range."""
    rows = CHART_ROWS.get(chart)
    if rows is None:
        raise Http404
    form = RangeForm(request.GET, today=community.local_today())
    if not form.is_valid():
        return HttpResponseBadRequest(_errors_text(form), content_type="text/plain; charset=utf-8")
    response, writer = csv_download(
        f"{chart}-{community.slug}-{form.start.isoformat()}-{form.end.isoformat()}.csv"
    )
    for row in rows(community, form):
        # Text may be user data (tier names): neutralise formulas; numbers stay numbers.
        writer.writerow([neutralise(cell) if isinstance(cell, str) else cell for cell in row])
    return response
