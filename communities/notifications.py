"""Staff notifications: written by any app, listed in the layout with a count badge.

``notify`` is the one write path: it stores one row per recipient (once per ``key``, so a
beat task that runs twice announces a thing once), keeps each recipient's unread counter
(``Staff.unread_notifications``, read by the layout without a query) and, after commit,
sends the same text by e-mail through Django's mail backend to recipients who have an
address, in the organisation's language.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.utils import timezone, translation
from django.utils.translation import gettext

from communities.models import Notification, Staff

# How many notifications the layout's list shows.
LIST_LENGTH = 20


def _recount(staff_ids: Iterable[int]) -> None:
    counts = dict(
        Notification.objects.filter(staff_id__in=list(staff_ids), read_at__isnull=True)
        .values_list("staff_id")
        .annotate(n=Count("pk"))
    )
    for staff_id in staff_ids:
        Staff.objects.filter(pk=staff_id).update(unread_notifications=counts.get(staff_id, 0))


def notify(
    *,
    recipients: Iterable[Staff],
    message: str,
    params: dict | None = None,
    url: str = "",
    key: str,
    subject: str = "",
    email: bool = True,
) -> list[Notification]:
    """Notify each active recipient once per ``key``; returns the rows written now.

    ``message`` and ``subject`` are English source strings marked with ``gettext_noop``;
    ``params`` fill their ``%(name)s`` placeholders and must be JSON-serialisable.
    """
    params = params or {}
    by_pk = {staff.pk: staff for staff in recipients if staff.deactivated_at is None}
    if not by_pk:
        return []
    with transaction.atomic():
        already = set(
            Notification.objects.filter(staff_id__in=by_pk, key=key).values_list(
                "staff_id", flat=True
            )
        )
        rows = [
            Notification(staff_id=pk, message=message, params=params, url=url, key=key)
            for pk in by_pk
            if pk not in already
        ]
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        _recount([row.staff_id for row in rows])
    if email and rows:
        staff = [by_pk[row.staff_id] for row in rows]
        transaction.on_commit(lambda: _send_email(staff, subject or message, message, params, url))
    return rows


def _send_email(staff: list[Staff], subject: str, message: str, params: dict, url: str) -> None:
    mails = []
    for person in staff:
        address = person.user.email
        if not address:
            continue
        with translation.override(person.organization.language):
            body = gettext(message) % params
            title = gettext(subject) % params
            if url:
                body = f"{body}\n\n{settings.SITE_URL}{url}"
        mails.append((title, body, settings.DEFAULT_FROM_EMAIL, [address]))
    if mails:
        send_mass_mail(mails, fail_silently=True)


def notification_list(*, staff: Staff) -> list[Notification]:
    """The newest notifications, unread first (one query)."""
    return list(
        Notification.objects.filter(staff=staff).order_by(
            ExpressionWrapper(Q(read_at__isnull=False), output_field=BooleanField()),
            "-created_at",
            "-pk",
        )[:LIST_LENGTH]
    )


def notifications_mark_read(*, staff: Staff, notification_id: int | None = None) -> int:
    """Mark one notification (or, without an id, all) as read; returns how many changed."""
    unread = Notification.objects.filter(staff=staff, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    changed = unread.update(read_at=timezone.now())
    _recount([staff.pk])
    staff.refresh_from_db(fields=["unread_notifications"])
    return changed
