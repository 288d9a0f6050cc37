"""The README runs: every command of its ``bash`` blocks, in the README's order, in a fresh
``CHATREC_HOME``, right after its two set-up commands — so the README cannot drift from the
product.

Each README command is matched to an entry of ``COMMANDS`` (its command words, and optionally an
option it must contain): extra flags that keep it quick (``--limit``), or how to run it (a server
is started, answered and stopped; an interactive chat gets its input on stdin), or why it is not
run (the install itself). A README command without an entry fails the test with a message saying
what to add. No network: the public data comes from ``CHATREC_DATA_DIR``, proxies point at a
closed loopback port, and the one LLM command talks to a scripted server on loopback.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from chatrec.testing.llm_servers import Respond, ScriptedLLMServer

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
CHATREC = [sys.executable, "-m", "chatrec"]


@dataclass(frozen=True)
class Entry:
    """How the docs test runs one kind of README command.

    Attributes:
        words: the command's words before its first option ("chatrec eval sim").
        when: an option the command must contain for this entry to apply ("--simulator").
        extra: flags appended to the README's command to keep it quick.
        run: "command" (run it), "serve" (start, wait for a usable page, stop), "skip".
        stdin: input of an interactive command.
        why: the reason of a "skip".
        timeout: seconds.
    """

    words: str
    when: str | None = None
    extra: tuple[str, ...] = ()
    run: str = "command"
    stdin: str | None = None
    why: str = ""
    timeout: float = 600
    env: dict[str, str] = field(default_factory=dict)


COMMANDS = [
    Entry("pip install", run="skip", why="the test runs inside the installed package"),
    Entry("export", run="skip",
          why="configures a real LLM; the LLM command below runs against a loopback server"),
    Entry("pytest", run="skip", why="the test suite itself"),
    Entry("chatrec build", timeout=1200),
    Entry("chatrec serve", run="serve"),
    Entry("chatrec chat", when="-m"),
    Entry("chatrec chat", stdin="a 90s comedy\nwho directed the first one?\nquit\n"),
    Entry("chatrec eval sim", when="--simulator", extra=("--limit", "2", "--turns", "2")),
    Entry("chatrec eval sim", extra=("--limit", "3")),
    Entry("chatrec eval redial", extra=("--limit", "3"), timeout=1200),
    Entry("chatrec eval offline", extra=("--limit", "5", "--budget", "1", "--resamples", "100")),
    Entry("chatrec eval requests", extra=("--limit", "5")),
    Entry("chatrec eval replay-checks", extra=("--limit", "3", "--no-iard"), timeout=1200),
    Entry("chatrec eval explain"),
    Entry("chatrec eval linker", extra=("--limit", "20")),
    Entry("chatrec eval rating", extra=("--no-topn",)),
    Entry("chatrec bench index", extra=("--limit", "200", "--queries", "200", "--seeker-turns", "50")),
    Entry("chatrec bench agent", extra=("--turns", "20", "--sessions", "2")),
    Entry("chatrec bench serve", extra=("--runs", "1", "--sessions", "2", "--turns", "2")),
    Entry("chatrec bench kg", extra=("--messages", "100")),
    Entry("chatrec bench slack", extra=("--messages", "5", "--burst", "5")),
    Entry("chatrec bench llm", extra=("--turns", "2", "--sessions", "1")),
]

#: A small catalog of one's own, for "A catalog of your own" (the README names products.jsonl).
PRODUCTS = [
    {"id": "aero", "title": "AeroPress Go", "categories": ["coffee maker"], "brand": "AeroPress",
     "features": ["portable", "immersion"], "description": "A travel coffee press."},
    {"id": "v60", "title": "Hario V60", "categories": ["coffee maker"], "brand": "Hario",
     "features": ["pour-over"], "description": "A cone dripper for bright, clean cups."},
    {"id": "moka", "title": "Bialetti Moka Express", "categories": ["coffee maker"],
     "brand": "Bialetti", "features": ["stovetop"], "description": "Strong stovetop coffee."},
    {"id": "grinder", "title": "Comandante C40", "categories": ["grinder"], "brand": "Comandante",
     "features": ["hand grinder"], "description": "A burr hand grinder."},
]


def readme_commands(text: str) -> list[str]:
    """The commands of the README's ``bash`` blocks, in order (comments and blank lines out)."""
    commands: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words:
                commands.append(shlex.join(words))
    return commands


def command_words(words: list[str]) -> str:
    """The words before the first option, without leading VAR=value assignments."""
    while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
        words = words[1:]
    head: list[str] = []
    for word in words:
        if word.startswith("-"):
            break
        head.append(word)
    return " ".join(head)


