"""A small bounded least-recently-used mapping for the agent's in-memory caches."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    """A bounded mapping that forgets its least recently used entries (thread-safe)."""

    def __init__(self, capacity: int):
        self.capacity = max(1, capacity)
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.capacity:
                self._data.popitem(last=False)

    def setdefault(self, key: K, value: V) -> V:
        """The value kept for ``key``, storing ``value`` first when there is none."""
        with self._lock:
            found = self.get(key)
            if found is not None:
                return found
            self.put(key, value)
            return value

    def pop(self, key: K) -> V | None:
        with self._lock:
            return self._data.pop(key, None)

    def values(self) -> list[V]:
        with self._lock:
            return list(self._data.values())

    def drop_where(self, condition: Callable[[V], bool]) -> None:
        with self._lock:
            for key in [k for k, v in self._data.items() if condition(v)]:
                del self._data[key]
