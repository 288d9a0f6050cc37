"""How the agent fares with an LLM: per persona (a cooperative model, honest ones phrasing the
prompt's facts in its forms and in freer words, a lying one, each injected fault — floods past
max_tokens included — and the tiny real SmolLM2 model when llama.cpp is installed), over a
scripted dialogue, in non-streamed and streamed turns: how often the LLM's output was used (no
silent fallback), how often its phrasing was shown, the fallback rate, whether every turn stayed
grounded and within the budget (a turn that spends its 2 calls on understanding and reranking
keeps the template text: that is the budget, not a fallback), LLM calls and tokens per turn, and
turn latency. Then the adversarial corpus (``llm_attack``): every lie told through a lying server,
streamed and not, and offline against the guard.

    CHATREC_HOME=<home with built MovieLens resources> CHATREC_DATA_DIR=../shared/data \\
        chatrec bench llm [--tiny] [--quick] [--json out.json]

Exit status 0 only if every turn stayed grounded, no lie was shown, the prompt-following honest
persona's phrasing was shown in at least 80% of the turns that phrased, and no turn took more
than 30 s. The servers are the test suite's real OpenAI-compatible servers on loopback
(``chatrec.testing.llm_servers``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from chatrec.agent import Agent
from chatrec.agent.llm_bridge import AgentLLM
from chatrec.bench.llm_attack import offline, tell_lies
from chatrec.config import get_settings
from chatrec.llm import LLM
from chatrec.llm.transport import capped_http_client
from chatrec.resources import Resources
from chatrec.testing.checks import assert_grounded
from chatrec.testing.llm_lies import HELDOUT_STYLES, LIES, NATURAL_STYLES, SHAPES, HonestTeller
from chatrec.testing.llm_personas import FAULTS, cooperative, lying
from chatrec.testing.llm_servers import LlamaCppServer, ScriptedLLMServer, llama_server_missing

SCRIPT = ["something like Toy Story", "a 90s comedy please", "I could use a good laugh tonight honestly",
          "something older", "no animation", "more like the second one"]
HONEST_TARGET = 0.8   # the prompt-following persona's phrasing, shown in this share of phrased turns
WORST_TURN_S = 30.0


def run_persona(resources: Resources, chat_model, *, timeout: float, deadline: float, turns: int,
                sessions: int, stream: bool = False) -> dict:
    llm = LLM(chat_model, timeout=timeout, max_retries=1)
    agent = Agent(resources, store=None, llm=AgentLLM(llm, max_calls=2, turn_deadline_s=deadline))
    rows = []
    for s in range(sessions):
        for message in SCRIPT[:turns]:
            started = time.perf_counter()
            if stream:
                reply = list(agent.respond_stream(f"llm-report-{s}", message))[-1]
            else:
                reply = agent.respond(f"llm-report-{s}", message)
            elapsed = time.perf_counter() - started
            grounded = True
            try:
                assert_grounded(agent, reply)
            except AssertionError:
                grounded = False
            calls, guard = reply.trace.llm_calls, reply.trace.guard
            rows.append({
                "seconds": elapsed, "grounded": grounded, "recommended": bool(reply.recommendations),
                "calls": len(calls), "prompt_tokens": sum(c.prompt_tokens for c in calls),
                "completion_tokens": sum(c.completion_tokens for c in calls),
                "text_llm": guard is not None and guard.text_source == "llm",
                "rejected": guard is not None and bool(guard.llm_rejected),
                # applied, not just answered: ids outside the candidate list are discarded
                "rerank_used": any(n.startswith("LLM rerank used") for n in reply.trace.notes),
                # the LLM's output shaped the reply: its reading merged, its ranking or its text used
                "output_used": (reply.trace.act is not None and reply.trace.act.source == "merged")
                or (guard is not None and guard.text_source == "llm")
                or any(n.startswith("LLM rerank used") for n in reply.trace.notes),
                "notes": list(reply.trace.notes),
                "phrase_attempted": any(c.purpose == "phrase" for c in calls),
                "phrase_answered": any(c.purpose == "phrase" and c.ok for c in calls),
                "latency_ms": {c.purpose: round(c.latency_ms) for c in calls},
            })
    n = len(rows)
    recs = [r for r in rows if r["recommended"]]
    attempted = [r for r in recs if r["phrase_attempted"]]
    answered = [r for r in recs if r["phrase_answered"]]
    seconds = sorted(r["seconds"] for r in rows)
    return {
        "turns": n,
        "grounded": sum(r["grounded"] for r in rows) / n,
        "recommended": len(recs) / n,
        "llm_output_used": sum(r["output_used"] for r in rows) / n,
        "llm_text_used": sum(r["text_llm"] for r in recs) / max(len(recs), 1),
        # of the turns where the LLM did phrase (not skipped by the budget, not failed)
        "phrasing_shown": sum(r["text_llm"] for r in answered) / max(len(answered), 1),
        "phrased_turns": len(answered),
        "fallback_rate": 1 - sum(r["output_used"] for r in rows) / n,   # nothing of the LLM used
        "verifier_rejected": sum(r["rejected"] for r in attempted) / max(len(attempted), 1),
        "rerank_used": sum(r["rerank_used"] for r in recs) / max(len(recs), 1),
        "calls_per_turn": statistics.fmean(r["calls"] for r in rows),
        "max_calls": max(r["calls"] for r in rows),
        "prompt_tokens_per_turn": statistics.fmean(r["prompt_tokens"] for r in rows),
        "max_prompt_tokens": max(r["prompt_tokens"] for r in rows),
        "completion_tokens_per_turn": statistics.fmean(r["completion_tokens"] for r in rows),
        "turn_p50_s": seconds[n // 2], "turn_max_s": seconds[-1],
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--catalog", default=None)
    parser.add_argument("--turns", type=int, default=len(SCRIPT))
    parser.add_argument("--sessions", type=int, default=2)
    parser.add_argument("--tiny", action="store_true", help="also the tiny SmolLM2 model on llama.cpp")
    parser.add_argument("--quick", action="store_true", help="one lie of each shape instead of the whole corpus")
    parser.add_argument("--deadline", type=float, default=None,
                        help="the hostile servers' turn deadline, with the configured request timeout "
                             "(default 3 s and 2 s; the product's: 15 s and 20 s)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    settings = get_settings()
    resources = Resources.load(args.catalog or settings.catalog, settings)
    results: dict[str, dict] = {}
    personas = {"cooperative": lambda: {"decide": cooperative},
                "honest (prompt's forms)": lambda: {"decide": HonestTeller()},
                "honest (free wording)": lambda: {"decide": HonestTeller(styles=list(NATURAL_STYLES))},
                "honest (held-out wording)": lambda: {"decide": HonestTeller(styles=list(HELDOUT_STYLES))},
                "lying": lambda: {"decide": lying}}
    personas |= {f"fault:{name}": (lambda make=make: {"default": make()}) for name, make in FAULTS.items()}
    # Faulty servers get a short budget by default (quick to run); --deadline D gives them D s and
    # the configured per-request timeout within it (the product's: 15 s and 20 s).
    fault_deadline = args.deadline or 3.0
    fault_timeout = min(settings.llm_timeout, args.deadline) if args.deadline else 2.0
    for name, make in personas.items():
        for stream in (False, True):
            spec = make()
            server = ScriptedLLMServer(spec.get("decide"), default=spec.get("default"))
            with server:
                faulty = name.startswith("fault:")
                label = f"{name}{' (streamed)' if stream else ''}"
                timeout = fault_timeout if faulty else 5.0
                results[label] = run_persona(resources, server.chat_model(timeout=timeout), timeout=timeout,
                                             deadline=fault_deadline if faulty else 8.0,
                                             turns=args.turns, sessions=args.sessions, stream=stream)
            print(f"{label}: done", file=sys.stderr)
    if args.tiny:
        missing = llama_server_missing()
        if missing:
            print(f"tiny model skipped: {missing}", file=sys.stderr)
        else:
            from langchain_openai.chat_models.base import BaseChatOpenAI as ChatOpenAI  # sends max_tokens

            server = LlamaCppServer().start()
            try:
                model = ChatOpenAI(model="smollm2", base_url=server.url, api_key=SecretStr("dummy"), max_retries=0,
                                   timeout=60, stream_usage=True, http_client=capped_http_client())
                results["tiny SmolLM2-135M"] = run_persona(resources, model, timeout=60, deadline=90,
                                                           turns=min(args.turns, 4), sessions=1)
            finally:
                server.stop()
    table = Table(title=f"agent with an LLM — {resources.catalog.name}, {len(SCRIPT[:args.turns])} "
                        f"turns × {args.sessions} sessions per persona")
    for column in ("persona", "grounded", "LLM output used", "LLM text used", "phrasing shown", "fallback",
                   "verifier rejected", "rerank used", "calls/turn", "prompt tok/turn", "compl. tok/turn",
                   "turn p50 / max"):
        table.add_column(column, justify="right" if column != "persona" else "left")
    for name, r in results.items():
        table.add_row(name, f"{r['grounded']:.0%}", f"{r['llm_output_used']:.0%}", f"{r['llm_text_used']:.0%}",
                      f"{r['phrasing_shown']:.0%} of {r['phrased_turns']}", f"{r['fallback_rate']:.0%}",
                      f"{r['verifier_rejected']:.0%}", f"{r['rerank_used']:.0%}",
                      f"{r['calls_per_turn']:.1f} (max {r['max_calls']})",
                      f"{r['prompt_tokens_per_turn']:.0f} (max {r['max_prompt_tokens']})",
                      f"{r['completion_tokens_per_turn']:.0f}",
                      f"{r['turn_p50_s']:.2f} / {r['turn_max_s']:.2f} s")
    console = Console(width=200)
    console.print(table)
    attacks = _attacks(resources, quick=args.quick, deadline=args.deadline or 8.0)
    _print_attacks(console, attacks)
    if args.json:
        args.json.write_text(json.dumps({"personas": results, "attacks": attacks}, indent=2))
    honest = [r["phrasing_shown"] for name, r in results.items() if name.startswith("honest (prompt")]
    # The tiny real model gets a 90 s deadline (a 135M model on busy CPUs): its turns are its own.
    worst = max([r["turn_max_s"] for name, r in results.items() if not name.startswith("tiny")]
                + [a["turn_max_s"] for a in attacks["told"].values()])
    print(f"worst turn with a scripted server: {worst:.2f} s (target <= {WORST_TURN_S:.0f} s); lies shown: "
          f"{sum(a['shown'] for a in attacks['told'].values())}; honest phrasing shown: "
          f"{min(honest, default=0):.0%} (target >= {HONEST_TARGET:.0%})")
    ok = (all(r["grounded"] == 1.0 for r in results.values())
          and all(a["shown"] == 0 and a["grounded"] == 1.0 for a in attacks["told"].values())
          and min(honest, default=0) >= HONEST_TARGET and worst <= WORST_TURN_S)
    return 0 if ok else 1


def _attacks(resources: Resources, *, quick: bool, deadline: float) -> dict:
    lies = [next(lie for lie in LIES if lie.shape == shape) for shape in SHAPES] if quick else LIES
    told = {}
    for stream in (False, True):
        told["streamed" if stream else "whole"] = tell_lies(resources, lies, stream=stream, deadline=deadline)
        print(f"corpus ({'streamed' if stream else 'whole'}): done", file=sys.stderr)
    return {"corpus": len(lies), "shapes": len(SHAPES), "told": told, "offline": offline(resources)}


def _print_attacks(console: Console, attacks: dict) -> None:
    table = Table(title=f"the adversarial corpus: {attacks['corpus']} lies in {attacks['shapes']} shapes, "
                        "one per turn through a lying server")
    for column in ("replies", "lies told", "lies shown", "shown by shape", "turns grounded", "turn max"):
        table.add_column(column, justify="right" if column != "replies" else "left")
    for mode, a in attacks["told"].items():
        by_shape = ", ".join(f"{k} {v}" for k, v in a["shown_by_shape"].items()) or "-"
        table.add_row(mode, str(a["told"]), str(a["shown"]), by_shape, f"{a['grounded']:.0%}",
                      f"{a['turn_max_s']:.2f} s")
    console.print(table)
    o = attacks["offline"]
    if o.get("lies"):
        console.print(f"offline, {o['lies']} lie instances on fixed scenes (whole or sentence by sentence): "
                      f"{o.get('open_passed', 0)} pass the open-world check, {o.get('closed_passed', 0)} the "
                      f"closed world; honest phrasings passing the closed world: "
                      f"{o.get('honest_passed', 0)}/{o['honest']}")


if __name__ == "__main__":
    sys.exit(main())
