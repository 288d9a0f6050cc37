"""Per-user rate limiting and de-duplication of Slack deliveries (both in memory, thread-safe)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    """The rate limiter's answer for one message.

    Attributes:
        allowed: handle the message.
        notify: the message is refused and this is the first refusal since the user was last
            allowed: tell them once (later refusals in the same flood stay silent).
        retry_after: seconds until the next message would be allowed (0 when allowed).
    """

    allowed: bool
    notify: bool = False
    retry_after: float = 0.0


class RateLimiter:
    """A token bucket per key: ``burst`` messages at once, refilled at ``per_minute``.

    Args:
        burst: bucket size.
        per_minute: refill rate.
        clock: monotonic seconds (tests pass a fake clock).
        max_keys: buckets kept; full (idle) buckets are dropped first when over.
    """

    def __init__(
        self,
        burst: int = 5,
        per_minute: float = 20.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ):
        self.burst = float(burst)
        self.rate = per_minute / 60.0
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float, bool]] = {}  # key → (tokens, at, notified)
        self._lock = threading.Lock()

    def check(self, key: str) -> Decision:
        with self._lock:
            now = self.clock()
            tokens, at, notified = self._buckets.get(key, (self.burst, now, False))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now, False)
                decision = Decision(True)
            else:
                self._buckets[key] = (tokens, now, True)
                decision = Decision(
                    False, notify=not notified, retry_after=(1.0 - tokens) / self.rate
                )
            if len(self._buckets) > self.max_keys:
                self._prune(now)
            return decision

    def _prune(self, now: float) -> None:
        full = [
            k
            for k, (tokens, at, _) in self._buckets.items()
            if tokens + (now - at) * self.rate >= self.burst
        ]
        for key in full:
            del self._buckets[key]
        while len(self._buckets) > self.max_keys:
            self._buckets.pop(next(iter(self._buckets)))


class Deduper:
    """Remembers delivery keys for ``ttl`` seconds. Slack redelivers an event it thinks was not
    acknowledged (``X-Slack-Retry-Num``, up to ~5 minutes later) and may announce one message
    both as ``app_mention`` and ``message``: each message must be answered once.

    Args:
        ttl: seconds a key is remembered (Slack's last retry comes after about 5 minutes).
        max_keys: most keys kept (oldest dropped first).
        clock: monotonic seconds.
    """

    def __init__(
        self,
        ttl: float = 900.0,
        max_keys: int = 200_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.ttl = ttl
        self.max_keys = max_keys
        self.clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first(self, *keys: str | None) -> bool:
        """True when none of ``keys`` was seen within the ttl; all of them are remembered."""
        keys = tuple(k for k in keys if k)
        with self._lock:
            now = self.clock()
            while self._seen and (
                next(iter(self._seen.values())) < now - self.ttl or len(self._seen) > self.max_keys
            ):
                self._seen.popitem(last=False)
            fresh = not any(k in self._seen for k in keys)
            for key in keys:
                self._seen[key] = now
                self._seen.move_to_end(key)
            return fresh
