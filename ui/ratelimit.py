"""A per-session token bucket, so one browser tab (or API client) cannot flood the server.

Each session may send ``burst`` messages at once, then one more every ``1 / rate`` seconds. The
buckets live in memory (a limit is about the next few seconds, not worth persisting) and the
oldest are dropped once there are too many.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict


class RateLimiter:
    """Token buckets keyed by session id.

    Args:
        rate: tokens added per second (0 or less disables the limit).
        burst: bucket size: how many actions may come back to back.
        max_keys: buckets kept in memory; least recently used beyond that are forgotten.
        clock: time source (tests pass a fake one).
    """

    def __init__(self, rate: float = 0.5, burst: int = 10, max_keys: int = 10_000,
                 clock=time.monotonic):
        self.rate = rate
        self.burst = max(1, burst)
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key → (tokens, at)
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def allow(self, key: str, cost: float = 1.0) -> bool:
        """Take ``cost`` tokens from ``key``'s bucket; False (and nothing taken) when too few."""
        return self.retry_after(key, cost) == 0.0

    def retry_after(self, key: str, cost: float = 1.0) -> float:
        """0.0 when the action is allowed now (and its tokens are taken), else the seconds to
        wait before it would be."""
        if not self.enabled:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate)
            if tokens >= cost:
                self._buckets[key] = (tokens - cost, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (cost - tokens) / self.rate
            self._buckets.move_to_end(key)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return wait
