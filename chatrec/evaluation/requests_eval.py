"""``chatrec eval requests``: the request suite against the agent users get.

Each case of ``suites/requests.yaml`` is a fresh session of ``Agent.from_config(catalog=...)`` (no
LLM, sessions in memory): its messages go through ``respond`` in order and the replies are checked
(``request_checks``). Results are reported for the tune and the validation split apart (split by
phrasing: validation phrasings are never used to work on the rules), by issue item and by check.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from chatrec.evaluation.request_checks import Turn, run_checks
from chatrec.evaluation.request_suite import ITEMS, SUITE, Case, load_suite

logger = logging.getLogger(__name__)
TARGET = 0.90
SPLITS = ("tune", "validation")


class RequestsConfig(BaseModel):
    """What determines a request-suite run.

    Attributes:
        catalog: the catalog spec given to ``Agent.from_config``.
        suite: the suite file.
        splits: which splits to run.
        k: films per reply (the agent's default).
    """

    catalog: str = "movielens"
    suite: str = str(SUITE)
    splits: list[str] = Field(default_factory=lambda: list(SPLITS))
    k: int = 5


def run_case(agent, case: Case, k: int) -> dict:
    """Play one case in a fresh session; the checks of every turn that has some."""
    session = f"requests:{case.id}"
    agent.reset(session)
    catalog = agent.catalog
    shown_before: list = []
    shown_ids: set[str] = set()
    turns = []
    for index, text in enumerate(case.turns):
        before = agent.session(session)
        reply = agent.respond(session, text)
        after = agent.session(session)
        films = [r.item for r in reply.recommendations]
        entry: dict[str, Any] = {"say": text, "decision": reply.trace.decision,
                                 "films": [f.display for f in films], "text": reply.text[:400]}
        expect = case.expect.get(index)
        if expect is not None:
            turn = Turn(catalog=catalog, reply=reply, before=before, after=after, shown_before=shown_before,
                        named=[t for t in case.named if any(t.lower() in m.lower() for m in case.turns[:index + 1])],
                        k=k)
            results = run_checks(turn, expect)
            if films and index > 0:
                repeated = [f.display for f in films if f.id in shown_ids]
                results.append({"check": "never_repeats", "passed": not repeated,
                                "why": ", ".join(repeated[:3]) if repeated else ""})
            entry["checks"] = results
            entry["constraints"] = after.constraints.model_dump(exclude_defaults=True)
        turns.append(entry)
        if films:
            shown_before = films
            shown_ids |= {f.id for f in films}
    agent.reset(session)
    checks = [c for t in turns for c in t.get("checks", [])]
    return {"id": case.id, "group": case.group, "item": case.item, "split": case.split,
            "phrasing": case.phrasing, "turns": turns, "passed": sum(c["passed"] for c in checks),
            "total": len(checks)}


def summarise(records: list[dict]) -> dict:
    """Pass rates of checks and of whole cases, per split, per item and per check."""
    out: dict[str, Any] = {"splits": {}}
    for split in SPLITS:
        part = [r for r in records if r["split"] == split]
        if not part:
            continue
        passed = sum(r["passed"] for r in part)
        total = sum(r["total"] for r in part)
        by_item: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        by_check: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for r in part:
            entry = by_item[r["item"]]
            entry[0] += r["passed"]
            entry[1] += r["total"]
            entry[2] += int(r["passed"] == r["total"])
            entry[3] += 1
            for t in r["turns"]:
                for c in t.get("checks", []):
                    by_check[c["check"]][0] += int(c["passed"])
                    by_check[c["check"]][1] += 1
        out["splits"][split] = {
            "cases": len(part), "cases_passed": sum(r["passed"] == r["total"] for r in part),
            "checks": total, "checks_passed": passed, "pass_rate": round(passed / total, 4) if total else None,
            "by_item": {f"{i} {ITEMS[i]}": {"checks_passed": v[0], "checks": v[1], "cases_passed": v[2],
                                            "cases": v[3], "pass_rate": round(v[0] / v[1], 4) if v[1] else None}
                        for i, v in sorted(by_item.items())},
            "by_check": {name: {"passed": v[0], "total": v[1]} for name, v in sorted(by_check.items())},
        }
    return out


def run_requests(config: RequestsConfig, settings, out, limit: int | None = None, show_progress: bool = True,
                 fresh: bool = False, agent=None) -> dict:
    """Run the suite and write ``results.json`` and ``report.md`` into ``out``."""
    from chatrec.evaluation.run import LogTally, RunDir, progress, provenance

    run = RunDir(out, "requests", {**config.model_dump(), "limit": limit}, fresh=fresh)
    with run.timed("setup"):
        if agent is None:
            from chatrec.agent import Agent

            agent = Agent.from_config(catalog=config.catalog, settings=settings, llm=False, store=False)
        cases = [c for c in load_suite(Path(config.suite)) if c.split in config.splits]
    todo = cases[:limit] if limit else cases
    done = run.done()
    started = time.perf_counter()
    with LogTally() as tally:
        for case in progress(todo, len(todo), "request suite", show_progress):
            if case.id in done:
                continue
            record = run_case(agent, case, config.k)
            run.record(case.id, record)
            done[case.id] = record
    run.timings["cases"] = round(time.perf_counter() - started, 3)
    records = [done[c.id] for c in todo if c.id in done]
    metrics = summarise(records)
    metrics["target"] = TARGET
    metrics["agent_warnings"] = tally.summary()
    run.write_results(metrics, provenance(agent.catalog, [Path(config.suite)]))
    run.write_report(report_md(run, metrics, records, config))
    return metrics


def report_md(run, metrics: dict, records: list[dict], config: RequestsConfig) -> str:
    from chatrec.evaluation.report import md_table, provenance_md, warnings_md

    parts = ["# Request suite", "",
             f"`{Path(config.suite).name}` against `Agent.from_config(catalog={config.catalog!r})` (no LLM): "
             "each case a fresh session, its messages through `respond`. Checks are computed from catalog "
             "data; a film-level check fails on a reply without films. Split by phrasing: the validation "
             "phrasings were never used to work on the rules.", ""]
    rows = []
    for split, m in metrics["splits"].items():
        reached = "reached" if m["pass_rate"] is not None and m["pass_rate"] >= TARGET else "NOT reached"
        rows.append([split, f"{m['checks_passed']}/{m['checks']}", f"{m['pass_rate']:.3f}",
                     f"{m['cases_passed']}/{m['cases']}", f"≥ {TARGET} {reached}"])
    parts += [md_table(["split", "checks passed", "pass rate", "cases fully passed", "target"], rows), ""]
    for split, m in metrics["splits"].items():
        parts += [f"## {split}: by item", "",
                  md_table(["item", "checks", "pass rate", "cases"],
                           [[item, f"{v['checks_passed']}/{v['checks']}", f"{v['pass_rate']:.3f}",
                             f"{v['cases_passed']}/{v['cases']}"] for item, v in m["by_item"].items()]), "",
                  f"## {split}: by check", "",
                  md_table(["check", "passed"], [[name, f"{v['passed']}/{v['total']}"]
                                                 for name, v in m["by_check"].items()]), ""]
    failures = [(r, t, c) for r in records for t in r["turns"] for c in t.get("checks", []) if not c["passed"]]
    if failures:
        parts += ["## Failed checks (first 60)", ""]
        for r, t, c in failures[:60]:
            said = " / ".join(x["say"] for x in r["turns"])
            parts.append(f"- [{r['split']}] `{r['id']}` “{said}” — **{c['check']}**: {c['why']} "
                         f"(films: {', '.join(t['films'][:5]) or 'none'})")
        parts.append("")
    parts.append(warnings_md(metrics))
    parts.append(provenance_md(run.config, run.path("results.json"), run.timings))
    return "\n".join(parts) + "\n"
