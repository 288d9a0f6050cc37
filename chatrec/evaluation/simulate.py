"""``chatrec eval sim``: simulated users on MovieLens (DESIGN.md, protocol 1).

For each sampled user one target they rated ≥ 4 is held out of their history *and* of the data
the collaborative models are fitted on. A scripted ``SimulatedUser`` then talks to the agent and
to each baseline in turn, the same user with the same target and the same seed, for at most
``turns`` system turns; a hit is the target among the ``k`` shown items. The scripted user speaks
with phrases written after real seekers (``chatrec.evaluation.phrases``); every user is run once
with the tuning half of the phrase bank and once with the held-out half, and the held-out half is
reported (the gap between the two says how much the agent is fitted to phrasings). With
``simulator="llm"`` an LLM writes the user's messages instead (``chatrec.evaluation.llm_user``),
on the same targets, plans and accept rule. ``--simulator seeker-replay`` (real ReDial seekers'
own words) is ``chatrec.evaluation.seeker_replay``; all three report ``chatrec.evaluation.outcomes``.
"""

from __future__ import annotations

import logging
import random
import statistics
import time
import zlib
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from chatrec.catalog.models import Catalog
from chatrec.config import Settings
from chatrec.evaluation import metrics as M
from chatrec.evaluation.consistency import ConsistencyCounter
from chatrec.evaluation.outcomes import from_records, headline
from chatrec.evaluation.phrases import GENRE_NOUN, HALVES, Half, Phrases
from chatrec.evaluation.run import LogTally, RunDir, progress, provenance
from chatrec.evaluation.understanding import check
from chatrec.evaluation.user import Meaning, SimulatedUser, SystemTurn

if TYPE_CHECKING:
    from chatrec.evaluation.llm_user import LLMSimulatedUser

logger = logging.getLogger(__name__)

SYSTEMS = ("agent", "popularity", "vector", "collab")
MIN_TARGET_RATING = 4.0


class SimConfig(BaseModel):
    """Everything that determines a simulation run's results.

    Attributes:
        users: how many users are sampled (their targets are all held out, whatever ``limit``).
        turns: T, system turns per dialogue.
        k: items shown per turn; a hit is the target among them.
        seed: the run's seed (users, targets, phrasing).
        split: "test" (reported) or "tune" (for choosing weights): disjoint user pools.
        systems: which systems talk to the users.
        min_history: users need at least this many ratings besides the target.
        keywords: keywords the simulated user may reveal (0 makes the task harder).
        weights: FusionWeights overrides for the agent (tuning), None = the agent's defaults.
        simulator: "rules" (scripted) or "llm" (an LLM writes the user's messages).
        simulator_model: the simulator LLM's model (filled in by ``run_sim``).
        phrases: which half of the phrase bank the scripted user speaks with: "both" runs every
            user once with each half and reports the held-out one (the LLM simulator, whose
            own words replace the phrases, falls back on the held-out half).
    """

    users: int = 100
    turns: int = 5
    k: int = 5
    seed: int = 0
    split: Literal["test", "tune"] = "test"
    systems: list[str] = Field(default_factory=lambda: list(SYSTEMS))
    min_history: int = 10
    keywords: int = 2
    weights: dict[str, float] | None = None
    simulator: Literal["rules", "llm"] = "rules"
    simulator_model: str | None = None
    phrases: Literal["both", "tuning", "held-out"] = "both"

    def halves(self) -> tuple[Half, ...]:
        """The phrase halves each user is run with; the last one is reported."""
        if self.phrases != "both":
            return (self.phrases,)
        return HALVES if self.simulator == "rules" else ("held-out",)


def _config_dict(config: SimConfig) -> dict:
    """The run's configuration (the LLM's model only when an LLM plays the user)."""
    values = config.model_dump()
    if config.simulator == "rules":
        values.pop("simulator_model")
    return values


def user_split(user_id: str) -> str:
    """A fixed quarter of the users is reserved for tuning; the rest is reported on."""
    return "tune" if zlib.crc32(f"sim-split:{user_id}".encode()) % 4 == 0 else "test"


def pick_targets(catalog: Catalog, config: SimConfig) -> list[tuple[str, str]]:
    """(user, target) pairs, seeded. A target is a movie the user rated ≥ 4 that has a year and a
    genre the simulated user can name."""
    inter = catalog.interactions
    assert inter is not None
    pool = sorted((u for u in inter.user_ids if user_split(u) == config.split), key=_numeric)
    rng = random.Random(f"{config.seed}:users")
    rng.shuffle(pool)
    pairs: list[tuple[str, str]] = []
    for user in pool:
        history = inter.history(user)
        if len(history) < config.min_history + 1:
            continue
        liked = sorted(
            str(i) for i, r in zip(history["item_id"], history["rating"]) if r >= MIN_TARGET_RATING
        )
        candidates = [
            i
            for i in liked
            if i in catalog and catalog[i].year and any(g in GENRE_NOUN for g in catalog[i].genres)
        ]
        if not candidates:
            continue
        pairs.append((user, random.Random(f"{config.seed}:{user}:target").choice(candidates)))
        if len(pairs) == config.users:
            break
    return pairs


