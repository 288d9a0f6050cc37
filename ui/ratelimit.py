"""Token buckets, so one caller (an identity, a client address) cannot flood the server.

Each key may spend ``burst`` tokens at once, then one more every ``1 / rate`` seconds. The
buckets live in memory (a limit is about the next few seconds, not worth persisting) and the
least recently used are dropped once there are too many.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict


class RateLimiter:
    """Token buckets keyed by any string (an identity, "address:<ip>").

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
        with self._lock:
            tokens, now = self._tokens(key)
            if tokens >= cost:
                self._put(key, tokens - cost, now)
                return 0.0
            self._put(key, tokens, now)
            return (cost - tokens) / self.rate

    def wait(self, key: str, cost: float = 1.0) -> float:
        """Like ``retry_after`` without taking anything: 0.0 when ``cost`` tokens are there."""
        if not self.enabled:
            return 0.0
        with self._lock:
            tokens, _ = self._tokens(key)
        return 0.0 if tokens >= cost else (cost - tokens) / self.rate

    def charge(self, key: str, cost: float = 1.0) -> None:
        """Take ``cost`` tokens whatever is left (an attempt that already happened: a failed
        login); the bucket does not go below empty."""
        if not self.enabled:
            return
        with self._lock:
            tokens, now = self._tokens(key)
            self._put(key, max(0.0, tokens - cost), now)

    def _tokens(self, key: str) -> tuple[float, float]:
        now = self.clock()
        tokens, at = self._buckets.get(key, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - at) * self.rate), now

    def _put(self, key: str, tokens: float, now: float) -> None:
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
