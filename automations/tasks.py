"""The execution contract's two tasks (docs/architecture.md, "Act"): thin, by id.

Retries are rows, not Celery's: ``deliver`` sets the delivery's ``next_attempt_at`` and the
dispatcher enqueues it again when it is due; no ETA or countdown longer than a few seconds.
"""

from celery import shared_task

from automations.services.dispatch import DELIVER_TIME_LIMIT


# Every 5 s (config/beat.py): due actions claimed, their deliveries written and enqueued,
# and the queue rebuilt from the database (after a Redis flush or a worker's death).
@shared_task(name="automations.dispatch_due_actions", soft_time_limit=50, time_limit=60)
def dispatch_due_actions_task() -> dict:
    from automations.services.dispatch import dispatch_due

    return dispatch_due()


# Every minute (config/beat.py): broadcasts' occurrences of the next 36 hours become
# scheduled actions, each once (a second run, or a second beat, makes nothing).
@shared_task(name="automations.plan_broadcasts", soft_time_limit=50, time_limit=60)
def plan_broadcasts_task() -> int:
    from automations.services.plan import plan_broadcasts

    return plan_broadcasts()


# Every hour at :25 (config/beat.py): event announcements of the next 15 days made for
# recurring series (calendar edits sync them at once); a second run makes nothing.
@shared_task(name="automations.sync_announcements", soft_time_limit=600, time_limit=660)
def sync_announcements_task() -> int:
    from automations.services.announcements import announcements_sync_all

    return announcements_sync_all()


# Every 30 minutes (config/beat.py): communities quiet for more than 24 hours announced to
# their moderators, and their topic prompt posted, once per silence.
@shared_task(name="automations.nudge_silent", soft_time_limit=240, time_limit=300)
def nudge_silent_task() -> int:
    from automations.services.nudge import nudge_silent

    return nudge_silent()


# A few deliveries per task, sent one after another (services/deliver.py). acks_late +
# reject_on_worker_lost: a worker killed mid-task hands the message back, and the next run
# reads the rows first (the one left ``sending`` → unknown, never a second send; the rest
# are sent).
@shared_task(
    bind=True,
    name="automations.deliver",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=DELIVER_TIME_LIMIT - 15,
    time_limit=DELIVER_TIME_LIMIT,
)
def deliver_task(self, delivery_ids: list[int] | int) -> dict[int, str]:
    from automations.services.deliver import deliver_many

    if isinstance(delivery_ids, int):  # one id, as the first version of this task took
        delivery_ids = [delivery_ids]
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    return deliver_many(delivery_ids=delivery_ids, redelivered=redelivered)


# Every minute (config/beat.py): enabled automation rules whose trigger is not live-only
# (silence, inactivity, missed check-ins, overdue items, tier changes, violations) scanned
# and fired, each thing once (a second run, or a second beat, fires nothing).
@shared_task(name="automations.run_rules", soft_time_limit=50, time_limit=60)
def run_rules_task() -> int:
    from automations.rules.engine import run_rules

    return run_rules()
