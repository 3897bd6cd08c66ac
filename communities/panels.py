"""What higher apps contribute to communities, without communities importing them.

Dependencies run one way (analytics → activities → members → communities), yet the
community page shows the member pyramid, the matrix shows member counts and a new
community needs its tier ladder. So the higher app registers, in its ``AppConfig.ready``:

- *panels*: a template and a function that builds its context from the request and the
  page's object (``register_panel``), for a *place*: the community page
  (``COMMUNITY_PAGE``), its connectors page (``CONNECTORS_PAGE``), the organisation's
  settings page (``SETTINGS_PAGE``), or a place a higher app's page declares for the apps
  above it (members: each membership on a member's profile);
- *links* on a community's pages to a higher app's pages (``register_link``);
- the *member count provider*: community ids in, present members per id out
  (``register_member_count_provider``);
- *setup steps*: what a new community gets from the higher app (members: the default
  ladder), run by ``communities.services.community_create`` inside its transaction
  (``register_setup_step``);
- *member data*: what a higher app holds about a member (activities: the events), as
  sections of the member's export bundle and a step of their erasure
  (``register_member_data``); members' privacy services call whatever is registered.
  A provider may also take part in merging two members (``merge``, in the merge's
  transaction: move that app's rows from the merged member to the kept one, and mark the
  days whose figures change; ``after_merge``, once it has committed: refresh them).

Communities only ever calls what was registered; with nothing registered the pages
simply show no panels, links or counts, and a new community is just its row. So a lower
app's code and templates never name a higher app (tests/config/test_layering.py).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.http import HttpRequest

from communities.models import Community

# The places panels fill, and the object their context gets.
COMMUNITY_PAGE = "communities.community"  # a community's page: the community
CONNECTORS_PAGE = "communities.connectors"  # a community's connectors page: the community
SETTINGS_PAGE = "communities.settings"  # the organisation's settings: the organisation

PanelContext = Callable[[HttpRequest, Any], dict | None]
LinkUrl = Callable[[HttpRequest, Community], str | None]
MemberCountProvider = Callable[[list[int]], dict[int, int]]
SetupFunction = Callable[[Community], object]


@dataclass(frozen=True)
class Panel:
    """A section of a lower app's page that another app fills, at ``place``.

    ``context`` gets the request and the place's object and returns the panel's template
    context (the template reads it as ``panel``), or None to leave the panel out (for
    instance when the viewer may not see it). It must cost a constant number of queries
    whatever the size of the community: the pages pin their query counts.
    ``scripts`` are static paths the page loads in its head (e.g. plotly.js for a chart).
    """

    key: str
    template: str
    context: PanelContext
    order: int = 100
    scripts: tuple[str, ...] = ()
    place: str = COMMUNITY_PAGE


@dataclass(frozen=True)
class RenderedPanel:
    key: str
    template: str
    context: dict
    scripts: tuple[str, ...] = ()


_PANELS: dict[str, Panel] = {}


def register_panel(panel: Panel) -> None:
    """Add (or, under the same key, replace) a panel of a page."""
    _PANELS[panel.key] = panel


def registered_panels(place: str = COMMUNITY_PAGE) -> list[Panel]:
    panels = [panel for panel in _PANELS.values() if panel.place == place]
    return sorted(panels, key=lambda panel: (panel.order, panel.key))


def panels_for(
    request: HttpRequest, obj: Any, *, place: str = COMMUNITY_PAGE
) -> list[RenderedPanel]:
    """The panels to show at ``place`` for ``obj``, in order, with their contexts built."""
    rendered = []
    for panel in registered_panels(place):
        context = panel.context(request, obj)
        if context is not None:
            rendered.append(
                RenderedPanel(
                    key=panel.key,
                    template=panel.template,
                    context=context,
                    scripts=panel.scripts,
                )
            )
    return rendered


def panel_scripts(panels: Iterable[RenderedPanel]) -> list[str]:
    """The static scripts the shown panels need, each once, in order."""
    return list(dict.fromkeys(script for panel in panels for script in panel.scripts))


# --- Links to a higher app's pages ---------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """A link on a community's pages (its page's actions, its connectors page's
    navigation) to a page of another app. ``url`` returns the address for this request
    and community, or None to leave the link out (the viewer may not use it)."""

    key: str
    label: str
    url: LinkUrl
    order: int = 100


@dataclass(frozen=True)
class RenderedLink:
    key: str
    label: str
    url: str


_LINKS: dict[str, Link] = {}


def register_link(link: Link) -> None:
    """Add (or, under the same key, replace) a link on the community's pages."""
    _LINKS[link.key] = link


def links_for(request: HttpRequest, community: Community) -> list[RenderedLink]:
    rendered = []
    for link in sorted(_LINKS.values(), key=lambda link: (link.order, link.key)):
        url = link.url(request, community)
        if url is not None:
            rendered.append(RenderedLink(key=link.key, label=str(link.label), url=url))
    return rendered


