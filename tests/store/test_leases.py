"""Session leases keep two processes' turns on one session apart (SQLite file and PostgreSQL): while
one process holds a session's lease, another process waits for it, gets it as soon as it is let go,
and is never held up on a different session."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import pytest

from chatrec.store import Store
from chatrec.store.leases import lease_key

HOLDER = textwrap.dedent("""
    import sys
    from chatrec.store import Store
    store = Store(sys.argv[1])
    with store.session_lease("s1") as held:
        print("held" if held else "not held", flush=True)
        sys.stdin.readline()
    print("released", flush=True)
    sys.stdin.readline()
    store.close()
""")


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "leases.sqlite3")
    return request.getfixturevalue("postgres_url")


def _acquire_in_thread(store: Store, session_id: str, timeout_s: float = 30.0) -> tuple[threading.Event, list]:
    got = threading.Event()
    outcome: list = []

    def run() -> None:
        with store.session_lease(session_id, timeout_s) as held:
            outcome.append(held)
            got.set()

    threading.Thread(target=run, daemon=True).start()
    return got, outcome


def test_a_lease_held_by_another_process_is_waited_for(location):
    Store(location).close()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, location], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "held", holder.stderr.read() if holder.stderr else ""
        with Store(location) as store:
            with store.session_lease("s2") as other:        # another session: no waiting
                assert other is True
            got, outcome = _acquire_in_thread(store, "s1")
            assert not got.wait(1.0), "the lease was taken while another process held it"
            holder.stdin.write("release\n")
            holder.stdin.flush()
            assert holder.stdout.readline().strip() == "released"
            assert got.wait(10.0), "the lease was not handed over when the holder let it go"
            assert outcome == [True]
    finally:
        if holder.poll() is None and holder.stdin is not None:
            holder.stdin.write("exit\n")
            holder.stdin.flush()
        holder.wait(timeout=30)


def test_a_postgresql_lease_times_out_instead_of_hanging(postgres_url):
    Store(postgres_url).close()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, postgres_url], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "held"
        with Store(postgres_url) as store:
            started = time.monotonic()
            with store.session_lease("s1", timeout_s=0.5) as held:
                assert held is False
            assert time.monotonic() - started < 10
    finally:
        if holder.stdin is not None:
            holder.stdin.write("release\nexit\n")
            holder.stdin.flush()
        holder.wait(timeout=30)


def test_a_dead_holder_releases_its_lease(location):
    Store(location).close()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, location], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait(timeout=30)
    with Store(location) as store:
        got, outcome = _acquire_in_thread(store, "s1")
        assert got.wait(15.0) and outcome == [True]


def test_lease_keys_are_stable_signed_64_bit_numbers():
    key = lease_key("slack:T1:C1:1700000000.000100")
    assert key == lease_key("slack:T1:C1:1700000000.000100")
    assert -(2**63) <= key < 2**63
    assert key != lease_key("slack:T1:C1:1700000000.000101")
