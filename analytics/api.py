"""The read-only metrics API under ``/api/v1/`` (documented by ``openapi.json``).

Who: ``Authorization: Bearer <key>`` (an ``ApiToken``, see ``communities.tokens``), and
nothing else: a browser's session cookie does not authenticate here. That is what makes
the views' CSRF exemption safe (a cross-site request carries cookies, never the bearer
key), and it lets a POST get the API's JSON 405 rather than Django's HTML CSRF page. The
caller acts as the token's staff member, with that member's current role and
communities: the ``VIEW_ANALYTICS`` capability, and only ``communities_for(staff)``.

Answers (always JSON except the CSV downloads; never a 500 for any input):
200 · 400 ``{"errors": [...]}`` for bad parameters, in the request's language ·
401 ``{"detail": …}`` with ``WWW-Authenticate: Bearer`` · 403 without the capability ·
404 for a community the caller may not see (or that does not exist) · 405 for non-GET.
Everything reads rollups only.
"""

from collections.abc import Callable
from datetime import date, timedelta
from functools import wraps

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from analytics import openapi, selectors, serializers
from analytics.metrics import INTERVALS
from communities.models import Community, Staff
from communities.permissions import Capability, communities_for, has_capability
from communities.tokens import authenticate
from communities.validators import BoundedDateField, validate_date_in_range
from members.transfer import csv_download

DEFAULT_DAYS = 90  # from … to, both included
MAX_RANGE_DAYS = 366 * 5
DATE_FORMATS = ["%Y-%m-%d"]


# --- Parameters --------------------------------------------------------------------------


class MetricsQuery(forms.Form):
    """``from`` / ``to`` (YYYY-MM-DD, default the last 90 days to the community's today)
    and ``interval``; shared with ``manage.py export_metrics``."""

    interval = forms.ChoiceField(choices=[(i, i) for i in INTERVALS], required=False)

    def __init__(self, data, *, today: date):
        super().__init__(data)
        self.today = today
        # "from" is a Python keyword, hence not a class attribute.
        self.fields["from"] = BoundedDateField(required=False, input_formats=DATE_FORMATS)
        self.fields["to"] = BoundedDateField(required=False, input_formats=DATE_FORMATS)
        self.order_fields(["from", "to", "interval"])

    def clean(self):
        cleaned = super().clean()
        # A misspelt parameter (?form=…) would otherwise be ignored without a word.
        unknown = sorted(set(self.data) - set(self.fields))
        if unknown:
            self.add_error(
                None,
                _("Unknown parameter: %(names)s.")
                % {"names": ", ".join(f"“{name[:40]}”" for name in unknown)},
            )
        if self.errors:
            return cleaned
        end = cleaned.get("to") or self.today
        start = cleaned.get("from") or end - timedelta(days=DEFAULT_DAYS - 1)
        # The default start is computed, so it is checked here as well as by the fields.
        validate_date_in_range(start)
        if start > end:
            raise ValidationError(_("“from” must not be after “to”."))
        if (end - start).days >= MAX_RANGE_DAYS:
            raise ValidationError(
                _("Ask for at most %(days)s days at a time.") % {"days": MAX_RANGE_DAYS}
            )
        cleaned.update(start=start, end=end, interval=cleaned.get("interval") or "week")
        return cleaned

    def error_list(self) -> list[str]:
        errors = []
        for name, messages in self.errors.items():
            for message in messages:
                errors.append(message if name == "__all__" else f"{name}: {message}")
        return errors


def parse_metrics_query(data, *, today: date) -> tuple[tuple[date, date, str] | None, list[str]]:
    """``((start, end, interval), [])`` or ``(None, [translated errors])``."""
    form = MetricsQuery(data, today=today)
    if not form.is_valid():
        return None, form.error_list()
    return (form.cleaned_data["start"], form.cleaned_data["end"], form.cleaned_data["interval"]), []


# --- Answers and authentication ------------------------------------------------------------


