"""Report building blocks shared by every harness: Markdown tables, the provenance section,
plots saved next to ``report.md`` (matplotlib, no display), and the rich summary table printed at
the end of a command."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def num(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def ci(summary: dict | None, digits: int = 3, key: str = "mean") -> str:
    """Mean and interval, "0.412 [0.371, 0.455]", from a ``metrics.summary`` dict (or from a
    ratio dict with ``key="ratio"``)."""
    if not summary or summary.get(key) is None:
        return "–"
    low, high = num(summary["ci_low"], digits), num(summary["ci_high"], digits)
    return f"{num(summary[key], digits)} [{low}, {high}]"


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(fmt(v) if not isinstance(v, str) else v for v in row) + " |")
    return "\n".join(lines)


def provenance_md(config: dict, results_path: Path, timings: dict | None = None) -> str:
    """The "how to reproduce" section: config, where the full provenance is, timings."""
    lines = [
        "## Reproduce",
        "",
        "```json",
        json.dumps(config, indent=2),
        "```",
        "",
        f"Full provenance (git commit, data and catalog sha256, package versions) is in "
        f"`{results_path.name}` under `provenance`.",
    ]
    if timings:
        lines += ["", "Timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items())]
    return "\n".join(lines)


def warnings_md(metrics: dict) -> str:
    """The agent's warnings during the run (counted, one example each), e.g. guard rejections."""
    tally = metrics.get("agent_warnings") or {}
    counts = tally.get("counts") or {}
    if not counts:
        return ""
    rows = [
        [key.replace("|", "/"), n, tally.get("examples", {}).get(key, "").replace("|", "/")[:160]]
        for key, n in list(counts.items())[:8]
    ]
    return "\n".join(
        [
            "## Agent warnings during the run",
            "",
            md_table(["logger: message", "count", "example"], rows),
            "",
        ]
    )


def save_plot(figure, path: Path) -> str:
    """Save a matplotlib figure as PNG; returns the Markdown image line."""
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(figure)
    return f"![{path.stem}]({path.name})"


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def print_table(
    title: str, header: Sequence[str], rows: Sequence[Sequence[Any]], console: Console | None = None
) -> None:
    table = Table(title=title, title_justify="left")
    for column in header:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(fmt(v) if not isinstance(v, str) else v for v in row))
    (console or Console()).print(table)
