"""Expansion from near the window (recurrence.iteration_start) equals dateutil's from DTSTART.

``recurrence.local_starts`` (and so ``expand``, the month view, the feeds' checks) iterates
a long-running series from a DTSTART moved forward by whole periods. These properties
compare it with the plain expansion (the rule iterated from the series' own start) over
random rules — DAILY / WEEKLY / MONTHLY / YEARLY, INTERVAL, BYDAY with and without an
ordinal (2TU, -1FR), BYMONTHDAY, BYMONTH, UNTIL, COUNT, BYSETPOS, WKST — random starts
(days 29–31 included) and random windows, and through ``expand`` in Europe/Berlin
(daylight saving) and Asia/Shanghai.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil import rrule as du
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from activities.calendar import recurrence

DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
UNTILS = ["20251231T235959", "20270315T120000", "20290101T000000", "20240229T080000"]


@st.composite
def rules(draw) -> str:
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = [f"FREQ={freq}"]
    interval = draw(st.integers(1, 4))
    if interval > 1 or draw(st.booleans()):
        parts.append(f"INTERVAL={interval}")
    if freq in ("MONTHLY", "YEARLY"):
        shape = draw(st.sampled_from(["default", "monthday", "nth", "weekdays"]))
        if shape == "monthday":
            days = draw(st.lists(st.sampled_from([1, 5, 15, 28, 29, 30, 31, -1]), min_size=1,
                                 max_size=2, unique=True))  # fmt: skip
            parts.append("BYMONTHDAY=" + ",".join(map(str, days)))
        elif shape == "nth":
            nth = draw(st.sampled_from([1, 2, 3, 4, -1, -2]))
            parts.append(f"BYDAY={nth}{draw(st.sampled_from(DAYS))}")
        elif shape == "weekdays":
            days = draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=3, unique=True))
            parts.append("BYDAY=" + ",".join(days))
            if draw(st.integers(0, 4)) == 0:
                parts.append(f"BYSETPOS={draw(st.sampled_from([1, 2, -1]))}")
        if freq == "YEARLY" and draw(st.booleans()):
            parts.append(f"BYMONTH={draw(st.integers(1, 12))}")
    else:
        days = draw(st.lists(st.sampled_from(DAYS), max_size=4, unique=True))
        if days:
            parts.append("BYDAY=" + ",".join(days))
        if freq == "DAILY" and draw(st.integers(0, 5)) == 0:
            parts.append(f"BYMONTH={draw(st.integers(1, 12))}")
        if freq == "WEEKLY" and draw(st.integers(0, 4)) == 0:
            parts.append(f"WKST={draw(st.sampled_from(['MO', 'SU', 'WE']))}")
        if freq == "WEEKLY" and len(days) > 1 and draw(st.integers(0, 3)) == 0:
            parts.append(f"BYSETPOS={draw(st.sampled_from([1, 2, -1]))}")
    end = draw(st.sampled_from(["none", "none", "until", "count"]))
    if end == "count":
        parts.append(f"COUNT={draw(st.integers(1, 80))}")
    elif end == "until":
        parts.append("UNTIL=" + draw(st.sampled_from(UNTILS)))
    return ";".join(parts)


starts = st.builds(
    datetime.combine,
    st.dates(min_value=date(2020, 1, 1), max_value=date(2026, 12, 31)),
    st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45])),
)


def plain(text: str, start: datetime, lo: datetime, hi: datetime) -> list[datetime]:
    rule = du.rrulestr(text, dtstart=start, cache=False)
    return [w for w in rule.between(lo, hi, inc=True) if w < hi]


@hsettings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=rules(),
    start=starts,
    offset=st.integers(-60, 2400),
    days=st.integers(1, 70),
    hours=st.integers(0, 23),
)
def test_local_starts_from_near_the_window_are_the_plain_ones(text, start, offset, days, hours):
    lo = start + timedelta(days=offset, hours=hours)
    hi = lo + timedelta(days=days)
    assert recurrence.local_starts(text, start, lo, hi) == plain(text, start, lo, hi)


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=rules(),
    start=starts,
    offset=st.integers(-30, 1500),
    days=st.integers(1, 45),
    minutes=st.sampled_from([30, 60, 24 * 60 + 30]),
    zone=st.sampled_from(["Europe/Berlin", "Asia/Shanghai"]),
)
def test_expand_equals_the_plain_expansion_in_both_zones(text, start, offset, days, minutes, zone):
    tz = ZoneInfo(zone)
    window_start = recurrence.place(start + timedelta(days=offset), tz)
    window_end = window_start + timedelta(days=days)
    shape = recurrence.SeriesShape(1, zone, start.date(), start.time(), minutes, text)
    length = timedelta(minutes=minutes)
    expected = []
    for local in du.rrulestr(text, dtstart=start, cache=False):
        begin = recurrence.place(local, tz)
        if begin >= window_end:
            break
        if begin + length > window_start:
            expected.append((begin, begin + length))
    got = [(s.starts_at, s.ends_at) for s in recurrence.expand([shape], window_start, window_end)]
    assert got == expected


def test_the_start_moves_by_whole_periods_only_where_it_is_safe():
    start = recurrence.local_start(date(2025, 1, 31), time(21, 0))  # a Friday, the 31st
    near = recurrence.local_start(date(2026, 6, 10), time(0, 0))
    weekly = recurrence.iteration_start("FREQ=WEEKLY;INTERVAL=2", start, near)
    assert weekly.weekday() == start.weekday() and weekly.time() == start.time()
    assert (weekly - start).days % 14 == 0 and near - timedelta(days=28) <= weekly < near
    daily = recurrence.iteration_start("FREQ=DAILY;INTERVAL=3", start, near)
    assert (daily - start).days % 3 == 0 and daily < near
    assert recurrence.iteration_start("FREQ=MONTHLY", start, near) == start  # the 31st
    third = start.replace(day=3)
    monthly = recurrence.iteration_start("FREQ=MONTHLY;INTERVAL=5;BYDAY=2TU", third, near)
    assert monthly.day == 3 and (monthly.year * 12 + monthly.month - 2025 * 12 - 1) % 5 == 0
    for kept in ("FREQ=DAILY;COUNT=400", "FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=-1", "FREQ=HOURLY"):
        assert recurrence.iteration_start(kept, start, near) == start
    assert recurrence.iteration_start("FREQ=DAILY", start, start - timedelta(days=3)) == start
