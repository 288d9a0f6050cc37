"""The report of an offline run: per split, NDCG@10 / HR@10 of the agent and of every tuned
library baseline with their intervals, the agent's ratio to the best baseline with its interval,
the settings each baseline chose on validation, and a plot."""

from __future__ import annotations

from chatrec.evaluation.report import md_table, num, provenance_md, pyplot, save_plot, warnings_md

SPLITS = ("validation", "test")
SUMMARY_HEADER = ["system", "validation NDCG@10 [95% CI]", "test NDCG@10 [95% CI]",
                  "HR@10 validation / test"]


def interval(block: dict, metric: str, digits: int = 4) -> str:
    low, high = block.get(f"{metric}_ci") or (None, None)
    return f"{num(block.get(metric), digits)} [{num(low, digits)}, {num(high, digits)}]"


def ratio_text(ratio: dict | None, digits: int = 2) -> str:
    if not ratio or ratio.get("ratio") is None:
        return "–"
    return (f"{num(ratio['ratio'], digits)} [{num(ratio['ci_low'], digits)}, "
            f"{num(ratio['ci_high'], digits)}]")


def systems(results: dict) -> dict[str, dict]:
    return {"agent": results["agent"], **results["baselines"]}


def summary_rows(results: dict) -> list[list[str]]:
    return [
        [name, interval(block["validation"], "ndcg@10"), interval(block["test"], "ndcg@10"),
         f"{num(block['validation']['hr@10'])} / {num(block['test']['hr@10'])}"]
        for name, block in systems(results).items()
    ]


def ratio_lines(results: dict) -> list[str]:
    lines = []
    for split in SPLITS:
        ratio = results["ratio_ndcg@10"][split]
        if ratio:
            lines.append(f"{split}: agent NDCG@10 ÷ {ratio['baseline']} = {ratio_text(ratio)}")
    return lines


def write_offline_report(run, results: dict) -> None:
    plt = pyplot()
    split = results["split"]
    target = results["target"]
    parts = [
        "# Offline top-10 on MovieLens: the shipped agent against tuned library baselines",
        "",
        f"Split: {split['rule']} {split['evaluated_users']} users evaluated; "
        f"{split['train']} training, {split['validation']} validation and {split['test']} test "
        "interactions. Every system ranks every item the user has not rated in its training log "
        "(no sampled negatives). Intervals: 95% paired bootstrap over users "
        f"({results['protocol']['bootstrap']['resamples']} resamples).",
        "",
        md_table(SUMMARY_HEADER, summary_rows(results)),
        "",
        "Agent NDCG@10 ÷ the best baseline of the split, [95% CI]:",
        "",
        *[f"- {line}" for line in ratio_lines(results)],
        "",
        f"Target ({target['rule']}): **{'met' if target['met'] else 'NOT met'}**.",
        "",
        "## The agent",
        "",
        "```json",
        _json(results["agent"]["settings"]),
        "```",
        "",
        "## Baselines: settings chosen on the validation split",
        "",
        f"Each baseline tried up to {results['protocol']['tuning']['budget']} settings drawn from "
        "its search space (`train_on`: every rating, or only ratings ≥ 4), scored by validation "
        "NDCG@10; the best was refitted on the test split's training log.",
        "",
        md_table(
            ["baseline", "library", "settings", "trials", "validation NDCG@10"],
            [
                [name, block["library"], _json(block["settings"], None),
                 str(len(results["searches"].get(name, []))), num(block["validation"]["ndcg@10"], 4)]
                for name, block in results["baselines"].items()
            ],
        ),
        "",
    ]
    figure, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
    names = list(systems(results))
    for axis, which in zip(axes, SPLITS, strict=True):
        means = [systems(results)[n][which]["ndcg@10"] or 0.0 for n in names]
        lows = [systems(results)[n][which]["ndcg@10_ci"][0] or 0.0 for n in names]
        highs = [systems(results)[n][which]["ndcg@10_ci"][1] or 0.0 for n in names]
        errors = [[m - lo for m, lo in zip(means, lows, strict=True)],
                  [hi - m for m, hi in zip(means, highs, strict=True)]]
        axis.bar(range(len(names)), means, yerr=errors, capsize=3,
                 color=["tab:red" if n == "agent" else "tab:blue" for n in names])
        axis.set_xticks(range(len(names)), names, rotation=35, ha="right")
        axis.set_title(f"{which} NDCG@10")
    parts += [save_plot(figure, run.path("offline_ndcg.png")), ""]
    parts.append(warnings_md(results))
    parts.append(provenance_md(run.config, run.path("results.json"), run.timings))
    run.write_report("\n".join(parts) + "\n")


def _json(value, indent: int | None = 2) -> str:
    import json

    return json.dumps(value, indent=indent, ensure_ascii=False)