def _numeric(value: str) -> tuple[int, str]:
    return (int(value), value) if value.isdigit() else (10**12, value)


def _fact_dict(fact) -> dict:
    return {
        "subject": fact.subject,
        "relation": fact.relation,
        "object": fact.object,
        "subject_label": fact.subject_label,
        "object_label": fact.object_label,
    }


def _meaning_dict(meaning: Meaning) -> dict:
    return {
        "reveals": [[a.kind, a.value] for a in meaning.reveals],
        "excludes_genres": list(meaning.excludes_genres),
        "newer_than": meaning.newer_than,
        "older_than": meaning.older_than,
        "rejects": meaning.rejects,
        "accepted": meaning.accepted,
    }


def converse(
    system,
    user: SimulatedUser | LLMSimulatedUser,
    session_id: str,
    user_id: str,
    turns: int,
    k: int,
    counter: ConsistencyCounter | None = None,
) -> dict:
    """One dialogue between a simulated user and a system; returns its record."""
    system.start(session_id, user_id)
    utterance = user.opening()
    record: dict = {"hit_turn": None, "turns": []}
    started = time.perf_counter()
    for t in range(1, turns + 1):
        answer: SystemTurn = system.turn(session_id, utterance.text)
        entry = {
            "user": utterance.text,
            "templates": utterance.templates,
            "meaning": _meaning_dict(utterance.meaning),
            "items": answer.items[:k],
            "question": answer.question,
        }
        llm_record = getattr(utterance, "llm", None)
        if llm_record:
            entry["llm"] = llm_record
        if counter is not None:
            entry["consistent"] = counter.count(user.told)
        reply = getattr(system, "last_reply", None)
        if reply is not None:
            entry["understood"] = check(utterance.meaning, reply.trace.act)
            entry["decision"] = reply.trace.decision
            entry["text"] = answer.text
            entry["explanations"] = [
                {
                    "item": r.item.id,
                    "text": r.explanation,
                    "evidence": [_fact_dict(f) for f in r.evidence],
                }
                for r in reply.recommendations[:k]
            ]
            if reply.trace.act is not None:
                act = reply.trace.act
                entry["act"] = {
                    "intent": act.intent,
                    "constraints": act.constraints.model_dump(exclude_defaults=True),
                    "liked_attributes": act.liked_attributes,
                    "disliked_attributes": act.disliked_attributes,
                    "disliked_items": act.disliked_items,
                    "refinements": act.refinements,
                    "query_text": act.query_text,
                }
        if hasattr(system, "rank") and getattr(system, "diagnose_rank", False):
            ranked = system.rank(session_id, 50)
            entry["target_rank50"] = M.rank_of(ranked, user.target.id)
        record["turns"].append(entry)
        if user.target.id in answer.items[:k]:
            record["hit_turn"] = t
            break
        if t == turns:
            break  # no message after the last turn (an LLM user would pay for an unsent one)
        utterance = user.reply(answer)
    record["seconds"] = round(time.perf_counter() - started, 3)
    system.finish(session_id)
    return record


def agent_config(k: int, weights: dict | None):
    """The policy of the agent a simulation evaluates (also when a resumed run builds none)."""
    from chatrec.agent.config import AgentConfig
    from chatrec.agent.retrieve import FusionWeights

    return AgentConfig(k=k, weights=FusionWeights(**weights) if weights else FusionWeights())


def build_systems(names: list[str], catalog: Catalog, resources, k: int, weights: dict | None):
    from chatrec.evaluation.systems import AgentSystem, CollaborativeSystem, PopularitySystem, VectorSystem

    systems = {}
    for name in names:
        if name == "agent":
            from chatrec.agent import Agent

            agent = Agent(resources, store=None, llm=None, config=agent_config(k, weights))
            systems[name] = AgentSystem(agent, k)
        elif name == "popularity":
            systems[name] = PopularitySystem(catalog, k)
        elif name == "vector":
            if resources.index is None:
                logger.warning("no vector index: the vector-only baseline is skipped")
                continue
            systems[name] = VectorSystem(catalog, k, resources.index)
        elif name == "collab":
            systems[name] = CollaborativeSystem(catalog, k, resources.collab)
        else:
            raise ValueError(f"unknown system {name!r} (choose from {', '.join(SYSTEMS)})")
    return systems


