"""Helpers of the dispatch and delivery tests: outlets at the stand-in, actions, a queue."""

from __future__ import annotations

from datetime import UTC, datetime

from automations.models import ActionKind, Outlet, ScheduledAction
from automations.services import dispatch

# In the past, so that tasks run on the real clock find these deliveries due.
NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
SECRET = "whsec-e1-test"


def outlet_for(community, standin, *, platform="webhook", name="robot") -> Outlet:
    url = f"{standin.url}/hook/{community.slug}"
    if platform == "wecom":
        url = f"{standin.url}/cgi-bin/webhook/send?key=robot-{community.slug}"
    return Outlet.objects.create(
        community=community, name=name, platform=platform, url=url, secret=SECRET
    )


def groups(org, prefix: str, count: int, standin, *, platform: str = "webhook") -> list:
    """``count`` communities, each with its own outlet at the stand-in."""
    from tests.factories import CommunityFactory

    communities = [
        CommunityFactory(organization=org, slug=f"{prefix}{i}", name=f"{prefix}群{i}")
        for i in range(count)
    ]
    for community in communities:
        outlet_for(community, standin, platform=platform)
    return communities


def action_for(organization, communities, *, due_at=NOW, text="周六读书会 9:00") -> ScheduledAction:
    action = ScheduledAction.objects.create(
        organization=organization, kind=ActionKind.BROADCAST, text=text, due_at=due_at
    )
    action.communities.set(communities)
    return action


class Queue:
    """Stands in for the broker: records each enqueued delivery id (and its task's
    countdown), and each task's ids."""

    def __init__(self):
        self.sent: list[int] = []
        self.countdowns: list[float | None] = []
        self.tasks: list[list[int]] = []

    def apply_async(self, args, countdown=None, **options):
        self.tasks.append(list(args[0]))
        self.sent.extend(args[0])
        self.countdowns.extend([countdown] * len(args[0]))


def install_queue(monkeypatch) -> Queue:
    from automations.tasks import deliver_task

    recorded = Queue()
    monkeypatch.setattr(deliver_task, "apply_async", recorded.apply_async)
    return recorded


def allow_the_standin(settings) -> None:
    settings.CONNECTOR_ALLOW_PRIVATE_URLS = True
    settings.ACTIONS_SEND_TIMEOUT_SECONDS = 2


def run_dispatch(django_capture_on_commit_callbacks, **kwargs) -> dict:
    with django_capture_on_commit_callbacks(execute=True):
        return dispatch.dispatch_due(**kwargs)
