"""No 500, ever: every URL pattern, driven with hostile input as every role (issue 9).

The walk needs no list of pages or parameters. For every URL pattern of the URLconf
(``tests/urlwalk.py``, shared with the permission tests) it

1. crawls the project as an owner: renders every page that answers GET (and a couple of
   the links with a query string each page offers, so that a drill-down shows its tag
   form), reads its ``<form>`` fields (inputs, selects, textareas, buttons, fields tied to
   a form by ``form=``) and the query names of every ``href`` / ``hx-get`` / ``hx-post`` /
   ``action`` / ``data-*-url``, and files them under the URL they point at: a POST-only
   URL gets the fields of the form that posts to it, wherever that form is shown. An
   empty box is given what a person would type there, so a form is valid but for the
   field under attack;
2. adds the query names the views are known to read (``KNOWN_PARAMETERS``);
3. ``test_no_url_answers_5xx_to_hostile_input``: as owner, operator, manager and
   moderator in turn, GETs and POSTs, with and without ``HX-Request: true``, whose values
   Hypothesis draws (a seed per URL and role, no example database: a failure comes back
   on the next run): what the page offered, with some fields replaced by huge, negative,
   empty, wrong-type, far-date, non-ASCII, very long or NUL-byte values, or hostile
   values alone, or everything hostile at once, or a parameter repeated; files for file
   inputs; the metrics API with the role's bearer token;
4. ``test_no_url_answers_5xx_to_the_values_of_issue_9_in_any_parameter``: deterministic,
   the literal values of issue 9 (``9999-12-31``, ``0001-01-01``,
   ``99999999999999999999``, empty) through every parameter a page offers, one at a time
   (a query parameter alone; a form field with the rest filled in), then through all of
   them at once; every URL with nothing, to htmx; huge and zero ids in every ``<int:…>``
   URL parameter.

Any 5xx (or exception) fails, with the request that caused it; every URL is tried before
the test reports. A URL added later is walked automatically, its forms found as soon as
a page shows them. The API's own walk is tests/analytics/test_api_schemathesis.py.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from html.parser import HTMLParser
from time import perf_counter
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.urls.converters import IntConverter
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from activities.importers.base import IncomingEvent
from activities.ingest import ingest_events
from activities.models import EventSource
from analytics.rollups import rollups_refresh
from communities.models import Community, Role, Staff
from communities.services import connector_create, programme_create, rule_create
from communities.tokens import api_token_create
from members import services as member_services
from members.models import Membership
from tests.factories import MembershipFactory
from tests.urlwalk import ALL_URLS, application_of, import_of, sample_kwargs

pytestmark = pytest.mark.django_db

ROLES = [Role.OWNER, Role.OPERATOR, Role.MANAGER, Role.MODERATOR]

# Query names the views read (also discovered from the pages; listed so that a parameter
# no page links to yet is still tried everywhere).
KNOWN_PARAMETERS = [
    "from", "to", "interval", "cohort", "offset", "week", "group", "sort", "page", "q",
    "community", "programme", "platform", "funnel_role", "stage", "tier", "squad", "tag",
    "role", "status", "inactive", "archived", "format", "next", "language", "organization",
    "token", "filters", "memberships", "action", "name", "slug",
]  # fmt: skip

# The values issue 9 names, tried through every parameter of every URL.
ISSUE_LITERALS = ["9999-12-31", "0001-01-01", "99999999999999999999", ""]
CHOICE_LITERALS = {"99999999999999999999", ""}

HOSTILE_VALUES = [
    *ISSUE_LITERALS,
    "-1",
    "0",
    "-99999999999999999999",
    "9223372036854775808",
    "1e309",
    "NaN",
    "-0",
    "3.5",
    "true",
    "[]",
    "{}",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "2026-02-30",
    "2026-13-01",
    "99999-01-01",
    "\x00",
    "a\x00b",
    "\u202e\u0000\uffff",
    "中文名字",
    "𝕏👍🏽",
    " ",
    "%",
    "%00",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "a\r\nSet-Cookie: x=1",
    "/\\evil.example",
    "//evil.example/",
    "x" * 5000,
    "9" * 5000,
]
# Text a browser can send (UTF-8: no lone surrogates).
TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
VALUES = st.one_of(
    st.sampled_from(HOSTILE_VALUES),
    st.integers().map(str),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.dates().map(date.isoformat),
    st.datetimes().map(lambda d: d.isoformat(timespec="minutes")),
    st.floats().map(str),
    TEXT,
    st.text(st.characters(codec="utf-8"), min_size=300, max_size=3000),
)
UPLOADS = st.one_of(
    st.sampled_from([b"", b"[" * 2000, b'{"messages": [', b"\x00\xff\xfe", b"a,b\n1,2\n"]),
    st.binary(max_size=300),
)

EXAMPLES_PER_URL_AND_ROLE = 5
FOLLOWED_LINKS = 2  # per URL, after the first pass of the crawl


# --- What the pages offer ---------------------------------------------------------------


@dataclass
class FormSpec:
    method: str
    fields: dict[str, list[str]] = field(default_factory=dict)  # name -> values offered
    files: set[str] = field(default_factory=set)
    free_text: set[str] = field(default_factory=set)  # textareas
    choices: set[str] = field(default_factory=set)  # selects, checkboxes, radio buttons


@dataclass
class UrlSpec:
    query: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    forms: list[FormSpec] = field(default_factory=list)


URL_ATTRIBUTES = {"href", "action", "hx-get", "hx-post", "hx-put", "hx-delete", "src"}


class PageParser(HTMLParser):
    """The forms of a page and every URL it mentions (with their query strings)."""

    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[tuple[str, FormSpec]] = []  # (target URL, spec)
        self.urls: list[str] = []
        self._form: FormSpec | None = None
        self._select: tuple[FormSpec, str] | None = None
        self._by_id: dict[str, FormSpec] = {}
        self._elsewhere: list[tuple[str, str, dict]] = []  # fields with form="id"

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        for name, value in attrs.items():
            if (
                name in URL_ATTRIBUTES or (name.startswith("data-") and name.endswith("-url"))
            ) and (value.startswith(("/", "?"))):
                self.urls.append(value)
        if tag == "form":
            target = attrs.get("hx-post") or attrs.get("hx-get") or attrs.get("action") or ""
            method = "post" if "hx-post" in attrs else attrs.get("method", "get").lower()
            self._form = FormSpec(method="post" if method == "post" else "get")
            self._by_id[attrs.get("id", "")] = self._form
            self.forms.append((target or self.page_url, self._form))
            return
        if tag == "option" and self._select:
            form, name = self._select
            form.fields[name].append(attrs.get("value", ""))
            return
        if tag not in ("input", "button", "textarea", "select") or not attrs.get("name"):
            return
        if attrs.get("form"):  # a field outside its form: attached once the page is read
            self._elsewhere.append((attrs["form"], tag, attrs))
        elif self._form is not None:
            self._add_field(self._form, tag, attrs)

    def _add_field(self, form: FormSpec, tag: str, attrs: dict) -> None:
        name = attrs["name"]
        kind = attrs.get("type", "text").lower()
        if kind == "file":
            form.files.add(name)
        elif kind not in ("submit", "image", "reset") or tag == "button":
            values = form.fields.setdefault(name, [])
            if kind in ("checkbox", "radio") or tag == "select":
                form.choices.add(name)
            if kind in ("checkbox", "radio"):
                values.append(attrs.get("value", "on"))
            elif "value" in attrs:
                values.append(attrs["value"])
            elif tag in ("input", "textarea"):
                if tag == "textarea":
                    form.free_text.add(name)
                # An empty box: what a person would type there, so that the rest of a form
                # is valid and a hostile value in one field reaches the code behind it.
                values.append(plausible(kind))
        if tag == "select":
            self._select = (form, name)

    def close(self):
        super().close()
        for form_id, tag, attrs in self._elsewhere:
            if form_id in self._by_id:
                self._add_field(self._by_id[form_id], tag, attrs)
        self._select = None

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def plausible(kind: str) -> str:
    """A value a person would type into an ``<input type=kind>``."""
    yesterday = timezone.localdate() - timedelta(days=1)
    return {
        "date": yesterday.isoformat(),
        "datetime-local": f"{yesterday.isoformat()}T10:00",
        "time": "10:00",
        "number": "1",
        "email": "walk@example.com",
        "url": "https://example.com/",
    }.get(kind, "巡检 walk")


def url_name(url: str) -> tuple[str | None, str]:
    """The URL name a link or form target resolves to, and its query string."""
    parts = urlsplit(url)
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None, parts.query
    return match.view_name, parts.query


def read_page(specs: dict[str, UrlSpec], page_url: str, html: str) -> list[str]:
    """File the page's forms and links under the URLs they point at; returns the links
    that carry a query string."""
    parser = PageParser(page_url)
    parser.feed(html)
    parser.close()
    with_query = []
    for url in parser.urls:
        url = page_url.split("?")[0] + url if url.startswith("?") else url
        name, query = url_name(url)
        if name:
            for key, value in parse_qsl(query, keep_blank_values=True):
                specs[name].query[key].add(value)
            if query:
                with_query.append(url)
    for target, form in parser.forms:
        target = page_url.split("?")[0] + target if target.startswith("?") else target
        name, query = url_name(target)
        if name is None:
            continue
        for key, value in parse_qsl(query, keep_blank_values=True):
            specs[name].query[key].add(value)
        if form.method == "get":
            for key, values in form.fields.items():
                specs[name].query[key].update(values or [""])
        else:
            form.fields.pop("csrfmiddlewaretoken", None)
            specs[name].forms.append(form)
    return with_query


# --- The world the walk runs in ---------------------------------------------------------


@dataclass
class World:
    community: Community
    staff: dict[str, Staff]
    api_keys: dict[str, str]
    specs: dict[str, UrlSpec]
    requests: Counter
    role: str = Role.OWNER


@pytest.fixture
def world(settings, tmp_path, org_a, community_a, owner_a, operator_a, manager_a, moderator_a):
    settings.MEDIA_ROOT = tmp_path
    community = community_a
    moderator_a.communities.add(community)
    today = community.local_today()
    type(community).objects.filter(pk=community.pk).update(created_on=today - timedelta(days=70))
    community.refresh_from_db()
    # Five people active on some days of the last five weeks, through the real ingestion.
    tz = ZoneInfo(community.time_zone)
    events = []
    for n in range(5):
        days = range(n, 35, n + 2)
        for day in days:
            when = datetime.combine(today - timedelta(days=day), time(12), tz)
            kind = "join" if day == days[-1] else "message"  # joined on the first day seen
            events.append(IncomingEvent(f"e{n}-{day}", kind, when, f"wx{n}", f"人{n}"))
    ingest_events(community=community, source=EventSource.IMPORT, events=events)
    rollups_refresh(community=community, days=[today - timedelta(days=d) for d in range(40)])
    memberships = list(Membership.objects.filter(community=community))
    tag = member_services.tag_get_or_create(organization=org_a, kind="other", name="待唤醒")
    member_services.members_tag(memberships=memberships[:2], tag=tag)
    member_services.squad_create(community=community, name="周末组")
    rule_create(by=None, community=community, kind="encouraged", title="分享", points=5)
    rule_create(
        by=None, community=community, kind="forbidden", title="广告", penalty="warning", points=10
    )
    member_services.question_create(
        community=community, kind="choice", prompt="从哪里来?", choices=["朋友", "广告"],
        tag_kind="region",
    )  # fmt: skip
    application_of(community)
    import_of(community)
    connector_create(community=community, name="机器人", platform="wechat", by=owner_a.user)
    programme = programme_create(organization=org_a, name="读书矩阵")
    type(community).objects.filter(pk=community.pk).update(programme=programme)
    staff = {
        Role.OWNER: owner_a,
        Role.OPERATOR: operator_a,
        Role.MANAGER: manager_a,
        Role.MODERATOR: moderator_a,
    }
    # The metrics API takes bearer tokens only: the walk sends the role's key there.
    keys = {role: api_token_create(staff=member, name="BI")[1] for role, member in staff.items()}
    return World(community, staff, keys, specs=defaultdict(UrlSpec), requests=Counter())


def url_for(name, pattern, world: World, **overrides) -> str | None:
    world.community.refresh_from_db()  # a fuzzed edit may have renamed it
    kwargs = {**sample_kwargs(pattern, world.community), **overrides}
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return None


def crawl(client, world: World) -> dict[str, set[str]]:
    """GET every page as owner and read what it offers, then one link with a query string
    per URL (a drill-down with a selection shows its tag form); then probe which URLs take
    a POST, after the reading, since a POST may change what the pages show.

    Returns the methods each URL answers (not 405)."""
    methods: dict[str, set[str]] = defaultdict(set)
    linked: dict[str, set[str]] = defaultdict(set)
    for name, pattern in ALL_URLS:
        url = url_for(name, pattern, world)
        response = send(client, world, "get", url, {}, htmx=False)
        if response.status_code != 405:
            methods[name].add("get")
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            for link in read_page(world.specs, url, response.content.decode()):
                linked[url_name(link)[0]].add(link)
    # Per URL, the few links that ask the most (a drill-down cell rather than the range).
    followed = [
        link
        for links in linked.values()
        for link in sorted(links, key=lambda link: (-link.count("="), link))[:FOLLOWED_LINKS]
    ]
    for link in followed:
        response = send(client, world, "get", link, {}, htmx=False)
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            read_page(world.specs, link, response.content.decode())
    for name, pattern in ALL_URLS:
        response = send(client, world, "post", url_for(name, pattern, world), {}, htmx=False)
        if response.status_code != 405:
            methods[name].add("post")
    for spec in world.specs.values():
        spec.forms = merged(spec.forms)
    return {name: methods[name] or {"get"} for name, _pattern in ALL_URLS}


def merged(forms: list[FormSpec]) -> list[FormSpec]:
    """One form per set of field names (a page repeats the language form, say), with
    every value any of them offered."""
    by_fields: dict[tuple, FormSpec] = {}
    for form in forms:
        key = (tuple(sorted(form.fields)), tuple(sorted(form.files)))
        if key not in by_fields:
            by_fields[key] = FormSpec(
                form.method,
                {k: [] for k in form.fields},
                set(form.files),
                set(form.free_text),
                set(form.choices),
            )
        for name, values in form.fields.items():
            kept = by_fields[key].fields[name]
            kept.extend(v for v in values if v not in kept)
    return list(by_fields.values())


# --- Sending --------------------------------------------------------------------------


def send(client, world: World, method: str, url: str, data: dict, *, htmx: bool, files=None):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    if url.startswith("/api/v1/"):
        headers["HTTP_AUTHORIZATION"] = f"Bearer {world.api_keys[world.role]}"
    payload = dict(data)
    for name, content in (files or {}).items():
        payload[name] = SimpleUploadedFile("export.json", content)
    world.requests[f"{method.upper()} {'htmx' if htmx else 'page'}"] += 1
    # A savepoint per request: a database error in one request must not abort the
    # transaction the rest of the walk runs in (PostgreSQL).
    with transaction.atomic():
        response = getattr(client, method)(url, payload, **headers)
    if response.status_code >= 500:
        raise AssertionError(f"{response.status_code} for {method.upper()} {url} {data!r}")
    session = response.cookies.get(settings.SESSION_COOKIE_NAME)
    if session is not None and not session.value:  # the walk logged itself out
        client.force_login(world.staff[world.role].user)
    return response


def hostile_request(spec: UrlSpec, methods: set[str]):
    """A strategy: (method, htmx, data, files) built from what the page offers."""

    @st.composite
    def build(draw):
        method = draw(st.sampled_from(sorted(methods)))
        htmx = draw(st.booleans())
        form = None
        if method == "post" and spec.forms:
            form = draw(st.sampled_from(spec.forms))
        offered = (
            {k: v or [""] for k, v in form.fields.items()}
            if form
            else {k: sorted(v) or [""] for k, v in spec.query.items()}
        )
        names = sorted({*offered, *KNOWN_PARAMETERS})
        # What the page offers, a query parameter sometimes left out (a link without it).
        data = {}
        for name in sorted(offered):
            if form or draw(st.integers(0, 3)):
                data[name] = draw(st.sampled_from(offered[name]))
        # Then: some fields hostile, or hostile values alone (the rest left to the
        # defaults), or every field hostile, or the page's values as they are.
        mode = draw(st.sampled_from(["some", "some", "alone", "all", "page"]))
        if mode == "alone":
            data = {}
        if mode in ("some", "alone"):
            for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=3)):
                data[name] = draw(VALUES)
        elif mode == "all":
            data = {name: draw(VALUES) for name in names}
        if draw(st.booleans()) and data:  # a repeated parameter (?to=a&to=b)
            name = draw(st.sampled_from(sorted(data)))
            data[name] = [data[name], draw(VALUES)]
        files = {name: draw(UPLOADS) for name in sorted(form.files)} if form else {}
        return method, htmx, data, files

    return build()


# --- The walk -------------------------------------------------------------------------


def hostile_walk(client, world: World, name: str, pattern, spec: UrlSpec, methods: set[str]):
    """A Hypothesis test of one URL: deterministic (a seed from the URL's name and the
    role, no example database), so a failure found in CI is found again by the same
    command, while each URL and role gets its own examples."""

    @seed(zlib.crc32(f"{name} {world.role}".encode()))
    @hypothesis_settings(
        max_examples=EXAMPLES_PER_URL_AND_ROLE,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(request=hostile_request(spec, methods))
    def walk(request):
        method, htmx, data, files = request
        send(client, world, method, url_for(name, pattern, world), data, htmx=htmx, files=files)

    return walk


def each_url(client, world: World, roles, check) -> None:
    """As each of ``roles``, run ``check(name, pattern)`` for every URL pattern; every
    failure is collected (with the request that caused it, as Hypothesis shrank it) and
    reported at the end."""
    failures = []
    for role in roles:
        started = perf_counter()
        world.role = role
        world.requests.clear()
        client.force_login(world.staff[role].user)
        for name, pattern in ALL_URLS:
            try:
                check(name, pattern)
            except Exception as error:  # reported below, then on to the next URL
                notes = "\n".join(getattr(error, "__notes__", []))
                failures.append(f"{name} as {role}: {type(error).__name__}: {error}\n{notes}")
        print(
            f"\n{role}: {len(ALL_URLS)} URL patterns, {sum(world.requests.values())} requests "
            f"{dict(sorted(world.requests.items()))} in {perf_counter() - started:.1f} s"
        )
    assert not failures, "\n\n".join(failures)


def crawled(client, world: World) -> dict[str, set[str]]:
    """Crawl as owner, the role that sees every form."""
    started = perf_counter()
    client.force_login(world.staff[Role.OWNER].user)
    methods = crawl(client, world)
    print(f"\ncrawl: {sum(world.requests.values())} requests in {perf_counter() - started:.1f} s")
    return methods


def test_no_url_answers_5xx_to_hostile_input(world, client):
    """Every URL as each role in turn, in one world (what one role's posts changed, the
    next one finds): a crawl, then Hypothesis's requests per URL and role."""
    methods = crawled(client, world)

    def check(name, pattern):
        hostile_walk(client, world, name, pattern, world.specs[name], methods[name])()

    each_url(client, world, ROLES, check)


