"""Bounding work in tests without timing it: a call must *finish* within a bound set two orders
of magnitude above what a linear implementation needs, so only runaway (quadratic, unbounded)
work fails, never a busy machine."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")
BOUND_S = 20.0


def finishes(fn: Callable[[], T], bound_s: float = BOUND_S) -> T:
    """``fn()``'s result, or a test failure when it has not returned within ``bound_s``. (Work
    that holds the GIL, such as one regular expression, needs a child process instead.)"""
    result: list[T] = []
    worker = threading.Thread(target=lambda: result.append(fn()), daemon=True)
    worker.start()
    worker.join(bound_s)
    if worker.is_alive():
        pytest.fail(f"still running after {bound_s:.0f} s: the work grows faster than the input")
    return result[0]
