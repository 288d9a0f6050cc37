"""``chatrec data`` (fetch or verify the public data) and ``chatrec build`` (data → catalog →
knowledge graph → collaborative model → vector index, with a timed summary)."""

from __future__ import annotations

import importlib
import inspect
import logging
import time
from collections.abc import Callable
from typing import Any, cast

import typer
from rich.console import Console
from rich.table import Table

from chatrec.cli.options import catalog_option
from chatrec.config import get_settings

logger = logging.getLogger(__name__)
console = Console()


def register(app: typer.Typer) -> None:
    app.command("data")(data)
    app.command("build")(build)


def data(
    check: bool = typer.Option(False, "--check", help="Only report; download nothing."),
) -> None:
    """Find or download the public data (MovieLens, ReDial) and verify every file's sha256."""
    from chatrec.catalog.fetch import fetch_data
    from chatrec.catalog.sources import DERIVED, FILES_BY_PATH

    settings = get_settings()
    report = fetch_data(settings, progress=True, download=not check)
    where = "CHATREC_DATA_DIR" if report.mode == "data_dir" else "downloads"
    table = Table(title=f"chatrec data in {report.root} ({where})", title_justify="left")
    for column in ("file", "size", "status", "source"):
        table.add_column(column, overflow="fold")
    styles = {"ok": "green", "downloaded": "green", "missing": "red", "bad checksum": "red"}
    for status in report.files:
        table.add_row(status.path, _size(status.size),
                      f"[{styles[status.status]}]{status.status}[/]",
                      FILES_BY_PATH[status.path].origin)
    for derived in DERIVED:
        present = (report.root / derived.path).is_file()
        table.add_row(derived.path, "", "derived" + ("" if present else " (at build)"),
                      "computed from " + ", ".join(p.rsplit("/", 1)[-1] for p in derived.inputs))
    console.print(table)
    bad = [s for s in report.files if s.status in ("missing", "bad checksum")]
    if bad:
        console.print(f"[red]{len(bad)} file(s) missing or not matching their checksum[/]: run "
                      "`chatrec data` without --check, or fix CHATREC_DATA_DIR")
        raise typer.Exit(3)


def build(
    catalog: str | None = catalog_option(),
    rebuild: bool = typer.Option(False, "--rebuild", help="Rebuild caches and the index from scratch."),
    no_index: bool = typer.Option(False, "--no-index", help="Skip the vector index (no embedding)."),
) -> None:
    """Fetch the data, load the catalog, build the knowledge graph, the collaborative model and
    the vector index. Prints a summary with the time of each stage."""
    from chatrec.catalog.fetch import ensure_data
    from chatrec.catalog.loader import BUILTIN, load_catalog

    settings = get_settings()
    spec = catalog or settings.catalog
    timings: dict[str, float] = {}
    facts: dict[str, str] = {}

    if spec.strip().lower() in BUILTIN:
        # Every pinned file, not only the catalog's: evaluation needs the dialogues too.
        root = _timed(timings, "data", lambda: ensure_data(settings, progress=True))
        facts["data"] = f"every pinned file present, checksums verified, in {root}"
    cat = _timed(timings, "catalog",
                 lambda: load_catalog(spec, settings, progress=True, rebuild=rebuild))
    facts["catalog"] = f"{cat.name}: {len(cat):,} items"
    if cat.interactions is not None:
        frame = cat.interactions.frame
        facts["catalog"] += (f", {len(frame):,} ratings from {frame['user_id'].nunique():,} users")

    graph = _stage(timings, "knowledge graph", "kg.graph", "KnowledgeGraph", "load_or_build",
                   cat, settings, rebuild=rebuild)
    if graph is not None:
        facts["knowledge graph"] = _graph_size(graph)
    if cat.interactions is not None:
        model = _stage(timings, "collaborative", "chatrec.collab", None, "load_or_fit", cat,
                       settings, rebuild=rebuild, refit=rebuild)
        if model is not None:
            facts["collaborative"] = _collab_size(model)
    if no_index:
        facts["vector index"] = "skipped (--no-index)"
    else:
        from chatrec.index.embedder import document_embedder

        documents = document_embedder(settings)
        embedded_before = documents.texts_embedded
        index = _stage(timings, "vector index", "chatrec.index", "ItemIndex", "build", cat,
                       settings, rebuild=rebuild, progress=True)
        if index is not None:
            facts["vector index"] = _index_size(index, documents.texts_embedded - embedded_before,
                                                documents, timings["vector index"])
            # Ready the query model too (a first build exports it to ONNX), so that the first
            # chat does not pay for it.
            queries = _timed(timings, "query model", lambda: index.embedder.load())
            facts["query model"] = f"{queries.name} ({queries.backend}, float32)"

    _learn_stage(timings, facts, cat, settings, rebuild, with_index=not no_index)

    table = Table(title=f"chatrec build: {cat.name}", title_justify="left")
    table.add_column("step")
    table.add_column("what was built")
    table.add_column("time", justify="right")
    for name, value in facts.items():
        table.add_row(name, value, f"{timings[name]:.1f} s" if name in timings else "")
    table.add_row("total", "", f"{sum(timings.values()):.1f} s")
    console.print(table)


