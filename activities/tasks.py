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
