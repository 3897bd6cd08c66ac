from celery import shared_task


# Imports can be large (a million messages takes about a minute); they run on their own
# queue so that scheduled actions never wait behind one.
@shared_task(name="activities.run_import", soft_time_limit=3600, time_limit=3700)
def run_import_task(run_id: int) -> dict | None:
    from activities.services import import_execute

    run = import_execute(run_id=run_id)
    if run is None:
        return None
    return {"status": run.status, "created": run.events_created}


# Every hour: attendance of occurrences that ended a day ago and were ticked is closed
# (invitations frozen for action power, no-shows marked; closing twice changes nothing).
@shared_task(name="activities.close_attendance")
def close_attendance_task() -> int:
    from activities.calendar.participation import attendance_close_due

    return attendance_close_due()


# Every ten minutes (config/beat.py): challenges whose last deadline has passed are settled.
@shared_task(name="activities.settle_challenges")
def settle_challenges_task() -> int:
    from activities.calendar.challenges import challenges_settle_due

    return challenges_settle_due()


# Every five minutes (config/beat.py): runs whose worker died mid-import are marked failed.
@shared_task(name="activities.reap_stale_imports")
def reap_stale_imports_task() -> int:
    from activities.services import imports_reap_stale

    return imports_reap_stale()
