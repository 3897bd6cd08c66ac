from celery import shared_task


@shared_task(name="analytics.promote_tiers", soft_time_limit=1800, time_limit=1900)
def promote_tiers_task() -> dict:
    from analytics.services import tiers_promote_all

    run = tiers_promote_all()
    return {"communities": run.communities, "checked": run.checked, "changed": run.changed}


# Idempotent (rebuilds slices) and cheap to repeat: safe to ack late and to retry.
@shared_task(
    name="analytics.refresh_touched",
    soft_time_limit=600,
    time_limit=660,
    acks_late=True,
    reject_on_worker_lost=True,
)
def refresh_touched_task() -> int:
    from analytics.rollups import rollups_refresh_touched

    return len(rollups_refresh_touched())


@shared_task(
    name="analytics.refresh_all",
    soft_time_limit=3 * 3600,
    time_limit=3 * 3600 + 60,
    acks_late=True,
    reject_on_worker_lost=True,
)
def refresh_all_task() -> int:
    from analytics.rollups import rollups_refresh_all

    return len(rollups_refresh_all())
