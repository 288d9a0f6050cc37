"""Latency of the Slack surface on loopback: how fast Slack gets its ack, and how long a mention
takes to be answered in its thread (agent turn + Block Kit + ``chat.postMessage``).

    chatrec bench slack [--catalog movielens] [--messages 100] [--burst 50] [--socket]

The bot runs for real (Bolt, uvicorn or the Socket Mode client) against the stand-ins of
``chatrec.testing.slack``; only Slack's side is simulated. Sequential messages measure one
message's latency; the burst sends many mentions at once and measures acks under load and the
time until every thread has its answer.
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx

from chatrec.slack.app import SlackBot
from chatrec.slack.config import SlackSettings
from chatrec.slack.serve import HttpServerThread, socket_mode_handler
from chatrec.testing.slack import SlackAPI, SocketModeServer, http_body, mention_event, signed

TEXTS = [
    "something like Inception",
    "a comedy from the 90s",
    "movies with Tom Hanks",
    "a horror film from the 80s",
    "an animated film for kids",
    "something like Heat but older",
    "a romantic comedy, no drama",
    "sci-fi with Keanu Reeves",
]
_SECRET = "bench-signing-secret-0123456789"


def summary(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    if not values:
        return {}
    q = statistics.quantiles(values, n=20, method="inclusive") if len(values) > 1 else values * 19
    return {
        "n": len(values),
        "p50": round(statistics.median(values), 1),
        "p95": round(q[18], 1),
        "max": round(values[-1], 1),
    }


class _Transport:
    """Sends a mention the way Slack would in one mode; returns when Slack would have its ack."""

    def __init__(self, mode: str, bot: SlackBot, api: SlackAPI):
        self.mode = mode
        self.bot = bot
        self.api = api

    def __enter__(self):
        if self.mode == "http":
            self.server = HttpServerThread(self.bot).__enter__()
            self.http = httpx.Client(timeout=30)
        else:
            self.socket = SocketModeServer().__enter__()
            self.api.socket_url = self.socket.url
            self.handler = socket_mode_handler(self.bot)
            self.handler.connect()
            self.socket.connected.wait(15)
        return self

    def __exit__(self, *exc_info):
        if self.mode == "http":
            self.http.close()
            self.server.__exit__(*exc_info)
        else:
            self.handler.client.auto_reconnect_enabled = False
            self.socket.drop()
            deadline = time.monotonic() + 10
            while self.handler.client.is_connected() and time.monotonic() < deadline:
                time.sleep(0.01)
            self.handler.close()
            self.socket.__exit__(*exc_info)

    def send(self, body: dict) -> float:
        """Milliseconds until the ack."""
        started = time.perf_counter()
        if self.mode == "http":
            raw, content_type = http_body("events_api", body)
            response = self.http.post(
                self.server.url,
                content=raw.encode(),
                headers={"content-type": content_type, **signed(_SECRET, raw)},
            )
            response.raise_for_status()
            return (time.perf_counter() - started) * 1000
        envelope, sent = self.socket.send("events_api", body)
        _ack, acked = self.socket.wait_ack(envelope)
        return (acked - sent) * 1000


def measure(
    agent, messages: int = 100, burst: int = 50, mode: str = "http", warmup: int = 3
) -> dict:
    """Run the benchmark over ``agent``; returns ack and reply latencies (ms) by phase."""
    with SlackAPI() as api:
        settings = SlackSettings(
            _env_file=None,  # pyright: ignore[reportCallIssue] - pydantic-settings' init keyword
            bot_token="xoxb-bench-token",
            app_token="xapp-bench-token",
            signing_secret=_SECRET,
            api_url=api.url,
            rate_burst=1_000_000,
            rate_per_minute=1_000_000,
        )
        bot = SlackBot(agent, settings)
        result: dict = {"mode": mode}
        try:
            with _Transport(mode, bot, api) as transport:
                posted = 0
                ack_ms, reply_ms = [], []
                for i in range(warmup + messages):
                    body = mention_event(
                        TEXTS[i % len(TEXTS)], user=f"U0BENCH{i % 20}", ts=f"1720000000.{i:06d}"
                    )
                    started = time.perf_counter()
                    ack = transport.send(body)
                    posted += 1
                    reply = api.wait_for("chat.postMessage", posted, timeout=60)[-1]
                    if i >= warmup:
                        ack_ms.append(ack)
                        reply_ms.append((reply.at - started) * 1000)
                result["sequential"] = {"ack_ms": summary(ack_ms), "reply_ms": summary(reply_ms)}
                if burst:
                    ack_ms = []
                    started = time.perf_counter()
                    for i in range(burst):
                        body = mention_event(
                            TEXTS[i % len(TEXTS)],
                            user=f"U0BURST{i}",
                            channel="C0BURST",
                            ts=f"1720001000.{i:06d}",
                        )
                        ack_ms.append(transport.send(body))
                    calls = api.wait_for("chat.postMessage", posted + burst, timeout=300)[posted:]
                    result["burst"] = {
                        "messages": burst,
                        "ack_ms": summary(ack_ms),
                        "all_answered_s": round(max(c.at for c in calls) - started, 2),
                        "reply_ms": summary([(c.at - started) * 1000 for c in calls]),
                    }
        finally:
            bot.close(wait=True)
        result["errors"] = bot.stats.errors
        return result


def report(result: dict) -> str:
    lines = [
        f"Slack surface latency ({result['mode']} mode, loopback)",
        f"{'phase':<12}{'what':<10}{'n':>5}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}",
    ]
    for phase in ("sequential", "burst"):
        if phase not in result:
            continue
        for what in ("ack_ms", "reply_ms"):
            s = result[phase][what]
            lines.append(
                f"{phase:<12}{what[:-3]:<10}{s['n']:>5}{s['p50']:>10}{s['p95']:>10}{s['max']:>10}"
            )
    if "burst" in result:
        lines.append(
            f"burst of {result['burst']['messages']}: every thread answered after "
            f"{result['burst']['all_answered_s']} s"
        )
    lines.append(f"errors: {result['errors']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--catalog", default=None, help="movielens, redial or a JSONL/CSV path")
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--socket", action="store_true", help="Socket Mode instead of HTTP")
    args = parser.parse_args(argv)
    from chatrec.agent import Agent
    from chatrec.config import get_settings

    settings = get_settings()
    agent = Agent.from_config(args.catalog or settings.catalog, settings, store=False)
    print(report(measure(agent, args.messages, args.burst, "socket" if args.socket else "http")))


if __name__ == "__main__":
    main()
