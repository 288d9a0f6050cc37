"""How the agent fares with an LLM: per persona (a cooperative model, a lying one, each injected
fault, and the tiny real SmolLM2 model when llama.cpp is installed), over a scripted dialogue:
how often the LLM's output was used (no silent fallback), the fallback rate, whether every turn
stayed grounded and within the budget (a turn that spends its 2 calls on understanding and
reranking keeps the template text: that is the budget, not a fallback), LLM calls and tokens per turn, and turn latency.

    CHATREC_HOME=<home with built MovieLens resources> CHATREC_DATA_DIR=../shared/data \\
        chatrec bench llm [--tiny] [--json out.json]

The servers are the test suite's real OpenAI-compatible servers on loopback
(``chatrec.testing.llm_servers``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from chatrec.agent import Agent
from chatrec.agent.llm_bridge import AgentLLM
from chatrec.config import get_settings
from chatrec.llm import LLM
from chatrec.resources import Resources
from chatrec.testing.checks import assert_grounded
from chatrec.testing.llm_personas import FAULTS, cooperative, lying
from chatrec.testing.llm_servers import LlamaCppServer, ScriptedLLMServer, llama_server_missing

SCRIPT = ["something like Toy Story", "a 90s comedy please", "I could use a good laugh tonight honestly",
          "something older", "no animation", "more like the second one"]


def run_persona(resources: Resources, chat_model, *, timeout: float, deadline: float, turns: int,
                sessions: int) -> dict:
    llm = LLM(chat_model, timeout=timeout, max_retries=1)
    agent = Agent(resources, store=None, llm=AgentLLM(llm, max_calls=2, turn_deadline_s=deadline))
    rows = []
    for s in range(sessions):
        for message in SCRIPT[:turns]:
            started = time.perf_counter()
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
                "latency_ms": {c.purpose: round(c.latency_ms) for c in calls},
            })
    n = len(rows)
    recs = [r for r in rows if r["recommended"]]
    attempted = [r for r in recs if r["phrase_attempted"]]
    seconds = sorted(r["seconds"] for r in rows)
    return {
        "turns": n,
        "grounded": sum(r["grounded"] for r in rows) / n,
        "recommended": len(recs) / n,
        "llm_output_used": sum(r["output_used"] for r in rows) / n,
        "llm_text_used": sum(r["text_llm"] for r in recs) / max(len(recs), 1),
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--catalog", default=None)
    parser.add_argument("--turns", type=int, default=len(SCRIPT))
    parser.add_argument("--sessions", type=int, default=2)
    parser.add_argument("--tiny", action="store_true", help="also the tiny SmolLM2 model on llama.cpp")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    settings = get_settings()
    resources = Resources.load(args.catalog or settings.catalog, settings)
    results: dict[str, dict] = {}
    personas = {"cooperative": lambda: {"decide": cooperative}, "lying": lambda: {"decide": lying}}
    personas |= {f"fault:{name}": (lambda make=make: {"default": make()}) for name, make in FAULTS.items()}
    for name, make in personas.items():
        spec = make()
        server = ScriptedLLMServer(spec.get("decide"), default=spec.get("default"))
        with server:
            faulty = name.startswith("fault:")
            results[name] = run_persona(resources, server.chat_model(timeout=2.0 if faulty else 5.0),
                                        timeout=2.0 if faulty else 5.0, deadline=3.0 if faulty else 8.0,
                                        turns=args.turns, sessions=args.sessions)
        print(f"{name}: done", file=sys.stderr)
    if args.tiny:
        missing = llama_server_missing()
        if missing:
            print(f"tiny model skipped: {missing}", file=sys.stderr)
        else:
            from langchain_openai.chat_models.base import BaseChatOpenAI as ChatOpenAI  # sends max_tokens

            server = LlamaCppServer().start()
            try:
                model = ChatOpenAI(model="smollm2", base_url=server.url, api_key="dummy", max_retries=0,
                                   timeout=60, stream_usage=True)
                results["tiny SmolLM2-135M"] = run_persona(resources, model, timeout=60, deadline=90,
                                                           turns=min(args.turns, 4), sessions=1)
            finally:
                server.stop()
    table = Table(title=f"agent with an LLM — {resources.catalog.name}, {len(SCRIPT[:args.turns])} "
                        f"turns × {args.sessions} sessions per persona")
    for column in ("persona", "grounded", "LLM output used", "LLM text used", "fallback", "verifier rejected",
                   "rerank used", "calls/turn", "prompt tok/turn", "compl. tok/turn", "turn p50 / max"):
        table.add_column(column, justify="right" if column != "persona" else "left")
    for name, r in results.items():
        table.add_row(name, f"{r['grounded']:.0%}", f"{r['llm_output_used']:.0%}", f"{r['llm_text_used']:.0%}",
                      f"{r['fallback_rate']:.0%}",
                      f"{r['verifier_rejected']:.0%}", f"{r['rerank_used']:.0%}",
                      f"{r['calls_per_turn']:.1f} (max {r['max_calls']})",
                      f"{r['prompt_tokens_per_turn']:.0f} (max {r['max_prompt_tokens']})",
                      f"{r['completion_tokens_per_turn']:.0f}",
                      f"{r['turn_p50_s']:.2f} / {r['turn_max_s']:.2f} s")
    Console(width=200).print(table)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0 if all(r["grounded"] == 1.0 for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
