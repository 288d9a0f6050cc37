"""The report of a ReDial replay: recall tables (primary and secondary), the ratio to the
MovieLens item-cosine baseline, recall by dialogue position and by how much context there was,
which agent sources found the hits, and the published anchors for orientation."""

from __future__ import annotations

from collections import Counter, defaultdict

from chatrec.evaluation.redial_diagnostics import checks_md
from chatrec.evaluation.report import ci, md_table, num, provenance_md, pyplot, save_plot, warnings_md

TARGETS = {"recall@10": 0.25, "recall@50": 0.45}
ANCHORS = [
    ["KBRD (test, all mentions)", ".028", ".169", ".366"],
    ["UniCRS (test, all mentions)", ".050", ".215", ".413"],
    ["GPT-4 zero-shot (test, new movies, He et al.)", ".050", ".201", "–"],
]
SUMMARY_HEADER = ["system", "R@1", "R@10", "R@50", "R@1 (all)", "R@10 (all)", "R@50 (all)"]


def _cell(entry: dict) -> str:
    return ci(entry)


def summary_rows(metrics: dict, with_ci: bool = True) -> list[list[str]]:
    rows = []
    for name, entry in metrics["systems"].items():
        cells = [name]
        for setting in ("primary", "secondary"):
            for k in (1, 10, 50):
                value = entry[setting][f"recall@{k}"]
                cells.append(_cell(value) if with_ci else num(value["mean"]))
        rows.append(cells)
    return rows


def write_redial_report(run, metrics: dict, records: list[dict], config) -> None:
    plt = pyplot()
    info = metrics["input"]
    parts = [
        "# ReDial replay",
        "",
        f"Scored file `{config.dialogues}` ({info['format']}), {info['units']} units. The agent is the "
        f"shipped one (`Agent(resources)` with what `chatrec build` learns); its learnt parts: "
        f"{info['training']['mode']}.",
        "",
    ]
    parts += _learnt_md(info)
    parts += [
        f"Turns scored: {metrics['n_turns']}, gold movies: {metrics['n_gold']} "
        f"(new: {metrics['n_gold_new']}); gold ids not in the catalog: {metrics['gold_not_in_catalog']}; "
        f"unmatched gold titles (processed input): {metrics['unmatched']} (new: {metrics['unmatched_new']}), "
        f"counted as misses.",
        "",
        f"New gold movies the agent could not rank because the dialogue's hard constraints rule them out: "
        f"{metrics.get('new_gold_ruled_out_by_constraints', 0)}; because it counts them as already "
        f"liked/seen/mentioned: {metrics.get('new_gold_excluded_by_agent', 0)}. Constraints active when a new "
        f"gold movie was ruled out: "
        + ", ".join(f"{k} {v}" for k, v in metrics.get("ruled_out_with_constraint", {}).items())
        + ".",
        "",
        "Primary = gold movies not mentioned earlier in the dialogue; (all) = every gold movie. "
        "95% intervals from a bootstrap over dialogues.",
        "",
        md_table(SUMMARY_HEADER, summary_rows(metrics)),
        "",
    ]
    parts += splits_md(metrics)
    ratios = metrics.get("agent_vs_item_cosine")
    if ratios:
        parts.append(
            "Agent ÷ MovieLens item-cosine (primary): "
            + ", ".join(f"{k} {ci(v, 2, key='ratio')}" for k, v in ratios.items())
            + "."
        )
        parts.append("")
    if "recall@10" in metrics:
        checks = [
            f"{k} = {metrics[k]:.3f} (target ≥ {v}: {'reached' if metrics[k] >= v else 'NOT reached'})"
            for k, v in TARGETS.items()
        ]
        parts += ["Targets (agent, primary): " + "; ".join(checks) + ".", ""]
    parts += checks_md(metrics.get("diagnostics"))
    parts += [
        "Published anchors (official test split, not this file):",
        "",
        md_table(["model", "R@1", "R@10", "R@50"], ANCHORS),
        "",
    ]

    # recall@50 of the agent by number of movies in the context
    buckets: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_position: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    sources_of_hits: Counter[str] = Counter()
    for record in records:
        for position, turn in enumerate(record["turns"], 1):
            n = turn["n_context_items"]
            bucket = "0" if n == 0 else "1" if n == 1 else "2-3" if n <= 3 else "4+"
            for g in turn["gold"]:
                if not g["new"]:
                    continue
                rank = g["ranks"].get("agent")
                hit = int(rank is not None and rank <= 50)
                buckets[bucket][0] += hit
                buckets[bucket][1] += 1
                by_position[min(position, 6)][0] += hit
                by_position[min(position, 6)][1] += 1
                if rank is not None and rank <= 10 and g.get("agent_sources"):
                    top = max(g["agent_sources"].items(), key=lambda kv: kv[1])[0]
                    sources_of_hits[top] += 1
    if buckets:
        order = [b for b in ("0", "1", "2-3", "4+") if b in buckets]
        parts += [
            "## Where the agent finds the new movies",
            "",
            md_table(
                ["movies in context", "new gold", "agent R@50"],
                [[b, buckets[b][1], f"{buckets[b][0] / max(buckets[b][1], 1):.3f}"] for b in order],
            ),
            "",
        ]
        figure, axis = plt.subplots(figsize=(6, 3.2))
        positions = sorted(by_position)
        axis.bar(
            [str(p) if p < 6 else "6+" for p in positions],
            [by_position[p][0] / max(by_position[p][1], 1) for p in positions],
        )
        axis.set_xlabel("scored turn in the dialogue")
        axis.set_ylabel("agent Recall@50 (new)")
        parts += [save_plot(figure, run.path("redial_recall_by_position.png")), ""]
    if sources_of_hits:
        parts += [
            "Strongest source behind each agent hit in the top 10 (normalised source score): "
            + ", ".join(f"{s} {n}" for s, n in sources_of_hits.most_common())
            + ".",
            "",
        ]

    figure, axis = plt.subplots(figsize=(6, 3.4))
    names = list(metrics["systems"])
    for offset, k in enumerate((1, 10, 50)):
        axis.bar(
            [i + offset * 0.27 for i in range(len(names))],
            [metrics["systems"][n]["primary"][f"recall@{k}"]["mean"] for n in names],
            width=0.27,
            label=f"R@{k}",
        )
    axis.set_xticks([i + 0.27 for i in range(len(names))], names)
    axis.set_ylabel("recall (new movies)")
    axis.legend()
    parts += ["## Systems", "", save_plot(figure, run.path("redial_recall.png")), ""]
    parts.append(warnings_md(metrics))
    parts.append(provenance_md(run.config, run.path("results.json"), run.timings))
    run.write_report("\n".join(parts) + "\n")


