"""The activity calendar (活动日历): the rhythm of a community.

Not to be confused with the interaction-event log (``activities.models.ActivityEvent``):
the log records what members did; the calendar records what the community plans —
calendar entries (活动), their occurrences, who was invited, who came, and check-in
challenges (打卡). Attendance and check-ins enter the log through the one ingestion path,
so the dashboards count them.

Layout: ``models`` (the tables, registered with the ``activities`` app), ``recurrence``
(RRULE expansion in the entry's own time zone), ``services`` (writes), ``selectors``
(reads), ``challenges`` (check-ins and settlement), ``ics`` (iCalendar feeds),
``announcement`` (the pre-announcement text), ``forms``, ``views`` and ``urls``.
"""
