"""Benchmark of ``chatrec serve``: start-up time and reply latency over the Gradio API.

    chatrec bench serve [--home DIR] [--runs 3] [--sessions 20] [--turns 10]
    chatrec bench serve --cold [--runs 1]

``--cold``: each start-up in a fresh, empty CHATREC_HOME (deleted after; the data comes from
CHATREC_DATA_DIR): nothing built, no index. Times the first HTTP 200, the first answered
``/chat`` and the first reply with recommendations ("a 90s comedy"), and says whether the
vector index was still building then (it builds in the background). No latency test.

1. Start-up: spawn ``chatrec serve`` ``--runs`` times and time, from the spawn, the first HTTP
   200 of the page and the first answered ``/chat`` (the agent loaded), with the CPU seconds the
   server had used by then (steadier than wall time on a shared machine).
2. Latency: on the last server, ``--sessions`` concurrent sessions (one thread each) send
   ``--turns`` scripted messages to ``/chat``; prints p50/p95/max of the client-side reply time
   and of the agent's own time (``trace.timings_ms.total``), and the CPU seconds the server and
   the benchmark's own clients used. No LLM.

   ``--client http`` (default) calls Gradio's HTTP API directly (``POST /gradio_api/call/chat``,
   then its event stream: what ``curl`` would do); ``--client gradio_client`` uses the Python
   client of docs/api.md, which costs the client about 0.1 s of CPU per call: with 20 sessions on
   a 2-core machine the benchmark's own clients then take most of the CPU and the figures
   measure them more than the server.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

LIKED = ["Inception", "Toy Story", "Heat", "The Matrix", "Forrest Gump", "Alien", "Amélie",
         "Pulp Fiction", "The Lion King", "Titanic", "Jurassic Park", "Fargo", "Gladiator",
         "Up", "Memento", "Se7en", "Shrek", "Casablanca", "Big", "Interstellar"]
TURNS = ["I loved {film}", "something from the 90s", "no horror", "more",
         "who directed the first one?", "more like the second one", "something lighter",
         "movies with Tom Hanks", "what is it about?", "more"]


def script(session: int, turns: int) -> list[str]:
    """A scripted conversation; each session names a different film first."""
    film = LIKED[session % len(LIKED)]
    return [TURNS[i % len(TURNS)].format(film=film) for i in range(turns)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def spawn(port: int, env: dict, catalog: str | None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "chatrec", "serve", "--port", str(port)]
    if catalog:
        cmd += ["--catalog", catalog]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for_page(url: str, proc: subprocess.Popen, started: float, timeout: float = 300) -> float:
    import httpx

    while True:
        if proc.poll() is not None:
            raise RuntimeError("chatrec serve exited:\n" + (proc.stdout.read() if proc.stdout else ""))
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"no page at {url} within {timeout}s")
        time.sleep(0.05)


def wait_for_agent(url: str, started: float, timeout: float = 600) -> float:
    from gradio_client import Client

    client = Client(url, verbose=False)
    sid = client.predict(api_name="/new_session")
    while True:
        try:
            client.predict(sid, "hello", "", api_name="/chat")
            return time.perf_counter() - started
        except Exception as exc:  # noqa: BLE001 - "still getting ready" until the agent is loaded
            if "getting ready" not in str(exc) or time.perf_counter() - started > timeout:
                raise


def wait_for_recommendations(url: str, started: float, timeout: float = 600) -> tuple[float, int]:
    """Seconds until a request is answered with recommendations, and how many it had."""
    client = HttpChat(url)
    sid = client.predict(api_name="/new_session")
    while True:
        reply = client.predict(sid, "a 90s comedy", "", api_name="/chat")
        count = len(reply.get("recommendations") or [])
        if count or time.perf_counter() - started > timeout:
            return time.perf_counter() - started, count


def cold_startup(runs: int, env: dict, catalog: str | None) -> list[dict]:
    """Start-ups in fresh homes: page, first answer, first recommendations (seconds)."""
    import shutil
    import tempfile

    results = []
    for run in range(runs):
        home = tempfile.mkdtemp(prefix="chatrec-cold-")
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        started = time.perf_counter()
        proc = spawn(port, {**env, "CHATREC_HOME": home}, catalog)
        try:
            page = wait_for_page(url, proc, started)
            agent = wait_for_agent(url, started)
            usable, count = wait_for_recommendations(url, started)
            manifest = os.path.join(home, "index", catalog or "movielens", "manifest.json")
            building = not os.path.isfile(manifest)
            results.append({"page_s": page, "agent_s": agent, "usable_s": usable,
                            "recommendations": count, "index_still_building": building,
                            "server_cpu_s": cpu_seconds(proc.pid)})
            print(f"  run {run + 1}: first HTTP 200 after {page:.2f}s, first /chat answered after "
                  f"{agent:.2f}s, first reply with {count} recommendations after {usable:.2f}s "
                  f"(vector index {'still building' if building else 'built'} by then)", flush=True)
        finally:
            proc.terminate()
            proc.communicate(timeout=30)
            shutil.rmtree(home, ignore_errors=True)
    return results


def startup(runs: int, env: dict, catalog: str | None) -> tuple[list[tuple[float, float]], subprocess.Popen, str]:
    """(page, agent) seconds per run; the last server is left running for the latency test."""
    results = []
    proc = url = None
    for run in range(runs):
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        started = time.perf_counter()
        proc = spawn(port, env, catalog)
        page = wait_for_page(url, proc, started)
        page_cpu = cpu_seconds(proc.pid)
        agent = wait_for_agent(url, started)
        agent_cpu = cpu_seconds(proc.pid)
        results.append((page, agent))
        cpu = (f" (server CPU by then: {page_cpu:.1f}s and {agent_cpu:.1f}s)"
               if page_cpu is not None and agent_cpu is not None else "")
        print(f"  run {run + 1}: first HTTP 200 after {page:.2f}s, first /chat answered after {agent:.2f}s"
              f"{cpu}", flush=True)
        if run < runs - 1:
            proc.terminate()
            proc.communicate(timeout=30)
    assert proc is not None and url is not None, "runs must be at least 1"
    return results, proc, url


class HttpChat:
    """``/chat`` over Gradio's plain HTTP API: POST the call, read its event stream."""

    def __init__(self, url: str):
        import httpx

        self.url = url.rstrip("/") + "/gradio_api/call/"
        self.http = httpx.Client(timeout=120)

    def predict(self, *data, api_name: str):
        name = api_name.strip("/")
        event_id = self.http.post(self.url + name, json={"data": list(data)}).json()["event_id"]
        event = None
        with self.http.stream("GET", f"{self.url}{name}/{event_id}") as stream:
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    payload = json.loads(line[5:])
                    if event == "error":
                        raise RuntimeError(f"{name} failed: {payload}")
                    return payload[0]
        raise RuntimeError(f"{name}: the event stream ended without a result")


