"""The report of an offline run: HR@10 / NDCG@10 per system with intervals, the agent's ratio to
the best classic baseline, the chosen hyper-parameters, and a bar plot."""

from __future__ import annotations

from chatrec.evaluation.report import ci, md_table, provenance_md, pyplot, save_plot, warnings_md

TARGET_RATIO = 1.1
SUMMARY_HEADER = ["system", "HR@10 [95% CI]", "NDCG@10 [95% CI]"]


def summary_rows(metrics: dict) -> list[list[str]]:
    return [[name, ci(m["hr@10"]), ci(m["ndcg@10"])] for name, m in metrics["systems"].items()]


def write_offline_report(run, metrics: dict) -> None:
    plt = pyplot()
    split = metrics["split"]
    parts = [
        "# Offline top-10 on MovieLens (temporal hold-out)",
        "",
        f"{split['rule']}. {split['users']} users; {split['train']} training, {split['validation']} "
        f"validation and {split['test']} test interactions. Every system ranks all items the user has "
        "not rated in training (no sampled negatives).",
        "",
        md_table(SUMMARY_HEADER, summary_rows(metrics)),
        "",
    ]
    versus = metrics.get("agent_vs_best_classic")
    if versus:
        ratio = versus["ndcg_ratio"]
        verdict = "reached" if ratio is not None and ratio >= TARGET_RATIO else "NOT reached"
        parts += [
            f"Agent NDCG@10 ÷ best classic baseline ({versus['baseline']}): **{ci(versus, 2, key='ndcg_ratio')}** "
            f"— target ≥ {TARGET_RATIO}: {verdict}.",
            "",
        ]
    parts += [
        "Hyper-parameters chosen on the validation item (baselines fitted without it):",
        "",
        md_table(
            ["baseline", "params", "validation NDCG@10"],
            [
                [n, str(t.get("params", {})), t.get("validation_ndcg@10")]
                for n, t in metrics["tuning"].items()
            ],
        ),
        "",
    ]
    figure, axis = plt.subplots(figsize=(6, 3.4))
    names = list(metrics["systems"])
    axis.bar(
        [i - 0.2 for i in range(len(names))],
        [metrics["systems"][n]["hr@10"]["mean"] for n in names],
        width=0.4,
        label="HR@10",
    )
    axis.bar(
        [i + 0.2 for i in range(len(names))],
        [metrics["systems"][n]["ndcg@10"]["mean"] for n in names],
        width=0.4,
        label="NDCG@10",
    )
    axis.set_xticks(range(len(names)), names)
    axis.legend()
    parts += [save_plot(figure, run.path("offline_metrics.png")), ""]
    parts.append(warnings_md(metrics))
    parts.append(provenance_md(run.config, run.path("results.json"), run.timings))
    run.write_report("\n".join(parts) + "\n")
