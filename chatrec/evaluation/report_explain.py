"""The report of ``chatrec eval explain``: PEPLER metrics for the agent and the fixed template,
the KG-edge share, and sample explanations with their evidence."""

from __future__ import annotations

from chatrec.evaluation.report import md_table, provenance_md

SUMMARY_HEADER = [
    "system",
    "n",
    "USR ↑",
    "FCR (recommended) ↑",
    "FCR (all) ↑",
    "FD ↓",
    "KG-edge share",
    "text claims backed",
]


def summary_rows(result: dict) -> list[list]:
    rows = []
    for name, m in result["systems"].items():
        rows.append(
            [
                name,
                m.get("n"),
                m.get("usr"),
                m.get("fcr_recommended"),
                m.get("fcr_all"),
                m.get("fd"),
                m.get("kg_edge_share"),
                m.get("text_mentions_backed"),
            ]
        )
    return rows


def write_explain_report(run, result: dict, explanations: list[dict]) -> None:
    agent = result["systems"]["agent"]
    share = agent.get("kg_edge_share")
    parts = [
        "# Explanation quality (PEPLER metrics)",
        "",
        f"Explanations of the simulation run `{result['sim_run']}`, against one fixed template "
        '("A {genre} film from the {decade}.") for the same items.',
        "",
        md_table(SUMMARY_HEADER, summary_rows(result)),
        "",
        f"KG-edge share of the agent's evidence: **{share}** (must be 1.0: "
        f"{'yes' if share == 1.0 else 'NO'}). Explanations without any evidence: "
        f"{agent.get('explanations_without_evidence')}.",
        "",
    ]
    unbacked = agent.get("text_unbacked_examples") or []
    if unbacked:
        parts += [
            "Names in the agent's explanation texts that the linker found but the evidence does not "
            "back (approximate; the linker can misread ordinary words):",
            "",
            md_table(["mention → node", "count"], [[m.replace("|", "/"), c] for m, c in unbacked]),
            "",
        ]
    parts += ["## Samples", ""]
    for entry in explanations[:12]:
        facts = "; ".join(
            f"{f['subject_label']} —{f['relation']}→ {f['object_label']}" for f in entry["evidence"]
        )
        parts.append(f"- item {entry['item']}: “{entry['text']}”  \n  evidence: {facts or '–'}")
    parts += ["", provenance_md(run.config, run.path("results.json"), run.timings)]
    run.write_report("\n".join(parts) + "\n")
