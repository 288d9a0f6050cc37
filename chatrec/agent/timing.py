"""Step timings for the trace."""

from __future__ import annotations

import time


def ms(started: float) -> float:
    """Milliseconds since ``started`` (a ``time.perf_counter()`` reading), for ``Trace.timings_ms``."""
    return round((time.perf_counter() - started) * 1000, 3)
