"""Counting requests in a window of the shared cache, for the limits that need one (the
webhook's per-connector rate, password-reset requests)."""

from django.core.cache import cache


def count_in_window(key: str, *, seconds: int) -> int:
    """Count one more request against ``key`` and return the window's count so far; the
    window opens with its first request and lasts ``seconds``."""
    cache.add(key, 0, timeout=seconds)
    try:
        return cache.incr(key)
    except ValueError:  # the window closed between add and incr
        cache.set(key, 1, timeout=seconds)
        return 1
