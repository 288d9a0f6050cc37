"""What goes wrong in a ranking, turn by turn, when real dialogues are replayed.

``rank(k)`` promises k films for the dialogue so far. On ReDial replays these checks say where
it breaks that promise or the user's trust, each with examples:

* **empty** / **short** rankings (fewer than k films although the catalog has k);
* **a film twice** in one ranking (two ids of one film, or one title and year twice);
* **a film named earlier in the dialogue** (under any of its ids) in the top 10;
* **gold excluded by constraints**: a film the human recommender suggested next that the
  dialogue's hard constraints rule out (the reading was too strict or wrong).

``ranking_checks`` runs on one ranking, ``canonical_turn`` maps a turn's gold to catalog items
(ReDial ids of one film are one item), ``summarise_checks`` and ``checks_md`` turn the records
of a replay into counts, examples and a report section. ``run_replay_checks`` replays dialogues
through the public API alone (``Agent.from_config``, ``respond``/``observe``, ``rank``):
``chatrec eval replay-checks``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from chatrec.catalog.models import Catalog
from chatrec.catalog.normalize import title_key
from chatrec.catalog.redial_dialogues import ScoredTurn
from chatrec.evaluation.report import md_table

logger = logging.getLogger(__name__)

TOP = 10
MAX_EXAMPLES = 8


def _canonical(catalog: Catalog, item_id: str) -> str:
    return catalog.canonical_id(item_id) or item_id


def canonical_turn(turn: ScoredTurn, catalog: Catalog, earlier: Iterable[str]) -> ScoredTurn:
    """``turn`` with each gold group as catalog item ids, and "new" judged by film, not by id (a
    film named earlier under its other ReDial id is not new)."""
    before = {_canonical(catalog, i) for i in earlier}
    gold = [frozenset(_canonical(catalog, i) for i in group) for group in turn.gold]
    new = [g for g in gold if not g & before]
    return replace(turn, gold=gold, gold_new=new)


def _film_key(catalog: Catalog, item_id: str) -> tuple:
    item = catalog.get(item_id)
    if item is None:
        return ("id", item_id)
    return ("film", title_key(item.title), item.year) if item.year else ("id", item.id)


def ranking_checks(ranked: Sequence[str], k: int, catalog: Catalog, named_before: Iterable[str],
                   reachable: int | None = None) -> dict:
    """Checks of one ranking.

    Args:
        ranked: item ids, best first.
        k: how many were asked for.
        catalog: the catalog ranked.
        named_before: ids of the films the dialogue named before this ranking.
        reachable: how many films could be returned at all (default: the catalog's size).
    """
    reachable = len(catalog) if reachable is None else reachable
    seen: dict[tuple, str] = {}
    twice: list[str] = []
    for item_id in ranked:
        key = _film_key(catalog, _canonical(catalog, item_id))
        if key in seen:
            twice.append(_label(catalog, item_id))
        seen.setdefault(key, item_id)
    named = {_film_key(catalog, _canonical(catalog, i)) for i in named_before if i in catalog}
    repeated = [_label(catalog, i) for i in ranked[:TOP] if _film_key(catalog, _canonical(catalog, i)) in named]
    return {"n": len(ranked), "k": k, "empty": not ranked,
            "short": 0 < len(ranked) < min(k, reachable), "twice": twice, "named_in_top10": repeated}


def _label(catalog: Catalog, item_id: str) -> str:
    item = catalog.get(item_id)
    return item.display if item is not None else item_id


def summarise_checks(records: list[dict], catalog: Catalog | None = None) -> dict:
    """Counts and examples over every scored turn of a replay's records (turns carrying
    ``checks`` from ``ranking_checks``; gold entries with ``filtered`` from the replay)."""
    out: dict[str, Any] = {"rankings": 0, "empty": 0, "short": 0, "with_a_film_twice": 0,
           "with_a_named_film_in_top10": 0, "new_gold": 0, "new_gold_excluded_by_constraints": 0}
    examples: dict[str, list] = {"empty": [], "short": [], "twice": [], "named_in_top10": [],
                                 "gold_excluded": []}
    excluded_by_kind: dict[str, int] = {}

    def example(kind: str, value: dict) -> None:
        if len(examples[kind]) < MAX_EXAMPLES:
            examples[kind].append(value)

    for record in records:
        for turn in record["turns"]:
            checks = turn.get("checks")
            constraints = {k: v for k, v in turn.get("constraints", {}).items() if k not in ("origins", "unsupported")}
            if checks is not None:
                out["rankings"] += 1
                where = turn.get("key", "")
                if checks["empty"]:
                    out["empty"] += 1
                    example("empty", {"turn": where, "constraints": constraints})
                if checks["short"]:
                    out["short"] += 1
                    example("short", {"turn": where, "n": checks["n"], "constraints": constraints})
                if checks["twice"]:
                    out["with_a_film_twice"] += 1
                    example("twice", {"turn": where, "films": checks["twice"][:3]})
                if checks["named_in_top10"]:
                    out["with_a_named_film_in_top10"] += 1
                    example("named_in_top10", {"turn": where, "films": checks["named_in_top10"][:3]})
            for g in turn["gold"]:
                if not g.get("new") or not g.get("in_catalog", True):
                    continue
                out["new_gold"] += 1
                if g.get("filtered"):
                    out["new_gold_excluded_by_constraints"] += 1
                    for kind in constraints:
                        excluded_by_kind[kind] = excluded_by_kind.get(kind, 0) + 1
                    films = [_label(catalog, i) for i in g["ids"]] if catalog is not None else g["ids"]
                    example("gold_excluded", {"turn": turn.get("key", ""), "gold": films[:1],
                                              "constraints": constraints})
    out["new_gold_excluded_share"] = round(out["new_gold_excluded_by_constraints"] / out["new_gold"], 4) \
        if out["new_gold"] else 0.0
    out["excluded_with_constraint"] = dict(sorted(excluded_by_kind.items(), key=lambda kv: -kv[1]))
    out["examples"] = examples
    return out


def checks_md(checks: dict | None) -> list[str]:
    """The report section of ``summarise_checks``' output."""
    if not checks:
        return []
    rows = [
        ["empty rankings", checks["empty"], "0"],
        ["short rankings (fewer than k)", checks["short"], "0"],
        ["a film twice in one ranking", checks["with_a_film_twice"], "0"],
        ["a film named earlier in the top 10", checks["with_a_named_film_in_top10"], "0"],
        ["new gold films excluded by constraints",
         f"{checks['new_gold_excluded_by_constraints']} of {checks['new_gold']} "
         f"({100 * checks['new_gold_excluded_share']:.1f}%)", "≤ 5%"],
    ]
    parts = ["## Ranking diagnostics", "",
             f"Over {checks['rankings']} rankings (`rank(k)` before each scored recommender turn).", "",
             md_table(["check", "found", "target"], rows), ""]
    if checks.get("excluded_with_constraint"):
        parts += ["Constraints active when a new gold film was excluded: "
                  + ", ".join(f"{k} {v}" for k, v in checks["excluded_with_constraint"].items()) + ".", ""]
    titles = {"empty": "Empty rankings", "short": "Short rankings", "twice": "A film twice",
              "named_in_top10": "A film named earlier, in the top 10",
              "gold_excluded": "Gold films excluded by constraints"}
    for kind, found in checks.get("examples", {}).items():
        if found:
            parts += [f"{titles[kind]} (examples):", ""]
            parts += [f"- `{e.get('turn', '')}`: " + ", ".join(
                f"{key} {value}" for key, value in e.items() if key != "turn") for e in found]
            parts.append("")
    return parts