def _learnt_md(info: dict) -> list[str]:
    """Every learnt component with the data it was learnt from, per fold; the validation and test
    folds apart."""
    training = info["training"]
    parts: list[str] = []
    if not training.get("learnt", True):
        parts += ["**Ablation `--no-learnt`**: no dialogue statistics and no learnt ranker "
                  "(hand-set fusion with the quality prior).", ""]
    elif not training.get("ranker", True):
        parts += ["**Ablation `--no-ranker`**: dialogue statistics, hand-set fusion order.", ""]
    if training.get("validation_fold") is not None:
        parts += [f"The scored dialogues are among the {training['training_dialogues']} training dialogues, so "
                  f"dialogues of fold f are scored by models learnt on the other folds only. Fold "
                  f"{training['validation_fold']} is the validation fold (the only one anything may be tuned "
                  f"on); the other folds are test folds.", ""]
    rows = []
    for fold, summary in info.get("learnt_components", {}).items():
        for component in summary.get("components", []):
            rows.append([fold, component["name"], component["learnt_from"]])
        ranker = summary.get("ranker", {})
        if ranker.get("validation"):
            top = ", ".join(f"{k} {v:.2f}" for k, v in list(ranker.get("feature_importance_gain", {}).items())[:6])
            rows.append([fold, "ranker early-stopping", f"best iteration {ranker.get('best_iteration')}, "
                         f"{ranker['validation']}; top features by gain: {top}"])
    if rows:
        parts += ["Learnt components (fold: what, learnt from):", "",
                  md_table(["fold", "component", "learnt from"], rows), ""]
    return parts


def splits_md(metrics: dict) -> list[str]:
    splits = metrics.get("splits")
    if not splits:
        return []
    rows = []
    for name, entry in splits.items():
        agent = entry["systems"].get("agent", {})
        rows.append([name, ",".join(str(f) for f in entry["folds"]), str(entry["dialogues"]), str(entry["n_turns"]),
                     str(entry["n_gold_new"])] + [ci(agent.get(f"recall@{k}", {})) for k in (1, 10, 50)])
    return ["Validation and test folds apart (agent, new movies):", "",
            md_table(["split", "folds", "dialogues", "turns", "new gold", "R@1", "R@10", "R@50"], rows), ""]
