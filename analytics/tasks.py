from celery import shared_task


@shared_task(name="analytics.promote_tiers", soft_time_limit=1800, time_limit=1900)
def promote_tiers_task() -> dict:
    from analytics.services import tiers_promote_all

    run = tiers_promote_all()
    return {"communities": run.communities, "checked": run.checked, "changed": run.changed}