def _learn_stage(timings: dict[str, float], facts: dict[str, str], cat: Any, settings: Any, rebuild: bool,
                 with_index: bool) -> None:
    """Learn what the agent learns from the catalog's data (dialogue statistics, the ranker) and
    say what it was learnt from; the full report is stored beside the models."""
    from chatrec.learn import learnt_dir, load_or_learn
    from chatrec.resources import Resources

    def work():
        resources = Resources.load(cat, settings, build_missing=False, with_index=with_index,
                                   with_learnt=False)
        return load_or_learn(resources, rebuild=rebuild, progress=True)

    learnt = _timed(timings, "learn", work)
    ranker = learnt.report.get("ranker", {})
    learnt_from = [f"{c['name']} from {c['learnt_from']}" for c in learnt.report.get("components", [])]
    facts["learn"] = "; ".join(learnt_from) or f"nothing to learn from: {ranker.get('model')}"
    if ranker.get("validation"):
        top = ", ".join(list(ranker.get("feature_importance_gain", {}))[:5])
        facts["ranker validation"] = (f"NDCG@10 {ranker['validation'].get('ndcg@10')} (best iteration "
                                      f"{ranker.get('best_iteration')}); top features {top}; report: "
                                      f"{learnt_dir(settings, cat) / 'report.json'}")


def _timed(timings: dict[str, float], name: str, work: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    try:
        return work()
    finally:
        timings[name] = time.perf_counter() - started


def _stage(timings: dict[str, float], name: str, module: str, owner: str | None, function: str,
           *args: Any, **options: Any) -> Any:
    """Run ``module.owner.function(*args, **options)`` timed. Options the callee does not accept
    are dropped (``rebuild`` is optional for some stages). Returns ``None`` when the module is
    not installed, so a partial checkout still builds what it can."""
    try:
        target: Any = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is None or not module.startswith(exc.name):
            raise
        console.print(f"[yellow]{name}: skipped ({module} is not available)[/]")
        return None
    for attribute in filter(None, (owner, function)):
        if not hasattr(target, attribute):
            console.print(f"[yellow]{name}: skipped ({module} has no {attribute})[/]")
            return None
        target = getattr(target, attribute)
    params = inspect.signature(target).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    options = {k: v for k, v in options.items() if takes_any or k in params}
    return _timed(timings, name, lambda: target(*args, **options))


def _graph_size(graph: Any) -> str:
    counts = getattr(graph, "counts", None)
    if callable(counts):  # cheap; the networkx view would be built just to be counted
        sizes = {str(kind): int(n) for kind, n in cast(dict, counts()).items()}
        edges = sizes.pop("edges", 0)
        detail = ", ".join(f"{n:,} {kind}" for kind, n in sizes.items())
        return f"{sum(sizes.values()):,} nodes ({detail}), {edges:,} edges"
    nx_graph = getattr(graph, "graph", graph)
    try:
        return f"{nx_graph.number_of_nodes():,} nodes, {nx_graph.number_of_edges():,} edges"
    except AttributeError:
        return type(graph).__name__


def _collab_size(model: Any) -> str:
    """E.g. "100,836 ratings of 610 users × 9,724 items: co-rating neighbours (…), personalized
    PageRank, rating predictor"."""
    matrix = getattr(model, "matrix", None)
    if matrix is None:
        return "fitted"
    text = (f"{int(matrix.nnz):,} ratings of {len(matrix.users):,} users × "
            f"{len(matrix.items):,} items: ")
    weights = getattr(getattr(model, "cooccur", None), "weights", None)
    pairs = f" ({int((weights > 0).sum()):,} item pairs)" if weights is not None else ""
    return text + f"co-rating neighbours{pairs}, personalized PageRank, rating predictor"


def _index_size(index: Any, embedded: int, documents: Any, seconds: float) -> str:
    """E.g. "9,742 documents (9,742 embedded: bf16, 2 workers, 120 docs/s)"."""
    try:
        size = f"{int(index.count()):,} documents"
    except Exception:  # an index without a cheap size still built fine
        logger.debug("index size unavailable", exc_info=True)
        size = "built"
    if not embedded:
        return f"{size} (all vectors from the cache or the existing index)"
    return (f"{size} ({embedded:,} embedded: {documents.backend}, {documents.workers} "
            f"worker(s), {embedded / max(seconds, 1e-9):.0f} docs/s)")


def _size(size: float) -> str:
    if not size:
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""
