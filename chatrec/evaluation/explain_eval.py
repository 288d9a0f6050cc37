"""``chatrec eval explain``: PEPLER-style explanation metrics over the explanations of a sim run,
and how many explanation claims are KG edges.

* USR, unique sentence ratio: distinct explanation sentences ÷ explanations (higher: less
  repetitive).
* FCR, feature coverage ratio: distinct features (KG entities: people, genres, keywords, decades)
  named by any explanation ÷ the features the recommended items have (and ÷ all KG features).
* FD, feature diversity: mean over pairs of explanations of the features they share (lower: more
  diverse); computed exactly as Σ_f C(n_f, 2) ÷ C(N, 2).
* KG-edge share: every ``Fact`` in every recommendation's evidence must be an edge of the graph
  (``kg.has_fact``): must be 1.0. A second, text-level check links the explanation text itself and
  asks that each person/genre/keyword/title it names is backed by the evidence.

The baseline is one fixed template for every item: "A {genre} film from the {decade}."
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

from chatrec.catalog.normalize import label_key
from chatrec.config import Settings
from chatrec.errors import ConfigError
from chatrec.evaluation.run import RunDir, provenance, read_checkpoint
from kg.models import (
    DECADE,
    GENRE,
    HAS_GENRE,
    ITEM,
    KEYWORD,
    PERSON,
    RELEASED_IN,
    item_node,
    node_kind,
)

FEATURE_KINDS = (PERSON, GENRE, KEYWORD, DECADE)


def collect(records: list[dict], system: str = "agent") -> list[dict]:
    """Every shown recommendation's explanation in a sim run: {"item", "text", "evidence"}."""
    out = []
    for record in records:
        for turn in record["systems"].get(system, {}).get("turns", []):
            out.extend(turn.get("explanations", []))
    return out


def template_explanations(explanations: list[dict], kg) -> list[dict]:
    """The fixed-template baseline for the same recommended items."""
    out = []
    for entry in explanations:
        facts = kg.facts_of(entry["item"])
        genre = next((f for f in facts if f.relation == HAS_GENRE), None)
        decade = next((f for f in facts if f.relation == RELEASED_IN), None)
        used = [f for f in (genre, decade) if f is not None]
        genre_label = genre.object_label if genre else ""
        decade_label = decade.object_label if decade else "past"
        text = f"A {genre_label} film from the {decade_label}."
        out.append(
            {
                "item": entry["item"],
                "text": " ".join(text.split()),
                "evidence": [f.model_dump() for f in used],
            }
        )
    return out


def features(entry: dict) -> set[str]:
    return {f["object"] for f in entry["evidence"] if node_kind(f["object"]) in FEATURE_KINDS}


def pepler(explanations: list[dict], kg, linker=None) -> dict:
    """USR, FCR, FD and the KG-edge shares of a list of explanations."""
    n = len(explanations)
    if n == 0:
        return {"n": 0}
    usr = len({e["text"] for e in explanations}) / n
    feature_sets = [features(e) for e in explanations]
    named = set().union(*feature_sets)
    available = set()
    for item_id in {e["item"] for e in explanations}:
        available |= {node for node in kg.entities_of(item_id) if node_kind(node) in FEATURE_KINDS}
    all_features = {node for node in kg.entity_nodes() if node_kind(node) in FEATURE_KINDS}
    counts = Counter(f for s in feature_sets for f in s)
    pairs = math.comb(n, 2)
    fd = sum(math.comb(c, 2) for c in counts.values()) / pairs if pairs else 0.0

    claims = valid = 0
    for entry in explanations:
        for fact in entry["evidence"]:
            claims += 1
            subject = fact["subject"].split(":", 1)[1]
            valid += int(kg.has_fact(subject, fact["relation"], fact["object"]))
    result = {
        "n": n,
        "usr": round(usr, 4),
        "fcr_recommended": round(len(named) / max(len(available), 1), 4),
        "fcr_all": round(len(named) / max(len(all_features), 1), 4),
        "fd": round(fd, 4),
        "features_named": len(named),
        "evidence_facts": claims,
        "kg_edge_share": round(valid / claims, 4) if claims else None,
        "explanations_without_evidence": sum(1 for e in explanations if not e["evidence"]),
    }
    if linker is not None:
        result.update(text_grounding(explanations, linker))
    return result


def text_grounding(explanations: list[dict], linker) -> dict:
    """Link each explanation's text; every person/genre/keyword/item it names must be the object or
    subject of one of its evidence facts (or the recommended item itself). Approximate: the linker
    may read an ordinary word as a keyword, which then shows up here as unbacked."""
    mentions = backed = 0
    unbacked: Counter[str] = Counter()
    for entry in explanations:
        allowed = {item_node(entry["item"])}
        said = set()
        for fact in entry["evidence"]:
            allowed.add(fact["object"])
            allowed.add(fact["subject"])
            said.add(label_key(fact["object_label"]))
        for mention in linker.link(entry["text"]):
            if mention.kind not in (PERSON, GENRE, KEYWORD, ITEM):
                continue
            mentions += 1
            # "tagged 'hilarious'" names the keyword the evidence holds, though the linker reads the
            # word as the genre comedy: the surface form decides.
            if (
                mention.node in allowed
                or label_key(mention.text) in said
                or any(alt in allowed for alt in getattr(mention, "alternatives", []) or [])
            ):
                backed += 1
            else:
                unbacked[f"{mention.text} → {mention.node}"] += 1
    return {
        "text_mentions": mentions,
        "text_mentions_backed": round(backed / mentions, 4) if mentions else None,
        "text_unbacked_examples": unbacked.most_common(10),
    }


def run_explain(sim_run: Path, settings: Settings, out) -> dict:
    """Score the explanations of the sim run in ``sim_run`` (its checkpoints)."""
    from chatrec.catalog import load_catalog
    from kg.graph import KnowledgeGraph
    from kg.linker import EntityLinker

    records = list(read_checkpoint(Path(sim_run) / "checkpoints" / "units.jsonl").values())
    if not records:
        raise ConfigError(
            f"no simulated dialogues in {sim_run}: run `chatrec eval sim --out {sim_run}` first"
        )
    run = RunDir(out, "explain", {"sim_run": str(sim_run), "users": len(records)}, fresh=True)
    with run.timed("setup"):
        catalog = load_catalog("movielens", settings)
        kg = KnowledgeGraph.load_or_build(catalog, settings)
        linker = EntityLinker(kg, catalog)
    with run.timed("score"):
        agent = collect(records)
        template = template_explanations(agent, kg)
        metrics = {"agent": pepler(agent, kg, linker), "template": pepler(template, kg, linker)}
    sim_results = Path(sim_run) / "results.json"
    result = {
        "kg_edge_share": metrics["agent"].get("kg_edge_share"),
        "systems": metrics,
        "sim_run": str(sim_run),
        # the explanations are the sim run's: so is the agent that wrote them
        "agent_config": (json.loads(sim_results.read_text(encoding="utf-8")).get("agent_config")
                         if sim_results.exists() else None),
    }
    run.write_results(result, provenance(catalog, [Path(sim_run) / "results.json"]))
    from chatrec.evaluation.report_explain import write_explain_report

    write_explain_report(run, result, agent)
    return result
