"""The report of a seeker-replay run: success@k of the agent and the baselines on the validation
and test splits, how the agent spent its turns, and episodes to read (what the seeker said, what
the agent understood and showed, the films the seeker ended up liking)."""

from __future__ import annotations

from chatrec.evaluation.report import md_table, num, provenance_md, warnings_md

SUMMARY_HEADER = ["split", "episodes", "system", "success@k [95% CI]", "median turns",
                  "questions / episode", "agent ÷ system [95% CI]"]


def _interval(entry: dict, key: str) -> str:
    low, high = entry.get(f"{key}_ci") or [None, None]
    if entry.get(key) is None:
        return "–"
    return f"{num(entry[key])} [{num(low)}, {num(high)}]"


def summary_rows(metrics: dict) -> list[list[str]]:
    k = metrics["k"]
    key = f"success@{k}"
    rows = []
    blocks = [("all", metrics), *[(s, b) for s, b in metrics.get("splits", {}).items()]]
    for split, block in blocks:
        if key not in block:
            continue
        rows.append([split, str(block["episodes"]), "agent", _interval(block, key),
                     num(block.get("median_turns"), 1), num(block.get("questions_per_episode"), 2), ""])
        for name, entry in block["baselines"].items():
            ratio = entry.get("agent_ratio") or {}
            rows.append([split, str(entry["episodes"]), name, _interval(entry, key),
                         num(entry.get("median_turns"), 1), "–",
                         f"{num(ratio.get('ratio'), 2)} [{num(ratio.get('ci_low'), 2)}, "
                         f"{num(ratio.get('ci_high'), 2)}]" if ratio else "–"])
    return rows


def _transcript(record: dict, system: str = "agent", max_turns: int = 6) -> str:
    titles = record.get("titles", {})
    lines = [f"**Dialogue {record['conversation_id']}** ({record['split']}); the seeker ended up "
             f"liking: {', '.join(record['target_titles'])}"]
    played = record["systems"][system]["turns"]
    for said, turn in list(zip(record["seeker"], played))[:max_turns]:
        lines.append(f"- seeker: “{said}”")
        act = turn.get("act")
        if act:
            lines.append(f"  - understood: intent={act['intent']} constraints={act['constraints']} "
                         f"liked={act['liked_attributes'] + act['liked_items']} "
                         f"disliked={act['disliked_attributes']}")
        if turn.get("question"):
            lines.append(f"  - {system} asks ({turn['question']})")
        shown = [titles.get(i, i) for i in turn["items"]]
        if shown:
            lines.append(f"  - {system} shows: " + "; ".join(shown))
        elif not turn.get("question"):
            lines.append(f"  - {system} shows no film ({turn.get('decision') or 'no decision'})")
        if turn.get("target_rank50") is not None:
            lines.append(f"  - best target at rank {turn['target_rank50']} of rank(k=50)")
    success = record["systems"][system]["success_turn"]
    lines.append(f"- result: {'success at turn ' + str(success) if success else 'no target shown'}")
    return "\n".join(lines)


def write_replay_report(run, metrics: dict, records: list[dict]) -> None:
    k = metrics["k"]
    data = metrics["input"]
    skipped = ", ".join(f"{why}: {n}" for why, n in data["skipped"].items()) or "none"
    parts = [
        f"# Seeker replay — {data['episodes']} ReDial seekers, success@{k}",
        "",
        "Each seeker says their own messages, in order, until someone names a film the seeker "
        "ended up liking (questionnaire: suggested and liked; hidden from every system). After "
        f"each message the system answers; success: one of those films among its first {k} "
        "recommendations. The human recommender's messages are not replayed.",
        "",
        f"Input: `{data['dialogues']}`; episodes {data['episodes']}; dialogues left out: {skipped}. "
        f"Episodes ended by the recommender naming a target / the seeker naming one / the end: "
        f"{data['ended_by']}. Targets per episode {data['targets_per_episode']}, seeker turns per "
        f"episode {data['seeker_turns_per_episode']}. Split: fold {data['validation_fold']} of "
        f"{data['folds']} (crc32 of the conversation id) is validation, the others test. "
        f"What the agent learns ({data['training']['learnt_by_agent']}) and the popularity "
        f"baseline ({data['training']['popularity_baseline']}) come from "
        f"`{data['training']['dialogues']}` ({data['training']['count']} dialogues): "
        f"{data['training']['mode']}.",
        "",
        "## Results",
        "",
        md_table(SUMMARY_HEADER, summary_rows(metrics)).replace("success@k", f"success@{k}"),
        "",
    ]
    d = metrics.get("diagnostics", {})
    if d.get("agent_turns"):
        parts += [
            "## How the agent spent its turns",
            "",
            f"{d['agent_turns']} replies; {d['agent_turns_without_films']} without a film; "
            "decisions: " + ", ".join(f"{name} {n}" for name, n in d["agent_decisions"].items()) + ". "
            f"After the seeker's last message a target was in the agent's `rank(k=50)` in "
            f"{d['target_in_rank50_at_end']} of {d['episodes_with_rank_diagnostic']} episodes "
            f"(top 10: {d['target_in_rank10_at_end']}).",
            "",
        ]
    if records and "agent" in records[0]["systems"]:
        wins = [r for r in records if r["systems"]["agent"]["success_turn"]][:3]
        losses = [r for r in records if not r["systems"]["agent"]["success_turn"]][:5]
        parts += ["## Episodes (agent)", ""]
        for record in wins + losses:
            parts += [_transcript(record), ""]
    parts.append(warnings_md(metrics))
    parts.append(provenance_md(run.config, run.path("results.json"), run.timings))
    run.write_report("\n".join(parts) + "\n")