def _json(data, status: int = 200) -> HttpResponse:
    return HttpResponse(
        serializers.to_json(data), status=status, content_type="application/json; charset=utf-8"
    )


def _detail(status: int, message: str) -> HttpResponse:
    return _json({"detail": str(message)}, status=status)


def _unauthorized() -> HttpResponse:
    response = _detail(401, _("Send a valid API token: “Authorization: Bearer <key>”."))
    response["WWW-Authenticate"] = 'Bearer realm="CommunityOps"'
    return response


def _not_found() -> HttpResponse:
    return _detail(404, _("No such community."))


def api_staff(request: HttpRequest) -> Staff | None:
    """The staff member a request acts as: its bearer token's; never its session's."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _space, key = header.strip().partition(" ")
    return authenticate(key.strip()) if scheme.lower() == "bearer" else None


def api_view(capability: Capability | None = Capability.VIEW_ANALYTICS) -> Callable:
    """GET only; with a capability, the bearer token of a staff member who has it.

    CSRF-exempt: no cookie authenticates here (``api_staff``), and nothing but GET is
    served, so a forged cross-site request can neither act nor read as anyone."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in ("GET", "HEAD"):
                response = _detail(405, _("Only GET is allowed here."))
                response["Allow"] = "GET, HEAD"
                return response
            if capability is not None:
                request.staff = api_staff(request)
                if request.staff is None:
                    return _unauthorized()
                # As staff_required: a community out of reach is a 404 before any role
                # check, so a 403 never confirms that it exists.
                if "community_slug" in kwargs:
                    community = _community(request.staff, kwargs.pop("community_slug"))
                    if community is None:
                        return _not_found()
                    kwargs["community"] = community
                if not has_capability(request.staff, capability):
                    return _detail(403, _("Your role may not read analytics."))
            response = view(request, *args, **kwargs)
            if capability is not None:
                patch_vary_headers(response, ["Authorization", "Cookie"])
                patch_cache_control(response, private=True, no_store=True)
            return response

        wrapped.api_capability = capability  # token-authenticated: not staff_required
        return wrapped

    return decorator


def _community(staff: Staff, slug: str) -> Community | None:
    return communities_for(staff).filter(slug=slug).first()


# --- Endpoints ------------------------------------------------------------------------------


@api_view()
def communities(request: HttpRequest) -> HttpResponse:
    visible = list(communities_for(request.staff).filter(archived=False).order_by("name", "pk"))
    return _json({"communities": serializers.community_list_data(visible)})


@api_view()
def community_metrics(request: HttpRequest, community: Community) -> HttpResponse:
    params, errors = parse_metrics_query(request.GET, today=community.local_today())
    if errors:
        return _json({"errors": errors}, status=400)
    start, end, interval = params
    return _json(
        serializers.community_metrics(community=community, start=start, end=end, interval=interval)
    )


# Downloads follow the pages' rule: exporting needs EXPORT_DATA (owners, managers).
@api_view(capability=Capability.EXPORT_DATA)
def metric_csv(request: HttpRequest, community: Community, metric: str) -> HttpResponse:
    if metric not in serializers.CSV_METRICS:
        return _not_found()
    params, errors = parse_metrics_query(request.GET, today=community.local_today())
    if errors:
        return _json({"errors": errors}, status=400)
    start, end, interval = params
    section = serializers.metric_section(
        community=community, metric=metric, start=start, end=end, interval=interval
    )
    header, rows = serializers.csv_table(metric, section)
    response, writer = csv_download(
        f"{community.slug}-{metric}-{start.isoformat()}-{end.isoformat()}.csv"
    )
    writer.writerow(header)
    writer.writerows(rows)
    return response


@api_view()
def portfolio(request: HttpRequest) -> HttpResponse:
    rows = selectors.portfolio(staff=request.staff)
    return _json({"communities": serializers.portfolio_data(rows)})


@api_view(capability=None)
def openapi_document(request: HttpRequest) -> HttpResponse:
    return _json(openapi.document())