def test_no_url_answers_5xx_to_the_values_of_issue_9_in_any_parameter(world, client):
    """Deterministic: the issue's literal values through each parameter a page offers, one
    at a time with the others as offered, then through all of them at once; and huge and
    zero ids through every ``<int:…>`` URL parameter. As owner, who reaches the most code."""
    methods = crawled(client, world)
    assert_the_walk_sees_the_pages(world.specs)

    def check(name, pattern):
        sweep(client, world, name, pattern, world.specs[name], methods[name])

    each_url(client, world, [Role.OWNER], check)


def sweep(client, world, name, pattern, spec: UrlSpec, methods: set[str]) -> None:
    targets = []
    if "get" in methods:
        base = {k: sorted(v)[0] for k, v in spec.query.items()}
        targets.append(("get", base, sorted(spec.query), set()))
    if "post" in methods:
        for form in spec.forms[:2] or [FormSpec("post")]:
            base = {k: (v or [""])[0] for k, v in form.fields.items()}
            # Free text takes any text: the literals are for what is parsed (the walk
            # above sends free text its hostile values).
            names = sorted(set(form.fields) - form.free_text)
            targets.append(("post", base, names, form.choices))
    for method, base, names, choices in targets:
        for value in ISSUE_LITERALS:
            url = url_for(name, pattern, world)
            # One field per row of a formset: the rows are alike. A choice is refused
            # against its options whatever the value: the empty and the huge one do.
            for parameter in one_per_row(names):
                if parameter in choices and value not in CHOICE_LITERALS:
                    continue
                if method == "get":  # alone, as the issue sent them: the rest defaulted
                    send(client, world, method, url, {parameter: value}, htmx=False)
                elif base.get(parameter) != value:  # a form: the rest as a person fills it
                    send(client, world, method, url, {**base, parameter: value}, htmx=False)
            everything = dict.fromkeys({*names, *KNOWN_PARAMETERS}, value)
            send(client, world, method, url, everything, htmx=False)
    for method in sorted(methods):  # nothing at all, to htmx (a partial with no selection)
        send(client, world, method, url_for(name, pattern, world), {}, htmx=True)
    for kwarg, converter in pattern.pattern.converters.items():
        if isinstance(converter, IntConverter):
            for value in (0, 99999999999999999999, 2**63):
                url = url_for(name, pattern, world, **{kwarg: value})
                for method in sorted(methods):
                    send(client, world, method, url, {}, htmx=False)