def link_for(request: HttpRequest, community: Community, key: str) -> RenderedLink | None:
    """One registered link (say ``activities.imports``), or None when no app registered
    it or the viewer may not use it."""
    link = _LINKS.get(key)
    url = link.url(request, community) if link is not None else None
    return RenderedLink(key=link.key, label=str(link.label), url=url) if url else None


# --- Member counts ---------------------------------------------------------------------------

# Set by the members app: community ids → members present in each (active or lurking).
MEMBER_COUNT_PROVIDER: MemberCountProvider | None = None


def register_member_count_provider(provider: MemberCountProvider) -> None:
    global MEMBER_COUNT_PROVIDER  # one provider, set once at start-up
    MEMBER_COUNT_PROVIDER = provider


def member_counts(community_ids: Iterable[int]) -> dict[int, int] | None:
    """Present members per community id, in one query; None when no app provides counts."""
    if MEMBER_COUNT_PROVIDER is None:
        return None
    ids = list(community_ids)
    if not ids:
        return {}
    counts = MEMBER_COUNT_PROVIDER(ids)
    return {pk: counts.get(pk, 0) for pk in ids}


# --- Setup steps of a new community ---------------------------------------------------------


@dataclass(frozen=True)
class SetupStep:
    """Work a higher app does on every new community, in the transaction that creates it
    (so the community never exists without it). ``run`` gets the saved community."""

    key: str
    run: SetupFunction
    order: int = 100


_SETUP_STEPS: dict[str, SetupStep] = {}


def register_setup_step(step: SetupStep) -> None:
    """Add (or, under the same key, replace) a step run for every new community."""
    _SETUP_STEPS[step.key] = step


def registered_setup_steps() -> list[SetupStep]:
    return sorted(_SETUP_STEPS.values(), key=lambda step: (step.order, step.key))


# --- Member data: export and erasure (privacy requests) ------------------------------------


@dataclass(frozen=True)
class MemberDataSection:
    """One part of a member's export bundle: ``key`` names it (the JSON key and the CSV
    file), ``columns`` its fields, and ``rows`` returns a fresh iterator of dicts each time
    it is called (the bundle reads a section twice: for the JSON and for the CSV), reading
    the database in chunks so a member with millions of rows costs bounded memory."""

    key: str
    columns: tuple[str, ...]
    rows: Callable[[], Iterable[dict]]


@dataclass
class MemberMerge:
    """Two members becoming one (``members.merge.members_merge``), as the merge steps see
    it: ``source`` (merged away, deleted at the end) into ``target`` (kept).
    ``memberships`` maps each of the source's memberships folded into the target's
    membership of the same community to that membership's id (rows of a higher app that
    point at a membership move with it; the other memberships simply change member).
    ``days`` collects, per community id, the local days whose figures change; the steps
    add theirs (activities: the days of the source's events) and the activities step marks
    them all for the rollups."""

    source: Any
    target: Any
    memberships: dict[int, int] = field(default_factory=dict)
    days: dict[int, set[date]] = field(default_factory=dict)


@dataclass(frozen=True)
class MemberData:
    """What a higher app holds about a member (the members app's ``Member``): ``export``
    returns its sections of the bundle; ``erase`` removes what identifies the person, in
    the erasure's transaction, leaving every figure as it was; ``merge`` moves the app's
    rows from ``merge.source`` to ``merge.target`` in the merge's transaction (rows left
    pointing at the source are moved by members itself, or the merge fails);
    ``after_merge`` runs once the merge has committed (analytics: refresh the days)."""

    key: str
    export: Callable[[Any], Iterable[MemberDataSection]] | None = None
    erase: Callable[[Any], object] | None = None
    merge: Callable[[MemberMerge], object] | None = None
    after_merge: Callable[[MemberMerge], object] | None = None
    order: int = 100


_MEMBER_DATA: dict[str, MemberData] = {}


def register_member_data(provider: MemberData) -> None:
    """Add (or, under the same key, replace) a provider of member data."""
    _MEMBER_DATA[provider.key] = provider


def registered_member_data() -> list[MemberData]:
    return sorted(_MEMBER_DATA.values(), key=lambda provider: (provider.order, provider.key))


# --- Landing pages after login -------------------------------------------------------------

# Role → the URL name a user of that role lands on after login when no ``next`` is given
# (checklists: moderators land on My checklists); other roles keep LOGIN_REDIRECT_URL.
_LANDINGS: dict[str, str] = {}


def register_landing(role: str, url_name: str) -> None:
    """Send staff of ``role`` to ``url_name`` after login (replaces an earlier one)."""
    _LANDINGS[role] = url_name


def landing_for(role: str) -> str | None:
    return _LANDINGS.get(role)
