"""Pictures of explanation paths for the UI's "Why this?" panel.

Three columns: the recommended item on the left, the entities it shares in the middle (a
director, a keyword, a genre), and on the right what the user liked: the liked items, or "You"
for an attribute the user asked for. Node colours say the kind; arrows carry the relation.
Drawn with matplotlib's object API on the Agg/SVG backends (no pyplot, no global state), so it is
safe in a web server's worker threads.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import matplotlib
from matplotlib.figure import Figure

from kg.models import DECADE, GENRE, ITEM, KEYWORD, PERSON, item_node, node_kind
from kg.paths import ExplanationPath

if TYPE_CHECKING:
    from chatrec.protocols import Graph

KIND_COLOURS = {
    ITEM: "#4C72B0", PERSON: "#DD8452", GENRE: "#55A868", KEYWORD: "#8172B3",
    DECADE: "#937860", "you": "#C44E52",
}
RELATION_TEXT = {
    "directed_by": "directed by", "stars": "stars", "written_by": "written by",
    "made_by": "made by", "has_genre": "genre", "has_keyword": "keyword",
    "released_in": "released in", "likes": "asked for",
}
YOU = "you:"


def render_paths(kg: Graph, candidate_id: str, paths: Sequence[ExplanationPath],
                 fmt: Literal["png", "svg"] = "png", dpi: int = 110) -> bytes:
    """Draw the path subgraph of one recommendation.

    Args:
        kg: the knowledge graph (labels).
        candidate_id: the recommended item.
        paths: its explanation paths (``kg.paths.explain``); empty draws the item alone.
        fmt: "png" or "svg" (SVG keeps its labels as text).
        dpi: resolution of the PNG.

    Returns:
        The image file's bytes.
    """
    if fmt not in ("png", "svg"):
        raise ValueError(f"fmt must be 'png' or 'svg', not {fmt!r}")
    candidate = item_node(candidate_id)
    middle: list[str] = []
    right: list[str] = []
    edges: list[tuple[str, str, str]] = []  # (source, target, relation)
    for path in paths:
        via = path.via
        if via not in middle:
            middle.append(via)
        for fact in path.facts:
            if fact.subject == candidate:
                edges.append((candidate, via, fact.relation))
            else:
                if fact.subject not in right:
                    right.append(fact.subject)
                edges.append((fact.subject, via, fact.relation))
        if path.liked_item is None:
            if YOU not in right:
                right.append(YOU)
            edges.append((YOU, via, "likes"))
    edges = list(dict.fromkeys(edges))

    # order the right column by the rows it points at, so arrows cross as little as possible
    row_of = {node: k for k, node in enumerate(middle)}
    targets: dict[str, list[int]] = {}
    for source, target, _ in edges:
        if source != candidate:
            targets.setdefault(source, []).append(row_of[target])
    right.sort(key=lambda node: sum(targets[node]) / len(targets[node]))

    rows = max(len(middle), len(right), 1)
    position = {candidate: (0.15, 0.5)}
    position.update(_column(middle, 0.5))
    position.update(_column(right, 0.85))

    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "chatrec"}):
        fig = Figure(figsize=(7.2, max(2.0, 0.85 * rows + 0.6)), dpi=dpi)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.axis("off")
        boxes = {node: _draw_node(ax, kg, node, xy) for node, xy in position.items()}
        for source, target, relation in edges:
            _draw_edge(ax, position[source], position[target], RELATION_TEXT.get(relation,
                       relation.replace("_", " ")), boxes[source], boxes[target])
        buffer = io.BytesIO()
        metadata = {"Date": None} if fmt == "svg" else {}
        fig.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()


def _column(nodes: list[str], x: float) -> dict[str, tuple[float, float]]:
    if not nodes:
        return {}
    step = 1.0 / (len(nodes) + 1)
    return {node: (x, 1.0 - step * (k + 1)) for k, node in enumerate(nodes)}


def _label(kg: Graph, node: str) -> str:
    if node == YOU:
        return "You"
    return textwrap.fill(kg.label(node), width=20, max_lines=3, placeholder="…")


def _draw_node(ax, kg: Graph, node: str, xy: tuple[float, float]):
    kind = "you" if node == YOU else node_kind(node)
    colour = KIND_COLOURS.get(kind, "#777777")
    return ax.annotate(
        _label(kg, node), xy=xy, xycoords="axes fraction", ha="center", va="center",
        fontsize=9, color="white", fontweight="bold" if kind == ITEM else "normal",
        bbox={"boxstyle": "round,pad=0.45", "facecolor": colour, "edgecolor": "none"},
        gid=f"node-{kind}",
    )


def _draw_edge(ax, start: tuple[float, float], end: tuple[float, float], text: str,
               source_box, target_box) -> None:
    ax.annotate("", xy=end, xytext=start, xycoords="axes fraction",
                arrowprops={"arrowstyle": "-|>", "color": "#555555", "lw": 1.2,
                            "shrinkA": 0, "shrinkB": 0, "patchA": source_box.get_bbox_patch(),
                            "patchB": target_box.get_bbox_patch(),
                            "connectionstyle": "arc3,rad=0.0"})
    mid = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.03)
    ax.annotate(text, xy=mid, xycoords="axes fraction", ha="center", va="bottom", fontsize=7.5,
                color="#333333", style="italic",
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none",
                      "alpha": 0.85})
