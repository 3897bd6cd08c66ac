"""What answers an alert on the overview, from apps above analytics (automations: a silent
community's topic prompt, a new broadcast), without analytics naming their pages.

A higher app registers, in its ``AppConfig.ready``:

    from analytics.alert_links import AlertLink, register_alert_link
    register_alert_link(AlertLink(key="…", kinds=("silent",), label=…, url=build))

``build(request, community)`` returns the address for this viewer and community, or None
to leave the link out (the viewer may not use it). It must cost no query: the overview
pins its count. Each alert row shows the links registered for its kind ("silent",
"dormant", "sop", "decline", "activation").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest

from communities.models import Community

AlertUrl = Callable[[HttpRequest, Community], str | None]


@dataclass(frozen=True)
class AlertLink:
    key: str
    kinds: tuple[str, ...]
    label: str
    url: AlertUrl
    order: int = 100


@dataclass(frozen=True)
class RenderedAlertLink:
    key: str
    label: str
    url: str


_LINKS: dict[str, AlertLink] = {}


def register_alert_link(link: AlertLink) -> None:
    """Add (or, under the same key, replace) a link that answers alerts of its kinds."""
    _LINKS[link.key] = link


def alert_links(request: HttpRequest, kind: str, community: Community) -> list[RenderedAlertLink]:
    rendered = []
    for link in sorted(_LINKS.values(), key=lambda link: (link.order, link.key)):
        if kind not in link.kinds:
            continue
        url = link.url(request, community)
        if url is not None:
            rendered.append(RenderedAlertLink(link.key, str(link.label), url))
    return rendered
