"""Every periodic task, in one place. Each entry says when it fires.

``expires`` drops a run that waited in the queue longer than its period, so a backlog
(a worker down for an hour) never piles up duplicates.
"""

from celery.schedules import crontab


def beat_schedule(heartbeat_seconds: float) -> dict:
    return {
        # Every minute: rollups of the (community, day) pairs that ingestion touched.
        "refresh-touched-rollups": {
            "task": "analytics.refresh_touched",
            "schedule": 60.0,
            "options": {"expires": 60},
        },
        # 03:00 every night: every rollup rebuilt from the event log (the safety net).
        "refresh-all-rollups": {
            "task": "analytics.refresh_all",
            "schedule": crontab(hour=3, minute=0),
            "options": {"expires": 6 * 3600},
        },
        # 03:30 every night (TIME_ZONE, Asia/Shanghai by default): tier promotion.
        "promote-tiers": {
            "task": "analytics.promote_tiers",
            "schedule": crontab(hour=3, minute=30),
            "options": {"expires": 6 * 3600},
        },
        # Every hour at :10: attendance closed a day after ticked occurrences ended.
        "close-attendance": {
            "task": "activities.close_attendance",
            "schedule": crontab(minute=10),
            "options": {"expires": 3600},
        },
        # Every ten minutes: check-in challenges whose last daily deadline has passed are
        # settled (deposits refunded or forfeited, reward points); a second run does nothing.
        "settle-challenges": {
            "task": "activities.settle_challenges",
            "schedule": 600.0,
            "options": {"expires": 600},
        },
        # Every five minutes: imports whose worker stopped reporting progress for
        # IMPORT_STALE_MINUTES (killed mid-file) are marked failed; a second run does nothing.
        "reap-stale-imports": {
            "task": "activities.reap_stale_imports",
            "schedule": 300.0,
            "options": {"expires": 300},
        },
        # Every ten minutes: each community that uses a daily SOP gets today's run once its
        # local time passes 05:00 (in its own time zone); a second run makes nothing.
        "open-daily-checklists": {
            "task": "checklists.open_daily_runs",
            "schedule": 600.0,
            "options": {"expires": 600},
        },
        # Every hour at :20: activity runs for occurrences starting in the next 15 days
        # (edits of the calendar sync them at once; this keeps recurring series ahead).
        "sync-activity-checklists": {
            "task": "checklists.sync_activity_runs",
            "schedule": crontab(minute=20),
            "options": {"expires": 3600},
        },
        # Every five minutes: checklist items that fell due undone are announced to their
        # assignee and the operators (in the layout and by e-mail), once per item.
        "notify-overdue-checklists": {
            "task": "checklists.notify_overdue",
            "schedule": 300.0,
            "options": {"expires": 300},
        },
        # Every 5 s: due scheduled actions claimed and their deliveries enqueued; pending
        # deliveries the queue lost (a Redis flush, a dead worker) enqueued again.
        "dispatch-due-actions": {
            "task": "automations.dispatch_due_actions",
            "schedule": 5.0,
            "options": {"expires": 5},
        },
        # Every minute: broadcasts' occurrences of the next 36 hours planned as scheduled
        # actions, once each (a second run or a second beat makes nothing).
        "plan-broadcasts": {
            "task": "automations.plan_broadcasts",
            "schedule": 60.0,
            "options": {"expires": 60},
        },
        # Every hour at :25: event announcements of the next 15 days (calendar edits sync
        # them at once; this keeps recurring series covered); a second run makes nothing.
        "sync-announcements": {
            "task": "automations.sync_announcements",
            "schedule": crontab(minute=25),
            "options": {"expires": 3600},
        },
        # Every 30 minutes: communities quiet for more than 24 hours announced to their
        # moderators (and their topic prompt posted), once per silence.
        "nudge-silent-communities": {
            "task": "automations.nudge_silent",
            "schedule": 1800.0,
            "options": {"expires": 1800},
        },
        # Every minute: enabled automation rules on silence, inactivity, missed check-ins,
        # overdue items, tier changes and violations fired, each thing once.
        "run-automation-rules": {
            "task": "automations.run_rules",
            "schedule": 60.0,
            "options": {"expires": 60},
        },
        # Every HEARTBEAT_INTERVAL_SECONDS (60 s by default): proves beat and a worker run.
        "health-heartbeat": {
            "task": "config.heartbeat",
            "schedule": heartbeat_seconds,
            "options": {"expires": heartbeat_seconds},
        },
    }
