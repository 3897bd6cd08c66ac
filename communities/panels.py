"""What higher apps contribute to communities, without communities importing them.

Dependencies run one way (analytics → activities → members → communities), yet the
community page shows the member pyramid, the matrix shows member counts and a new
community needs its tier ladder. So the higher app registers, in its ``AppConfig.ready``:

- *panels* for the community detail page: a template and a function that builds its
  context from the request and the community (``register_panel``);
- the *member count provider*: community ids in, present members per id out
  (``register_member_count_provider``);
- *setup steps*: what a new community gets from the higher app (members: the default
  ladder), run by ``communities.services.community_create`` inside its transaction
  (``register_setup_step``).

Communities only ever calls what was registered; with nothing registered the pages
simply show no panels and no counts, and a new community is just its row.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.http import HttpRequest

from communities.models import Community

PanelContext = Callable[[HttpRequest, Community], dict | None]
MemberCountProvider = Callable[[list[int]], dict[int, int]]
SetupFunction = Callable[[Community], object]


@dataclass(frozen=True)
class Panel:
    """A section of the community detail page that another app fills.

    ``context`` returns the panel's template context, or None to leave the panel out
    (for instance when the viewer may not see it). It must cost a constant number of
    queries whatever the size of the community: the page pins its query count.
    ``scripts`` are static paths the page loads in its head (e.g. plotly.js for a chart).
    """

    key: str
    template: str
    context: PanelContext
    order: int = 100
    scripts: tuple[str, ...] = ()


@dataclass(frozen=True)
class RenderedPanel:
    key: str
    template: str
    context: dict
    scripts: tuple[str, ...] = ()


_PANELS: dict[str, Panel] = {}


def register_panel(panel: Panel) -> None:
    """Add (or, under the same key, replace) a panel of the community detail page."""
    _PANELS[panel.key] = panel


def registered_panels() -> list[Panel]:
    return sorted(_PANELS.values(), key=lambda panel: (panel.order, panel.key))


def panels_for(request: HttpRequest, community: Community) -> list[RenderedPanel]:
    """The panels to show on this community's page, in order, with their contexts built."""
    rendered = []
    for panel in registered_panels():
        context = panel.context(request, community)
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