def entry_for(command: str) -> Entry:
    words = shlex.split(command)
    head = command_words(words)
    for entry in COMMANDS:
        if (head == entry.words or head.startswith(entry.words + " ")) and \
                (entry.when is None or entry.when in words):
            return entry
    pytest.fail(f"README command {command!r} has no entry in COMMANDS of {Path(__file__).name}: "
                "add one (the flags that keep it quick, or why it is not run)", pytrace=False)


def test_readme_commands_parse_and_all_have_entries():
    commands = readme_commands(README.read_text(encoding="utf-8"))
    assert commands[:2] == ['pip install -e \'.[dev]\'', "chatrec build"], \
        "the README's set-up is no longer `pip install` then `chatrec build`: update this test"
    for command in commands:
        entry_for(command)
    assert entry_for("chatrec eval sim --simulator llm --users 20").when == "--simulator"
    with pytest.raises(pytest.fail.Exception, match="'chatrec frobnicate --fast' has no entry in COMMANDS"):
        entry_for("chatrec frobnicate --fast")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _closed_port() -> int:
    return _free_port()  # nothing listens there: any proxied request fails at once


def _run(argv: list[str], env: dict[str, str], cwd: Path, entry: Entry) -> str:
    done = subprocess.run(argv, env=env, cwd=cwd, input=entry.stdin, capture_output=True,
                          text=True, timeout=entry.timeout)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"`{shlex.join(argv[2:])}` exited {done.returncode}:\n{output[-3000:]}"
    return output


def _serve(argv: list[str], env: dict[str, str], cwd: Path, entry: Entry) -> str:
    """Start the server, wait for the page and a reply with recommendations, stop it."""
    import httpx

    port = _free_port()
    proc = subprocess.Popen([*argv, "--port", str(port)], env=env, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + entry.timeout
    try:
        while True:
            assert proc.poll() is None, f"chatrec serve exited:\n{proc.stdout.read()[-3000:]}"
            try:
                if httpx.get(base + "/", timeout=2, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "no page from chatrec serve"
            time.sleep(0.2)
        with httpx.Client(base_url=base + "/gradio_api/call/", timeout=120, trust_env=False) as http:
            while True:
                try:
                    reply = _call(http, "chat", ["", "a 90s comedy", ""])
                except httpx.HTTPError as exc:  # a stream cut while the agent loads: ask again
                    reply = {"error": repr(exc)}
                if reply.get("recommendations"):
                    return json.dumps(reply)[:500]
                assert time.monotonic() < deadline, f"no recommendations from chatrec serve: {reply}"
                time.sleep(1)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def _call(http, name: str, data: list) -> dict:
    event_id = http.post(name, json={"data": data}).json()["event_id"]
    event = None
    with http.stream("GET", f"{name}/{event_id}") as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                payload = json.loads(line[5:])
                if event == "error":  # the agent still loading says so; ask again
                    return {"error": payload}
                return payload[0]
    return {}


@pytest.mark.slow
@pytest.mark.timeout(3600)  # a cold MovieLens and ReDial build plus ~20 commands: minutes, not 10
def test_every_readme_command_runs_after_the_two_set_up_commands(tmp_path, data_dir):
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    (work / "products.jsonl").write_text("".join(json.dumps(p) + "\n" for p in PRODUCTS),
                                         encoding="utf-8")
    proxy = f"http://127.0.0.1:{_closed_port()}"
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("CHATREC_", "SLACK_", "OPENAI_"))}
    env.update(CHATREC_HOME=str(home), CHATREC_DATA_DIR=str(data_dir), COLUMNS="160",
               HTTP_PROXY=proxy, HTTPS_PROXY=proxy, http_proxy=proxy, https_proxy=proxy,
               NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    llm = ScriptedLLMServer(default=Respond("Something with a story I can get lost in, please."))
    ran: list[tuple[str, float]] = []
    with llm:
        for command in readme_commands(README.read_text(encoding="utf-8")):
            entry = entry_for(command)
            if entry.run == "skip":
                continue
            words = shlex.split(os.path.expandvars(command.replace("$CHATREC_DATA_DIR",
                                                                   str(data_dir))))
            while re.fullmatch(r"[A-Z_]+=\S*", words[0]):
                words = words[1:]
            argv = [*CHATREC, *words[1:], *entry.extra]
            command_env = {**env, **entry.env}
            if entry.when == "--simulator":
                command_env.update(CHATREC_LLM=llm.model, CHATREC_LLM_BASE_URL=llm.url)
            started = time.monotonic()
            (_serve if entry.run == "serve" else _run)(argv, command_env, work, entry)
            ran.append((command, time.monotonic() - started))
            print(f"{ran[-1][1]:7.1f} s  {command}", flush=True)
    print(f"{len(ran)} README commands ran, in order, in {sum(s for _, s in ran):.0f} s")
    assert (work / "runs" / "redial" / "results.json").is_file()
    assert any(command.startswith("chatrec eval redial") for command, _ in ran)