def make_client(url: str, kind: str):
    if kind == "gradio_client":
        from gradio_client import Client

        return Client(url, verbose=False)
    return HttpChat(url)


def cpu_seconds(pid: int | None = None) -> float | None:
    """CPU seconds (user + system) used so far by a process (Linux); None elsewhere."""
    try:
        fields = open(f"/proc/{pid or os.getpid()}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def latency(url: str, sessions: int, turns: int, client_kind: str = "http") -> dict:
    """Concurrent sessions over the API: client-side and agent-side latencies (ms)."""
    client_ms: list[float] = []
    agent_ms: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(sessions)

    def converse(session: int) -> None:
        client = make_client(url, client_kind)
        sid = client.predict(api_name="/new_session")
        barrier.wait()     # all sessions start together
        for text in script(session, turns):
            started = time.perf_counter()
            try:
                reply = client.predict(sid, text, "", api_name="/chat")
            except Exception as exc:  # noqa: BLE001 - counted and reported
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                continue
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                client_ms.append(elapsed)
                agent_ms.append(float(reply["trace"]["timings_ms"].get("total", 0.0)))

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=sessions) as pool:
        list(pool.map(converse, range(sessions)))
    wall = time.perf_counter() - started
    return {"client_ms": client_ms, "agent_ms": agent_ms, "errors": errors, "wall_s": wall}


