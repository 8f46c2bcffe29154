"""Short-lived cache of expensive counts (review backlog over 100,000 items): recomputed at most
every ``ttl`` seconds, and at once after a review changes them (``invalidate``)."""

from __future__ import annotations

import threading
import time
from typing import Callable, Hashable


class CountCache:
    def __init__(self, ttl: float = 30.0):
        self.ttl = ttl
        self._values: dict[Hashable, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], int]) -> int:
        now = time.monotonic()
        with self._lock:
            hit = self._values.get(key)
        if hit and now - hit[0] < self.ttl:
            return hit[1]
        value = compute()
        with self._lock:
            self._values[key] = (now, value)
        return value

    def invalidate(self) -> None:
        with self._lock:
            self._values.clear()