# ---------------------------------------------------------------------------- public-API replay
class ReplayChecksConfig(BaseModel):
    """A replay of ReDial dialogues through the public API, for the ranking diagnostics only.

    Attributes:
        dialogues: ReDial dialogue files (raw release or iEvaLM dialogues).
        iard: IARD dialogues (``umap2020_IARD_Cai.json``) also replayed, except those already in
            ``dialogues``; None: none.
        catalog: the catalog spec given to ``Agent.from_config``.
        k: the ranking size asked of ``rank``.
    """

    dialogues: list[str]
    iard: str | None = None
    catalog: str = "redial"
    k: int = 50


def run_replay_checks(config: ReplayChecksConfig, settings, out, limit: int | None = None,
                      show_progress: bool = True, fresh: bool = False) -> dict:
    """Replay every dialogue through ``Agent.from_config`` (no LLM, no store) and record
    ``ranking_checks`` and the constraint exclusions of each scored turn."""
    from chatrec.agent import Agent
    from chatrec.catalog.redial_dialogues import NameFinder, read_dialogues, read_iard, scored_turns
    from chatrec.evaluation.redial_eval import Unit, redial_names, replay
    from chatrec.evaluation.run import LogTally, RunDir, progress, provenance

    run = RunDir(out, "replay-checks", {**config.model_dump(), "limit": limit}, fresh=fresh)
    with run.timed("setup"):
        agent = Agent.from_config(catalog=config.catalog, settings=settings, llm=False, store=False)
        catalog = agent.catalog
        units: list[Unit] = []
        seen: set[str] = set()
        for path in config.dialogues:
            for d in read_dialogues(Path(path)):
                if d.conversation_id not in seen:
                    seen.add(d.conversation_id)
                    units.append(Unit(d.conversation_id, d.conversation_id, d.messages, scored_turns(d), False))
        if config.iard:
            for d in read_iard(Path(config.iard), exclude=seen):
                units.append(Unit(f"iard:{d.conversation_id}", d.conversation_id, d.messages,
                                  scored_turns(d), False))
        units = [u for u in units if u.scored]
        # "@id" mentions are written out as ReDial's own names, as the scored replay does.
        names = redial_names(settings)
        finder = NameFinder(names)
    todo = units[:limit] if limit else units
    done = run.done()
    with LogTally() as tally:
        for unit in progress(todo, len(todo), "ReDial replay (public API)", show_progress):
            if unit.key in done:
                continue
            started = time.perf_counter()
            record = replay(agent, None, unit, names, finder, None, catalog, k=config.k)
            record["seconds"] = round(time.perf_counter() - started, 3)
            run.record(unit.key, record)
            done[unit.key] = record
    records = [done[u.key] for u in todo if u.key in done]
    checks = summarise_checks(records, catalog)
    metrics = {"diagnostics": checks, "units": len(records),
               "turns": sum(len(r["turns"]) for r in records), "agent_warnings": tally.summary()}
    files = [Path(p) for p in config.dialogues] + ([Path(config.iard)] if config.iard else [])
    run.write_results(metrics, provenance(catalog, files))
    from chatrec.evaluation.report import provenance_md, warnings_md

    parts = ["# ReDial replay checks (public API)", "",
             f"{metrics['units']} dialogues, {metrics['turns']} scored turns, replayed through "
             f"`Agent.from_config(catalog={config.catalog!r})`: seeker turns with `respond`, recommender "
             f"turns with `observe`, `rank(k={config.k})` before every recommender turn that names a film.",
             "", *checks_md(checks), warnings_md(metrics),
             provenance_md(run.config, run.path("results.json"), run.timings)]
    run.write_report("\n".join(parts) + "\n")
    return metrics
