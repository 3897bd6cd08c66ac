"""Beat's checklist jobs: thin wrappers over services/runs.py (idempotent, safe twice)."""

from celery import shared_task


@shared_task(name="checklists.open_daily_runs", time_limit=300, soft_time_limit=240)
def open_daily_runs() -> int:
    from checklists.services.runs import daily_runs_open

    return daily_runs_open()


@shared_task(name="checklists.sync_activity_runs", time_limit=600, soft_time_limit=540)
def sync_activity_runs() -> int:
    from checklists.services.runs import activity_runs_sync_all

    return activity_runs_sync_all()


@shared_task(name="checklists.notify_overdue", time_limit=300, soft_time_limit=240)
def notify_overdue() -> int:
    from checklists.services.runs import overdue_notify

    return overdue_notify()
