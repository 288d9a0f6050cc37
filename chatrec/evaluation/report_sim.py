"""The report of a simulation run: hit rates with intervals, recall per turn, how much the user
revealed (consistent items), what the agent understood (by phrasing), and sample dialogues."""

from __future__ import annotations

import statistics
from collections import Counter

from chatrec.evaluation import phrases as P
from chatrec.evaluation.report import ci, md_table, provenance_md, pyplot, save_plot, warnings_md

TARGET_RATIO = 2.0


def template_text(template_id: str) -> str:
    """The wording behind a template id ("decade/3" → "Anything from the {tick}?")."""
    template = P.BY_ID.get(template_id)
    return template.text if template is not None else template_id


def summary_rows(metrics: dict) -> list[list[str]]:
    k = metrics["k"]
    rows = []
    for name, m in metrics["systems"].items():
        ratio = m.get("agent_ratio")
        rows.append(
            [
                name,
                ci(m[f"hit@{k}"]),
                ci(m["avg_turns"], 2),
                " ".join(f"{v:.2f}" for v in m["recall_per_turn"]),
                ci(ratio, 2, key="ratio"),
            ]
        )
    return rows


SUMMARY_HEADER = [
    "system",
    "Hit@k within T [95% CI]",
    "avg turns (miss = T+1)",
    "recall by turn 1..T",
    "agent ÷ system",
]


def _transcript(record: dict, system: str, catalog_titles: dict[str, str]) -> str:
    lines = [
        f"**User {record['user']}**, target *{record['target_title']}*; plan: "
        + ", ".join(f"{k}={v}" for k, v in record.get("plan", []))
    ]
    for t, turn in enumerate(record["systems"][system]["turns"], 1):
        llm = turn.get("llm")
        source = ""
        if llm:
            source = " [LLM]" if llm["used"] else f" [scripted: LLM {llm['reason']}]"
        lines.append(
            f"- T{t} user{source}: “{turn['user']}”  "
            f"(consistent items: {turn.get('consistent', '–')})"
        )
        if turn.get("question"):
            lines.append(f"  - {system} asks ({turn['question']})")
        shown = [str(catalog_titles.get(i) or i) for i in turn["items"]]
        if shown:
            lines.append(f"  - {system} shows: " + "; ".join(shown))
        if turn.get("act"):
            act = turn["act"]
            lines.append(
                f"  - understood: intent={act['intent']} constraints={act['constraints']} "
                f"liked={act['liked_attributes']} disliked={act['disliked_attributes']} "
                f"refinements={act['refinements']}"
            )
        if turn.get("target_rank50") is not None:
            lines.append(f"  - target at rank {turn['target_rank50']} of agent.rank(50)")
    hit = record["systems"][system]["hit_turn"]
    lines.append(f"- result: {'hit at turn ' + str(hit) if hit else 'miss'}")
    return "\n".join(lines)


