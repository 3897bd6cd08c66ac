"""The shared pace: slots spaced seconds/count apart, never two workers in one slot."""

import itertools
import multiprocessing
import os
import threading

import pytest
from django.conf import settings

from automations.platforms import pacing

T0 = 1_800_000_000.0  # a fixed clock (2027-01-15): no test sleeps


@pytest.fixture(autouse=True)
def _no_reservations():
    pacing.forget_all()
    yield
    pacing.forget_all()


def test_sequential_reservations_are_spaced():
    waits = [pacing.wait_for("robot-a", 20, 60, now=T0) for _ in range(3)]
    assert waits == [0.0, 3.0, 6.0]
    # The next free slot is T0 + 9: a second later, 8 s to wait; after it, none.
    assert pacing.wait_for("robot-a", 20, 60, now=T0 + 1) == 8.0
    assert pacing.wait_for("robot-a", 20, 60, now=T0 + 30) == 0.0
    assert pacing.wait_for("robot-a", 20, 60, now=T0 + 31) == 2.0


def test_at_most_count_sends_in_any_window():
    slots = [T0 + pacing.wait_for("feishu-b", 5, 1, now=T0) for _ in range(12)]
    for start in slots:
        assert sum(start <= slot < start + 1 for slot in slots) <= 5


def test_a_keys_slots_do_not_affect_another_key():
    assert [pacing.wait_for("robot-a", 20, 60, now=T0) for _ in range(2)] == [0.0, 3.0]
    assert pacing.wait_for("robot-b", 20, 60, now=T0) == 0.0
    assert pacing.wait_for("robot-a", 20, 60, now=T0) == 6.0
    assert pacing.wait_for("robot-b", 20, 60, now=T0) == 3.0


def test_without_a_clock_it_reads_the_time():
    assert pacing.wait_for("slack-c", 1, 10) == 0.0
    assert 9.0 < pacing.wait_for("slack-c", 1, 10) <= 10.0


def test_a_pace_needs_a_count_and_a_window():
    with pytest.raises(ValueError):
        pacing.wait_for("x", 0, 60)
    with pytest.raises(ValueError):
        pacing.wait_for("x", 20, 0)


def assert_forty_distinct_slots_three_seconds_apart(waits: list[float]) -> None:
    slots = sorted(T0 + wait for wait in waits)
    assert len(slots) == 40 and len(set(slots)) == 40
    assert min(later - earlier for earlier, later in itertools.pairwise(slots)) >= 3.0
    assert slots[0] == T0 and slots[-1] == T0 + 39 * 3


def test_two_threads_reserving_at_once_get_distinct_slots():
    start = threading.Barrier(2, timeout=5)
    waits: list[float] = []
    errors: list[BaseException] = []

    def worker():
        try:
            start.wait()
            for _ in range(20):
                waits.append(pacing.wait_for("robot-shared", 20, 60, now=T0))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert_forty_distinct_slots_three_seconds_apart(waits)


def reserve_in_a_process(key: str, start, results) -> None:
    """A worker process of its own: fresh Django, the same cache (settings from the env)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from automations.platforms import pacing as shared_pacing

    start.wait(timeout=30)
    results.put([shared_pacing.wait_for(key, 20, 60, now=T0) for _ in range(20)])


def reserve_from_two_processes(key: str) -> list[float]:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    results = context.Queue()
    processes = [
        context.Process(target=reserve_in_a_process, args=(key, start, results)) for _ in range(2)
    ]
    for process in processes:
        process.start()
    try:
        waits = results.get(timeout=60) + results.get(timeout=60)
    finally:
        for process in processes:
            process.join(timeout=30)
    assert [process.exitcode for process in processes] == [0, 0]
    return waits


def test_two_processes_share_the_configured_cache():
    # The SQLite pass runs this against the embedded mode's file cache.
    assert_forty_distinct_slots_three_seconds_apart(reserve_from_two_processes("robot-procs"))


@pytest.mark.integration
def test_two_processes_share_the_redis_cache():
    if not os.environ.get("REDIS_URL"):
        pytest.fail("the shared pace across processes needs Redis (make test-postgres)")
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    assert_forty_distinct_slots_three_seconds_apart(reserve_from_two_processes("robot-redis"))
    # Without a clock the script reads Redis's own.
    assert pacing.wait_for("redis-clock", 1, 10) == 0.0
    assert 9.0 < pacing.wait_for("redis-clock", 1, 10) <= 10.0


def test_a_damaged_slots_file_starts_afresh(tmp_path):
    # The embedded mode's file (whatever cache this pass has configured).
    for damage in ("{not json", "[1, 2]"):
        (tmp_path / pacing.STATE_FILE).write_text(damage, encoding="utf-8")
        assert pacing._reserve_in_file(tmp_path, "robot-d", 3_000_000, 10**15) == 0
        assert pacing._reserve_in_file(tmp_path, "robot-d", 3_000_000, 10**15) == 3_000_000


def test_reserving_many_at_once_gives_the_slots_one_by_one_would():
    paces = [("robot-a", 20, 60), ("robot-b", 20, 60), ("robot-a", 20, 60), ("robot-a", 20, 60)]
    assert pacing.wait_for_many(paces, now=T0) == [0.0, 0.0, 3.0, 6.0]
    # The next reservation, alone, continues after them.
    assert pacing.wait_for("robot-a", 20, 60, now=T0) == 9.0
    assert pacing.wait_for_many([("robot-b", 20, 60)], now=T0) == [3.0]
    with pytest.raises(ValueError):
        pacing.wait_for_many([("x", 20, 60), ("y", 0, 60)], now=T0)