def run_sim(
    config: SimConfig,
    settings: Settings,
    out,
    limit: int | None = None,
    show_progress: bool = True,
    fresh: bool = False,
    with_index: bool = True,
    llm_cache=None,
    llm=None,
) -> dict:
    """Run (or resume) a simulation; write results.json and report.md into ``out``.

    With ``config.simulator == "llm"``, ``llm_cache`` is where the simulator's responses are
    cached (default ``$CHATREC_HOME/llm-cache``) and ``llm`` an ``LLM`` to use instead of the
    configured one.

    Raises:
        ConfigError: the LLM simulator is asked for and no LLM is configured.
    """
    from chatrec.catalog import load_catalog
    from chatrec.evaluation.heldout import heldout_catalog, resources_for

    sim_llm = None
    if config.simulator == "llm":
        from chatrec.evaluation.llm_user import make_simulator_llm

        sim_llm = make_simulator_llm(settings, config.seed, llm_cache, llm)
        config = config.model_copy(update={"simulator_model": sim_llm.model_id})
    run = RunDir(out, "sim", {**_config_dict(config), "limit": limit}, fresh=fresh)
    with run.timed("setup"):
        full = load_catalog("movielens", settings)
        pairs = pick_targets(full, config)
        held = heldout_catalog(full, pairs)
    todo = pairs[:limit] if limit else pairs
    halves = config.halves()
    units = [(u, t, h) for u, t in todo for h in halves]
    done = run.done()
    missing = [unit for unit in units if _key(*unit) not in done]
    if missing:
        with run.timed("setup"):
            resources = resources_for(held, settings, with_index=with_index)
            systems = build_systems(config.systems, held, resources, config.k, config.weights)
            counter = ConsistencyCounter(held, resources.kg)
    with LogTally() as tally:
        for user_id, target, half in progress(missing, len(missing), "simulated users", show_progress):
            record = {
                "user": user_id,
                "target": target,
                "target_title": held[target].display,
                "phrases": half,
                "systems": {},
            }
            for name, system in systems.items():
                seed = f"{config.seed}:{user_id}"
                sim_user = SimulatedUser(
                    held[target], held, resources.kg, seed, config.keywords, Phrases(half)
                )
                speaker: SimulatedUser | LLMSimulatedUser = sim_user
                if sim_llm is not None:
                    from chatrec.evaluation.llm_user import LLMSimulatedUser

                    speaker = LLMSimulatedUser(sim_user, sim_llm)
                record["plan"] = [[a.kind, a.value] for a in speaker.plan]
                with run.timed(f"system.{name}"):
                    record["systems"][name] = converse(
                        system,
                        speaker,
                        f"sim:{config.seed}:{user_id}:{half}:{name}",
                        user_id,
                        config.turns,
                        config.k,
                        counter,
                    )
            shown = {
                i for r in record["systems"].values() for turn in r["turns"] for i in turn["items"]
            }
            record["titles"] = {i: held[i].display for i in sorted(shown) if i in held}
            key = _key(user_id, target, half)
            run.record(key, record)
            done[key] = record
    by_half = {h: [done[_key(u, t, h)] for u, t in todo if _key(u, t, h) in done] for h in halves}
    reported = halves[-1]  # the held-out half when both run: the phrasings nobody tuned on
    records = by_half[reported]
    names = (
        list(systems)
        if missing
        else [n for n in config.systems if records and n in records[0]["systems"]]
    )
    metrics = headline(from_records(records, names, "hit_turn"), config.k, config.seed)
    metrics["simulator"] = config.simulator
    metrics["phrases"] = reported
    metrics.update(summarise(records, config, names))
    if len(halves) > 1:
        metrics["phrase_halves"] = {
            h: {
                **headline(from_records(by_half[h], names, "hit_turn"), config.k, config.seed),
                "understanding": _understanding(by_half[h]) if "agent" in names else None,
            }
            for h in halves
        }
        key = f"success@{config.k}"
        tuned, held_out = (metrics["phrase_halves"][h].get(key) for h in HALVES)
        if tuned is not None and held_out is not None:
            metrics["phrase_gap"] = round(tuned - held_out, 4)
    metrics["agent_warnings"] = tally.summary()
    if "agent" in config.systems:
        metrics["agent_config"] = agent_config(config.k, config.weights).model_dump(mode="json")
    if sim_llm is not None:
        from chatrec.evaluation.llm_user import llm_summary

        metrics["llm_simulator"] = {
            "model": sim_llm.model_id,
            "seed": config.seed,
            **llm_summary(records, names),
        }
        # What this process asked of the server: a cost, like the timings (a rerun makes none).
        run.timings["llm_calls"] = sim_llm.stats["calls"]
        run.timings["llm_cache_hits"] = sim_llm.stats["cache_hits"]
    info = provenance(
        held,
        extra={
            "heldout_pairs": len(pairs),
            "heldout_interactions": len(held.interactions or ()),
            "evaluated_users": len(records),
        },
    )
    run.write_results(metrics, info)
    from chatrec.evaluation.report_sim import write_sim_report

    write_sim_report(run, metrics, records, config)
    return metrics