def warm_up(url: str, turns: int = 10) -> None:
    client = HttpChat(url)
    sid = client.predict(api_name="/new_session")
    for text in script(99, turns):
        client.predict(sid, text, "", api_name="/chat")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--home", help="CHATREC_HOME with built resources (default: the environment's)")
    parser.add_argument("--catalog", help="catalog spec (default: CHATREC_CATALOG or movielens)")
    parser.add_argument("--runs", type=int, default=3, help="start-ups to time")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--client", choices=["http", "gradio_client"], default="http",
                        help="how the sessions call the API (see the module docstring)")
    parser.add_argument("--cold", action="store_true",
                        help="start-ups in fresh, empty homes (nothing built); no latency test")
    args = parser.parse_args(argv)

    env = dict(os.environ)
    if args.home:
        env["CHATREC_HOME"] = args.home
    env.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    print(f"chatrec serve benchmark (CHATREC_HOME={env.get('CHATREC_HOME', 'default')}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})", flush=True)
    if args.cold:
        print(f"cold start-up in empty homes, {args.runs} run(s):", flush=True)
        cold = cold_startup(args.runs, env, args.catalog)
        print(f"load average after: {os.getloadavg()[0]:.1f}")
        print(f"start → first reply with recommendations (s): median "
              f"{statistics.median(r['usable_s'] for r in cold):.2f}")
        return 0 if all(r["recommendations"] for r in cold) else 1
    print(f"start-up, {args.runs} run(s):", flush=True)
    runs, proc, url = startup(args.runs, env, args.catalog)
    try:
        warm_up(url)
        print(f"latency: {args.sessions} concurrent sessions x {args.turns} turns over the Gradio API "
              f"({args.client} client, after a 10-turn warm-up), no LLM:", flush=True)
        server_cpu, own_cpu = cpu_seconds(proc.pid), cpu_seconds()
        result = latency(url, args.sessions, args.turns, args.client)
        server_after, own_after = cpu_seconds(proc.pid), cpu_seconds()
        if server_cpu is not None and server_after is not None:
            result["server_cpu_s"] = server_after - server_cpu
        if own_cpu is not None and own_after is not None:
            result["client_cpu_s"] = own_after - own_cpu
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    pages, agents = [p for p, _ in runs], [a for _, a in runs]
    client, agent = result["client_ms"], result["agent_ms"]
    print()
    print(f"{'measure':44} {'median':>9} {'min':>9} {'max':>9}")
    print(f"{'start → first HTTP 200 (s)':44} {statistics.median(pages):9.2f} {min(pages):9.2f} {max(pages):9.2f}")
    print(f"{'start → first /chat answered (s)':44} {statistics.median(agents):9.2f} "
          f"{min(agents):9.2f} {max(agents):9.2f}")
    print()
    print(f"{'reply latency (ms)':44} {'p50':>9} {'p95':>9} {'max':>9}")
    print(f"{'client-side, over the API':44} {percentile(client, .5):9.1f} {percentile(client, .95):9.1f} "
          f"{max(client, default=float('nan')):9.1f}")
    print(f"{'agent (trace total)':44} {percentile(agent, .5):9.1f} {percentile(agent, .95):9.1f} "
          f"{max(agent, default=float('nan')):9.1f}")
    total = len(client) + len(result["errors"])
    print(f"{len(client)}/{total} turns answered in {result['wall_s']:.1f}s "
          f"({len(client) / result['wall_s']:.1f} turns/s); errors: {len(result['errors'])}")
    if "server_cpu_s" in result and client:
        print(f"CPU: server {result['server_cpu_s']:.1f}s ({1000 * result['server_cpu_s'] / len(client):.0f} ms "
              f"per turn), benchmark clients {result['client_cpu_s']:.1f}s")
    for error in sorted(set(result["errors"]))[:5]:
        print("  ", error[:200])
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
