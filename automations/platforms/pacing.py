"""The rate limiter every worker shares: a broadcast to fifty groups is paced, not rejected.

``wait_for(key, count, seconds)`` reserves the next free slot for ``key`` (a robot, a
webhook URL, a bot and chat: each platform's ``pace_key``) and returns how many seconds the
caller must wait before sending in it (0 when it may send now). Slots are spaced
``seconds / count`` apart, so at most ``count`` sends fall in any ``seconds`` window and
there is never a burst the platform could refuse: 20 a minute is one every 3 s. The slot is
the caller's from the moment it is returned; a caller that sends later (or never) leaves a
gap, never two sends in one slot.

One value per key, the time its next slot is free, in integer microseconds. The
read-compute-write must be atomic across every worker process:

- **Redis** (production, ``REDIS_URL``): one Lua script does it inside Redis, which runs
  scripts one at a time; no lock to lose. Without ``now`` the script reads Redis's own clock
  (``TIME``), so workers on machines whose clocks differ still agree.
- **The file cache** (the embedded mode, one machine): Django's ``FileBasedCache.add`` is
  ``has_key`` then ``set``, not atomic, so it cannot serve as a mutex, and the file cache
  culls a third of its entries at random once it holds 300, which could drop a
  reservation. So the slots live in one small file of their own, ``pacing.json`` in the
  cache's directory, read and replaced under an exclusive ``flock`` on ``pacing.lock``
  (held for one read and one write; the kernel releases it if the process dies).
- Any other backend (local memory, in a test) is per process: the cache under a thread lock.

If the cache cannot be reached (Redis down), ``wait_for`` raises the cache's error: the
caller treats it as a transient failure, before anything was sent, and retries.

A key is forgotten a minute after its last reserved slot: an idle key costs nothing, and by
then its next free slot is in the past anyway.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from pathlib import Path

from django.core.cache import caches

CACHE_ALIAS = "default"
KEY_PREFIX = "pacing:"
STATE_FILE = "pacing.json"
LOCK_FILE = "pacing.lock"
# How long a key outlives its last reserved slot (seconds).
IDLE_EXPIRY = 60

_RESERVE = """
local now = tonumber(ARGV[1])
if now == nil then
    local t = redis.call('TIME')
    now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local interval = tonumber(ARGV[2])
local slot = tonumber(redis.call('GET', KEYS[1]))
if slot == nil or slot < now then
    slot = now
end
local expiry_ms = math.floor((slot - now + interval) / 1000) + tonumber(ARGV[3]) * 1000
redis.call('SET', KEYS[1], string.format('%d', slot + interval), 'PX', expiry_ms)
return slot - now
"""

_thread_lock = threading.Lock()


def _interval(count: int, seconds: float) -> int:
    """Microseconds between two slots."""
    if count < 1 or seconds <= 0:
        raise ValueError("a pace is at least one send in a positive number of seconds")
    return math.ceil(seconds * 1_000_000 / count)


def wait_for_many(paces: list[tuple[str, int, float]], *, now: float | None = None) -> list[float]:
    """``wait_for`` for each ``(key, count, seconds)``, in order; on Redis in one round
    trip (a task reserves its deliveries' slots together)."""
    cache = caches[CACHE_ALIAS]
    if type(cache).__name__ != "RedisCache" or len(paces) < 2:
        return [wait_for(key, count, seconds, now=now) for key, count, seconds in paces]
    client = redis_client(cache)
    script = cache._cache._communityops_reserve
    now_arg = "" if now is None else round(now * 1_000_000)
    with client.pipeline(transaction=False) as pipeline:
        for key, count, seconds in paces:
            script(
                keys=[cache.make_and_validate_key(KEY_PREFIX + key)],
                args=[now_arg, _interval(count, seconds), IDLE_EXPIRY],
                client=pipeline,
            )
        return [int(waited) / 1_000_000 for waited in pipeline.execute()]


def wait_for(key: str, count: int, seconds: float, *, now: float | None = None) -> float:
    """Reserve the next free slot for ``key`` (at most ``count`` sends in any ``seconds``)
    and return the seconds to wait before sending in it; 0 means send now."""
    interval = _interval(count, seconds)
    now_us = None if now is None else round(now * 1_000_000)
    cache = caches[CACHE_ALIAS]
    backend = type(cache).__name__
    if backend == "RedisCache":
        return _reserve_in_redis(cache, key, interval, now_us) / 1_000_000
    if now_us is None:
        now_us = round(time.time() * 1_000_000)
    if backend == "FileBasedCache":
        return _reserve_in_file(Path(cache._dir), key, interval, now_us) / 1_000_000
    with _thread_lock:
        slot = max(int(cache.get(KEY_PREFIX + key) or 0), now_us)
        expiry = (slot - now_us + interval) / 1_000_000 + IDLE_EXPIRY
        cache.set(KEY_PREFIX + key, slot + interval, timeout=expiry)
    return (slot - now_us) / 1_000_000


def redis_client(cache):
    """The Redis client of a ``RedisCache`` (the one that writes), made once per cache
    object: Django's ``get_client`` builds a new client, with its table of callbacks, on
    every call (about 0.4 ms of CPU, per send). Clients are thread-safe; the cache object
    is per thread anyway."""
    backend = cache._cache
    client = getattr(backend, "_communityops_client", None)
    if client is None:
        client = backend.get_client(write=True)
        backend._communityops_client = client
        backend._communityops_reserve = client.register_script(_RESERVE)
    return client


def _reserve_in_redis(cache, key: str, interval: int, now_us: int | None) -> int:
    cache_key = cache.make_and_validate_key(KEY_PREFIX + key)
    redis_client(cache)
    # EVALSHA, loading the script first if this Redis has not seen it (after a restart).
    script = cache._cache._communityops_reserve
    now_arg = "" if now_us is None else now_us
    return int(script(keys=[cache_key], args=[now_arg, interval, IDLE_EXPIRY]))


def _reserve_in_file(directory: Path, key: str, interval: int, now_us: int) -> int:
    import fcntl  # the embedded mode runs on Linux and macOS

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / STATE_FILE
    descriptor = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            slots = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            slots = {}
        if not isinstance(slots, dict):
            slots = {}
        slot = max(int(slots.get(key, 0)), now_us)
        slots[key] = slot + interval
        forget_before = now_us - IDLE_EXPIRY * 1_000_000
        slots = {name: free for name, free in slots.items() if free >= forget_before}
        # Replaced whole, never half-written: a crash leaves the old file or the new one.
        temporary = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        temporary.write_text(json.dumps(slots), encoding="utf-8")
        os.replace(temporary, path)
    finally:
        os.close(descriptor)  # closing releases the lock
    return slot - now_us


def forget_all() -> None:
    """Forget every reservation (tests; in production flushing Redis does the same).
    ``cache.clear()`` does not reach the file cache's ``pacing.json``: that is this."""
    cache = caches[CACHE_ALIAS]
    backend = type(cache).__name__
    if backend == "RedisCache":
        pattern = cache.make_key(KEY_PREFIX + "*")
        client = redis_client(cache)
        for name in client.scan_iter(match=pattern, count=500):
            client.delete(name)
    elif backend == "FileBasedCache":
        (Path(cache._dir) / STATE_FILE).unlink(missing_ok=True)
    else:
        cache.clear()