def one_per_row(names: list[str]) -> list[str]:
    """``rules-0-title``, ``rules-1-title``… are one field of a formset: keep the first."""
    seen, kept = set(), []
    for name in names:
        shape = re.sub(r"-\d+-", "-N-", name)
        if shape not in seen:
            seen.add(shape)
            kept.append(name)
    return kept


def assert_the_walk_sees_the_pages(specs: dict[str, UrlSpec]) -> None:
    """Guards the discovery against silently finding nothing."""
    bulk_fields = {name for form in specs["members:bulk"].forms for name in form.fields}
    assert {"action", "memberships", "tag_kind", "tag_name"} <= bulk_fields
    assert {"from", "to", "interval"} <= set(specs["analytics:community"].query)
    assert {"cohort", "offset", "week", "group"} <= set(specs["analytics:members"].query)
    assert specs["analytics:tag-members"].forms  # from a drill-down the crawl followed
    record = [f for form in specs["activities:record"].forms for f in form.fields]
    assert any(name.endswith("-occurred_at") for name in record)
    assert any(form.files for form in specs["activities:imports"].forms)


# --- The requests issue 9 reported, as they were ------------------------------------------


# (method, URL name, data, htmx, the status expected): a 400 says what is wrong; htmx gets
# 200 with the message in the form, since htmx swaps no error answer.
ISSUE_REQUESTS = [
    ("get", "analytics:community", {"to": "9999-12-31"}, False, 400),
    ("get", "analytics:community", {"to": "0001-01-01"}, False, 400),
    ("get", "analytics:community", {"to": "0001-01-01"}, True, 200),
    ("get", "analytics:chart-csv", {"to": "9999-12-31"}, False, 400),
    ("get", "analytics:members", {"cohort": "9999-12-31", "offset": "12"}, False, 400),
    ("get", "analytics:members", {"week": "0001-01-01", "group": "dormant"}, True, 400),
    ("get", "analytics:members", {}, True, 200),
    ("post", "analytics:tag-members", {"cohort": "9999-12-31", "name": "x"}, False, 400),
    ("post", "members:bulk", {"action": "tag", "tag_kind": "", "tag_name": "x"}, True, 200),
    ("post", "members:bulk", {"action": "tag", "memberships": "99999999999999999999",
                              "tag_kind": "other", "tag_name": "x"}, False, 302),
    ("post", "activities:record", {"occurred_at": "0001-01-01"}, False, 302),
    ("get", "api:metrics", {"to": "0001-01-01"}, False, 400),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "name", "data", "htmx", "status"),
    ISSUE_REQUESTS,
    ids=[f"{m}-{n}-{'&'.join(d)}-{'htmx' if h else 'page'}" for m, n, d, h, _ in ISSUE_REQUESTS],
)
def test_the_requests_issue_9_reported_are_answered_with_the_reason(
    method, name, data, htmx, status, client_for, owner_a, community_a
):
    membership = MembershipFactory(community=community_a)
    _token, key = api_token_create(staff=owner_a, name="BI")
    if name == "members:bulk":
        data = {"memberships": str(membership.pk), **data}
    if name == "activities:record":  # the profile's form fields carry the membership's prefix
        prefix = f"a{membership.pk}"
        data = {f"{prefix}-kind": "attend", f"{prefix}-occurred_at": data["occurred_at"]}
    url = reverse(name, kwargs=sample_kwargs(dict(ALL_URLS)[name], community_a))
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    if name.startswith("api:"):
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    response = getattr(client_for(owner_a), method)(url, data, **headers)
    assert response.status_code == status
