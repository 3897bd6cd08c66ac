"""Staff notifications: the bell's count in the layout, the list, marking one or all as
read (htmx and plain forms), nobody else's, and the e-mail in the recipient's language."""

import pytest
from django.urls import reverse
from django.utils.translation import gettext_noop

from communities.models import Notification
from communities.notifications import notify
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
MESSAGE = gettext_noop("Overdue in %(community)s (%(run)s): %(items)s")
SUBJECT = gettext_noop("Checklist items overdue in %(community)s")


def tell(staff, key: str, community: str = "读书会") -> Notification:
    notify(
        recipients=[staff],
        message=MESSAGE,
        subject=SUBJECT,
        params={"community": community, "run": "Daily", "items": "Morning post"},
        url=reverse("checklists:mine"),
        key=key,
    )
    return Notification.objects.get(staff=staff, key=key)


def bell(html: str) -> str:
    start = html.index('id="notification-bell"')
    return html[start : html.index("</a>", start)]


def test_the_bell_counts_unread_notifications(client_for, operator_a):
    client = client_for(operator_a)
    assert "0 unread notifications" in bell(client.get(reverse("notifications")).content.decode())
    tell(operator_a, "one")
    assert '1 unread notification"' in bell(client.get(reverse("overview")).content.decode())
    tell(operator_a, "two")
    tell(operator_a, "two")  # the same key: announced once
    html = client.get(reverse("notifications")).content.decode()
    assert '2 unread notifications"' in bell(html)
    assert 'class="badge" aria-hidden="true">2</span>' in bell(html)
    assert html.count(">Overdue in 读书会 (Daily): Morning post</a>") == 2
    assert f'href="{reverse("checklists:mine")}"' in html


def test_mark_one_then_all_as_read(client_for, operator_a):
    first, _second, _third = (tell(operator_a, key) for key in ("a", "b", "c"))
    client = client_for(operator_a)
    url = reverse("notifications-read")
    response = client.post(url, {"notification": first.pk}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    # The list, and out of band the layout's bell with the new count.
    assert 'id="notification-list"' in html
    assert 'hx-swap-oob="true"' in bell(html) and '2 unread notifications"' in bell(html)
    first.refresh_from_db()
    assert first.read_at is not None
    operator_a.refresh_from_db()
    assert operator_a.unread_notifications == 2

    response = client.post(url)  # no JavaScript, no id: all of them
    assert response.status_code == 302 and response["Location"] == reverse("notifications")
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    operator_a.refresh_from_db()
    assert operator_a.unread_notifications == 0
    html = client.get(reverse("notifications")).content.decode()
    assert "Mark all as read" not in html and '0 unread notifications"' in bell(html)


def test_another_staff_members_notification_is_left_alone(client_for, org_a, operator_a):
    other = StaffFactory(organization=org_a)
    theirs = tell(other, "theirs")
    client = client_for(operator_a)
    response = client.post(reverse("notifications-read"), {"notification": theirs.pk})
    assert response.status_code == 302
    theirs.refresh_from_db()
    other.refresh_from_db()
    assert theirs.read_at is None and other.unread_notifications == 1
    assert "Morning post" not in client.get(reverse("notifications")).content.decode()
    # Bad ids change nothing either.
    for value in ("x", "-1", "99999999999999999999"):
        assert (
            client.post(reverse("notifications-read"), {"notification": value}).status_code == 302
        )
    other.refresh_from_db()
    assert other.unread_notifications == 1


def test_the_email_goes_out_in_the_organisations_language(
    operator_a, mailoutbox, django_capture_on_commit_callbacks
):
    operator_a.organization.language = "zh-hans"
    operator_a.organization.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=True):
        tell(operator_a, "mail")
    (mail,) = mailoutbox
    assert mail.to == [operator_a.user.email]
    assert mail.subject == "读书会 有清单事项逾期"
    assert mail.body.startswith("读书会（Daily）有事项逾期：Morning post")
    assert reverse("checklists:mine") in mail.body


def test_the_pages_need_a_signed_in_staff_member(client):
    response = client.get(reverse("notifications"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert client.post(reverse("notifications-read")).status_code == 302