def write_sim_report(run, metrics: dict, records: list[dict], config) -> None:
    plt = pyplot()
    k, T = config.k, config.turns
    parts = [
        f"# Simulated users on MovieLens — seed {config.seed}, {metrics['n_users']} users "
        f"({config.split} split), T={T}, k={k}, up to {config.keywords} keywords revealed",
        "",
    ]
    llm = metrics.get("llm_simulator")
    parts.append(
        "Each user hides one movie they rated ≥ 4 (removed from their history and from the "
        f"collaborative models' training data); a {'simulated' if llm else 'scripted'} user "
        "describes it without naming it, one new attribute per turn at most, and accepts when "
        "it is shown."
    )
    if llm:
        parts += ["", llm_md(llm)]
    parts += ["", "## Results", ""]
    if metrics.get("phrases"):
        parts += [f"The user speaks with the **{metrics['phrases']}** half of the phrase bank "
                  "(templates written after real ReDial/IARD seekers, `chatrec/evaluation/phrases.py`).",
                  ""]
    parts += [md_table(SUMMARY_HEADER, summary_rows(metrics)), ""]
    if metrics.get("phrase_halves"):
        parts += ["### Tuning and held-out phrases", "", halves_md(metrics), ""]
    if "agent" in metrics["systems"] and "vector" in metrics["systems"]:
        ratio = metrics["systems"]["vector"].get("agent_ratio", {}).get("ratio")
        verdict = "reached" if ratio is not None and ratio >= TARGET_RATIO else "NOT reached"
        parts.append(
            f"Target: agent Hit@{k} ≥ {TARGET_RATIO}× vector-only → ratio {ratio} ({verdict})."
        )
        parts.append("")

    figure, axis = plt.subplots(figsize=(6, 3.6))
    for name, m in metrics["systems"].items():
        axis.plot(range(1, T + 1), m["recall_per_turn"], marker="o", label=name)
    axis.set_xlabel("system turn")
    axis.set_ylabel(f"share of targets shown (top {k})")
    axis.set_xticks(range(1, T + 1))
    axis.legend()
    axis.grid(alpha=0.3)
    parts += ["### Recall by turn", "", save_plot(figure, run.path("sim_recall_by_turn.png")), ""]

    consistency = metrics.get("consistent_items")
    if consistency:
        parts += [
            "## How much the user revealed",
            "",
            f"Median number of catalog items consistent with everything the user had said at the "
            f"end of the agent's dialogues: **{consistency['median_final']}** (after each user message, "
            f"over the dialogues still going: "
            + ", ".join(str(v) for v in consistency["median_per_turn"])
            + ").",
            "",
        ]
        finals = [
            r["systems"]["agent"]["turns"][-1].get("consistent")
            for r in records
            if r["systems"]["agent"]["turns"]
        ]
        finals = [max(f, 1) for f in finals if f is not None]
        if finals:
            figure, axis = plt.subplots(figsize=(6, 3.2))
            axis.hist(finals, bins=[1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000])
            axis.set_xscale("log")
            axis.set_xlabel("consistent catalog items at the end (log)")
            axis.set_ylabel("users")
            parts += [save_plot(figure, run.path("sim_consistent_items.png")), ""]

    understanding = metrics.get("understanding")
    if understanding:
        parts += [
            "## What the agent understood",
            "",
            "Share of the user's statements found in the agent's `DialogueAct` for that turn"
            + (" (for LLM messages: what the LLM was asked to convey)." if llm else "."),
            "",
            md_table(
                ["statement", "understood", "n"],
                [[e, f"{v['rate']:.2f}", v["n"]] for e, v in understanding["by_element"].items()],
            ),
            "",
            "By phrasing (worst first):",
            "",
            md_table(
                ["template", "half", "wording", "understood", "n"],
                [
                    [t, P.half_of(t) if t in P.BY_ID else "–", template_text(t).replace("|", "/"),
                     f"{v['rate']:.2f}", v["n"]]
                    for t, v in sorted(
                        understanding["by_template"].items(), key=lambda kv: kv[1]["rate"]
                    )
                ],
            ),
            "",
        ]
        decisions = Counter(
            turn.get("decision", "") for r in records for turn in r["systems"]["agent"]["turns"]
        )
        parts += [
            "Agent decisions per turn: "
            + ", ".join(f"{d or '–'} {n}" for d, n in decisions.most_common()),
            "",
        ]
        ranks = [
            turn.get("target_rank50") for r in records for turn in r["systems"]["agent"]["turns"]
        ]
        known = [x for x in ranks if x is not None]
        if ranks:
            parts += [
                f"Target within `agent.rank(k=50)` after a turn: {len(known)}/{len(ranks)} turns"
                + (f", median rank {statistics.median(known)}" if known else "")
                + ".",
                "",
            ]

    if records and "agent" in records[0]["systems"]:
        hits = [r for r in records if r["systems"]["agent"]["hit_turn"]][:2]
        misses = [r for r in records if not r["systems"]["agent"]["hit_turn"]][:3]
        parts += ["## Sample dialogues (agent)", ""]
        for r in hits + misses:
            parts += [_transcript(r, "agent", _titles(r)), ""]
    parts.append(warnings_md(metrics))
    parts.append(provenance_md(run.config, run.path("results.json"), run.timings))
    run.write_report("\n".join(parts) + "\n")


def halves_md(metrics: dict) -> str:
    """Hit@k of every system with each half of the phrase bank, and the agent's gap."""
    halves = metrics["phrase_halves"]
    k = metrics["k"]
    key = f"success@{k}"
    names = ["agent", *next(iter(halves.values()))["baselines"]]
    rows = []
    for half, block in halves.items():
        row = [half]
        for name in names:
            entry = block if name == "agent" else block["baselines"][name]
            low, high = entry.get(f"{key}_ci", [None, None])
            row.append(f"{entry.get(key, 0):.3f} [{low:.3f}, {high:.3f}]" if low is not None else "–")
        rows.append(row)
    gap = metrics.get("phrase_gap")
    note = (f"Agent Hit@{k}, tuning half − held-out half: **{gap:+.3f}** (target: within ±0.1; "
            "a large gap means the agent is fitted to phrasings)." if gap is not None else "")
    return md_table(["phrases", *[f"{n} Hit@{k} [95% CI]" for n in names]], rows) + "\n\n" + note


def llm_md(llm: dict) -> str:
    """The LLM simulator paragraph: model, how many messages were its own, what was replaced."""
    reasons = ", ".join(f"{r} {n}" for r, n in sorted(llm["by_reason"].items())) or "none"
    return (
        f"**LLM simulator** ({llm['model']}, temperature 0, seed {llm['seed']}): the user's "
        "messages are written by the LLM, told the target's attributes (never its title) and, "
        "each turn, what the scripted user would convey then; the accept rule stays in code. "
        f"LLM messages: {llm['utterances']}, used {llm['used']}; "
        f"**llm utterances replaced: {llm['replaced']}** (by the scripted message; {reasons}). "
        f"From an empty cache: {llm['distinct_calls']} calls, {llm['prompt_tokens']} prompt + "
        f"{llm['completion_tokens']} completion tokens."
    )


def _titles(record: dict) -> dict[str, str]:
    return record.get("titles", {})