def _key(user_id: str, target: str, half: str | None) -> str:
    return f"{user_id}:{target}" + (f":{half}" if half else "")


def summarise(records: list[dict], config: SimConfig, systems: list[str]) -> dict:
    """Hit@k within T, average turns (miss = T + 1), recall per turn, with bootstrap intervals."""
    T, k = config.turns, config.k
    out: dict = {"n_users": len(records), "turns": T, "k": k, "systems": {}}
    for name in systems:
        hits = [1.0 if r["systems"][name]["hit_turn"] else 0.0 for r in records]
        turns = [float(r["systems"][name]["hit_turn"] or T + 1) for r in records]
        per_turn = [
            M.summary(
                [1.0 if (r["systems"][name]["hit_turn"] or T + 1) <= t else 0.0 for r in records],
                config.seed,
            )["mean"]
            for t in range(1, T + 1)
        ]
        out["systems"][name] = {
            f"hit@{k}": M.summary(hits, config.seed),
            "avg_turns": M.summary(turns, config.seed),
            "recall_per_turn": per_turn,
        }
    key = f"hit@{k}"
    if records and "agent" in systems:
        out[f"agent_{key}"] = out["systems"]["agent"][key]["mean"]
        agent_hits = [1.0 if r["systems"]["agent"]["hit_turn"] else 0.0 for r in records]
        for base in systems:
            if base == "agent":
                continue
            base_hits = [1.0 if r["systems"][base]["hit_turn"] else 0.0 for r in records]
            ratio, low, high = M.ratio_ci(agent_hits, base_hits, config.seed)
            out["systems"][base]["agent_ratio"] = {
                "ratio": M.finite(ratio, 3),
                "ci_low": M.finite(low, 3),
                "ci_high": M.finite(high, 3),
            }
        out["consistent_items"] = _consistency(records, "agent")
        out["understanding"] = _understanding(records)
    return out


def _consistency(records: list[dict], system: str) -> dict:
    """Median number of catalog items consistent with everything the user had said, after each
    user message and at the end of the dialogue."""
    finals = [
        r["systems"][system]["turns"][-1].get("consistent")
        for r in records
        if r["systems"][system]["turns"]
    ]
    finals = [f for f in finals if f is not None]
    per_turn = []
    longest = max((len(r["systems"][system]["turns"]) for r in records), default=0)
    for t in range(longest):
        values = [
            r["systems"][system]["turns"][t].get("consistent")
            for r in records
            if len(r["systems"][system]["turns"]) > t
        ]
        values = [v for v in values if v is not None]
        per_turn.append(statistics.median(values) if values else None)
    return {
        "median_final": statistics.median(finals) if finals else None,
        "median_per_turn": per_turn,
    }


def _understanding(records: list[dict]) -> dict:
    """Share of each kind of statement the agent's understanding captured, overall and by
    template (which phrasing)."""
    by_element: dict[str, list[int]] = {}
    by_template: dict[str, list[int]] = {}
    prefix = {
        "genre+": "genre/",
        "decade+": "decade/",
        "keyword+": "keyword/",
        "director+": "director/",
        "cast+": "cast/",
        "genre-": "not_genre/",
        "newer": "newer/",
        "older": "older/",
        "reject": "reject/",
    }
    for record in records:
        for turn in record["systems"]["agent"]["turns"]:
            for entry in turn.get("understood", []):
                element, ok = entry["element"], int(entry["understood"])
                by_element.setdefault(element, []).append(ok)
                for template in turn["templates"]:
                    if template.startswith(prefix.get(element, "?")):
                        by_template.setdefault(template, []).append(ok)
    return {
        "by_element": {
            e: {"rate": round(sum(v) / len(v), 3), "n": len(v)}
            for e, v in sorted(by_element.items())
        },
        "by_template": {
            t: {"rate": round(sum(v) / len(v), 3), "n": len(v)}
            for t, v in sorted(by_template.items())
        },
    }
