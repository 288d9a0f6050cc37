"""The latency benchmark runs over the small catalog and prints its table (slow: run with
``-m slow -s`` to see the numbers)."""

from __future__ import annotations

import pytest

from chatrec.bench.slack import measure, report


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["http", "socket"])
def test_latency_benchmark(make_agent, mode):
    result = measure(make_agent(), messages=60, burst=50, mode=mode)
    print("\n" + report(result))
    assert result["errors"] == 0
    assert result["sequential"]["ack_ms"]["n"] == 60 and result["burst"]["reply_ms"]["n"] == 50
    # Slack's limit; typical acks are milliseconds (see the printed table).
    assert result["burst"]["ack_ms"]["max"] < 3000
