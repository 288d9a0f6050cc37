"""``chatrec bench``: benchmarks that print numbers (performance targets are checked here, not by
timed unit tests). Each room adds its own sub-command to ``bench_app``."""

from __future__ import annotations

import json
import logging
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from chatrec.bench.embedding import MIN_OVERLAP, REDIAL_DEV
from chatrec.cli.options import PASS_THROUGH, catalog_option
from chatrec.config import get_settings

logger = logging.getLogger(__name__)
console = Console()

bench_app = typer.Typer(help="Benchmarks: print timings and check performance targets.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")


# ---------------------------------------------------------------------------- bench index
@bench_app.command("index")
def index(
    catalog: str | None = catalog_option(),
    limit: int | None = typer.Option(
        None, "--limit", min=10, help="Only the N most popular items (quicker runs)."),
    queries: int = typer.Option(250, "--queries", min=200, help="Queries per measured set."),
    seed: int = typer.Option(0, "--seed", help="Seed of the generated queries and filters."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the figures here."),
    existing: bool = typer.Option(
        False, "--existing", help="No embedding or build: time loads and queries on the index "
        "already built in CHATREC_HOME (run `chatrec build` first)."),
    seeker_turns: int = typer.Option(
        500, "--seeker-turns", min=0, help="ReDial dev seeker turns in the overlap@50 query set."),
) -> None:
    """Catalog + KG load, model load, document embedding speed of the previous path (float32
    ONNX, one worker) and the current one side by side, overlap@50 of their vector neighbours
    on requests and ReDial seeker turns, a cold index build (ratio to the raw embedding time),
    and query latency with and without filters.

    The build goes into a temporary CHATREC_HOME (cold embedding cache) that is deleted after;
    the index of your own home is never touched. Targets (2 cores): overlap@50 ≥ 0.9, build ≤
    1.2× raw embedding, query p95 < 20 ms, catalog + KG load < 3 s.
    """
    from chatrec.bench.embedding import (
        before_embedder,
        neighbour_overlap,
        now_embedder,
        query_sets,
        time_path,
    )
    from chatrec.catalog.loader import load_catalog
    from chatrec.index.documents import document_text
    from chatrec.index.embedder import MiniLMEmbedder
    from chatrec.index.store import ItemIndex

    settings = get_settings()
    spec = catalog or settings.catalog
    figures: dict[str, Any] = {"catalog": spec}

    # 1. catalog and KG: a first load (may parse and cache) and a load from the disk cache.
    first, cat = _timed(lambda: load_catalog(spec, settings))
    cached, cat = _timed(lambda: load_catalog(spec, settings))
    figures.update(catalog_first_s=first, catalog_load_s=cached, items=len(cat))
    kg_first, kg_cached = _kg_load_times(cat, settings)
    figures.update(kg_first_s=kg_first, kg_load_s=kg_cached)
    if limit and not existing:
        cat = cat.subset([item.id for item in cat.popular(limit)], name=f"{cat.name}-top{limit}")
    bench_catalog = cat.subset(cat.ids, name=f"{cat.name}-bench")
    figures["indexed_items"] = len(bench_catalog)

    # 2. model load (a fresh embedder, as a new process would make it).
    embedder = MiniLMEmbedder(settings)
    figures["model_load_s"], _ = _timed(embedder.load)
    figures["backend"] = embedder.backend

    if existing:
        figures["index_open_s"], built = _timed(
            lambda: ItemIndex.open(cat, settings, embedder=embedder))
        console.print(f"querying {built} ({queries} per set)…")
        figures.update(_query_latencies(built, cat, queries, seed))
        _print_index_figures(figures)
        _write_json(figures, json_out)
        return

    # 3. exactly the documents the build embeds, by the previous path and the current one.
    texts = [document_text(item) for item in bench_catalog]
    figures["mean_doc_words"] = float(np.mean([len(t.split()) for t in texts]))
    paths = {}
    for label, make in (("before", before_embedder), ("now", now_embedder)):
        path_embedder = make(settings)
        console.print(f"embedding {len(texts):,} documents, {label} "
                      f"({path_embedder.requested_backend}, {path_embedder.workers} worker(s))…")
        speed, vectors = time_path(label, path_embedder, texts)
        paths[label] = (path_embedder, vectors)
        figures.update(speed.figures(label))
    now_embedder_, now_vectors = paths["now"]
    before_vectors = paths["before"][1]
    figures.update(raw_embed_s=figures["now_embed_s"], raw_embed_cpu_s=figures["now_embed_cpu_s"],
                   docs_per_s=figures["now_docs_per_s"],
                   speedup=figures["now_docs_per_s"] / figures["before_docs_per_s"],
                   cpu_speedup=figures["now_docs_per_cpu_s"] / figures["before_docs_per_cpu_s"],
                   cosine_min=float((before_vectors * now_vectors).sum(axis=1).min()))
    sets = query_sets(bench_catalog, _data_root(settings), queries, seeker_turns, _query_texts, seed)
    console.print("overlap@50 of vector neighbours: " + ", ".join(
        f"{len(v)} {k}" for k, v in sets.items()) + "…")
    figures["overlap_at_50"] = neighbour_overlap(before_vectors, now_vectors, embedder, sets)
    raw_wall, raw_cpu = figures["now_embed_s"], figures["now_embed_cpu_s"]

    # 4. a cold build in a throw-away home, then the same build with a warm embedding cache.
    scratch = Path(tempfile.mkdtemp(prefix="bench-", dir=_scratch_parent(settings)))
    try:
        bench_settings = settings.model_copy(update={"home": scratch})
        console.print("building the index (cold embedding cache)…")
        build_wall, build_cpu, built = _timed_cpu(lambda: ItemIndex.build(
            bench_catalog, bench_settings, embedder=embedder, documents=now_embedder_,
            rebuild=True, progress=True))
        figures.update(build_s=build_wall, build_cpu_s=build_cpu,
                       build_ratio=build_wall / raw_wall, build_cpu_ratio=build_cpu / raw_cpu)
        built.close()
        figures["rebuild_warm_s"], built = _timed(lambda: ItemIndex.build(
            bench_catalog, bench_settings, embedder=embedder, documents=now_embedder_,
            rebuild=True, progress=False))
        built.close()
        figures["index_open_s"], built = _timed(
            lambda: ItemIndex.open(bench_catalog, bench_settings, embedder=embedder))

        # 5. queries: distinct texts per set, so each end-to-end query embeds its text.
        console.print(f"querying ({queries} per set)…")
        figures.update(_query_latencies(built, bench_catalog, queries, seed))
        built.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    _print_index_figures(figures)
    _write_json(figures, json_out)


def _data_root(settings: Any) -> Path | None:
    """Where the public data is, without downloading anything (None: not here)."""
    from chatrec.catalog.fetch import ensure_data
    from chatrec.errors import ChatrecError

    try:
        return ensure_data(settings, needed=[REDIAL_DEV], progress=False)
    except ChatrecError as exc:
        console.print(f"[yellow]no ReDial seeker turns in the overlap set: {exc}[/]")
        return None


def _write_json(figures: dict[str, Any], path: Path | None) -> None:
    if path is not None:
        path.write_text(json.dumps(figures, indent=2, sort_keys=True), encoding="utf-8")
        console.print(f"figures written to {path}")


def _query_cache_counts(embedder: Any) -> tuple[int, int]:
    return getattr(embedder, "query_hits", 0), getattr(embedder, "query_misses", 0)


def _scratch_parent(settings: Any) -> Path:
    settings.home.mkdir(parents=True, exist_ok=True)
    return settings.home


def _timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def _timed_cpu(work: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds: on a shared machine CPU time is the steadier of the two."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def _kg_load_times(catalog: Any, settings: Any) -> tuple[float | None, float | None]:
    try:
        from kg.graph import KnowledgeGraph
    except ImportError:
        console.print("[yellow]kg.graph is not available: KG load not measured[/]")
        return None, None
    first, _ = _timed(lambda: KnowledgeGraph.load_or_build(catalog, settings))
    cached, _ = _timed(lambda: KnowledgeGraph.load_or_build(catalog, settings))
    return first, cached


def _query_texts(catalog: Any, count: int, rng: random.Random) -> list[str]:
    """Requests shaped like what users type, made from the catalog's own vocabulary."""
    items = list(catalog)
    texts: list[str] = []
    seen: set[str] = set()
    templates = (
        "a {g} movie about {k}", "something {k} with {k2}", "{k} and {k2}",
        "movies like {t}", "I want a {g} film, maybe {k}", "{g} {k} from the {d}s",
    )
    attempts = 0
    while len(texts) < count and attempts < count * 50:
        attempts += 1
        item = rng.choice(items)
        words = [*item.keywords, *item.tags] or item.genres or [item.title]
        text = rng.choice(templates).format(
            g=rng.choice(item.genres) if item.genres else "good", k=rng.choice(words),
            k2=rng.choice(words), t=item.title, d=item.decade or 1990)
        if text not in seen:
            seen.add(text)
            texts.append(text)
    return texts


def _random_filter(catalog: Any, rng: random.Random) -> Any:
    from chatrec.catalog.constraints import ItemFilter

    genres = sorted({g for item in catalog for g in item.genres})
    kind = rng.randrange(4)
    if kind == 0:
        decade = rng.choice(range(1950, 2020, 10))
        return ItemFilter(year_min=decade, year_max=decade + 9)
    if kind == 1:
        return ItemFilter(genres_any=rng.sample(genres, 2), genres_none=[rng.choice(genres)])
    if kind == 2:
        return ItemFilter(genres_all=[rng.choice(genres)], year_min=rng.choice(range(1970, 2015)))
    return ItemFilter(year_min=1980, year_max=2010, genres_any=[rng.choice(genres)],
                      genres_none=[rng.choice(genres)],
                      exclude_ids=set(rng.sample(catalog.ids, 20)))


def _query_latencies(index: Any, catalog: Any, count: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    texts = _query_texts(catalog, 2 * count, rng)
    plain, filtered = texts[:count], texts[count:]
    filters = [_random_filter(catalog, rng) for _ in filtered]
    index.query("warm up", k=50)  # first query loads Chroma's segments
    out: dict[str, float] = {}

    def measure(name: str, calls: list[Callable[[], Any]]) -> None:
        times = []
        for call in calls:
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
        out[f"{name}_p50_ms"] = float(np.percentile(times, 50) * 1000)
        out[f"{name}_p95_ms"] = float(np.percentile(times, 95) * 1000)

    measure("query", [lambda t=t: index.query(t, k=50) for t in plain])
    measure("query_filtered", [lambda t=t, f=f: index.query(t, k=50, flt=f)
                               for t, f in zip(filtered, filters, strict=True)])
    # Search alone (texts already embedded: the embedder remembers them).
    measure("search", [lambda t=t: index.query(t, k=50) for t in plain])
    measure("search_filtered", [lambda t=t, f=f: index.query(t, k=50, flt=f)
                                for t, f in zip(filtered, filters, strict=True)])
    out["queries_per_set"] = count
    return out


def _print_index_figures(f: dict[str, Any]) -> None:
    def s(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.2f} s"

    def ok(good: bool) -> str:
        return "[green]✓[/]" if good else "[red]✗[/]"

    table = Table(title=f"chatrec bench index — {f['catalog']} ({f['indexed_items']:,} items "
                        f"indexed of {f['items']:,})", title_justify="left")
    for column in ("measure", "value", "target"):
        table.add_column(column)
    load = f["catalog_load_s"] + (f["kg_load_s"] or 0.0)
    table.add_row("catalog load (disk cache) / first", f"{s(f['catalog_load_s'])} / "
                  f"{s(f['catalog_first_s'])}", "")
    table.add_row("KG load (disk cache) / first", f"{s(f['kg_load_s'])} / {s(f['kg_first_s'])}", "")
    measured = f["kg_load_s"] is not None
    table.add_row("catalog + KG load", s(load), f"< 3 s {ok(load < 3 and measured)}")
    table.add_row(f"model load ({f['backend']})", s(f["model_load_s"]), "")
    if "build_s" in f:
        for label in ("before", "now"):
            table.add_row(
                f"embedding, {label}: {f[f'{label}_backend']}, {f[f'{label}_workers']} worker(s)",
                f"[bold]{f[f'{label}_docs_per_s']:.1f} docs/s[/] ({f[f'{label}_docs_per_cpu_s']:.0f} "
                f"per CPU-second); {s(f[f'{label}_embed_s'])}, model load {s(f[f'{label}_load_s'])}",
                "")
        table.add_row("embedding speed-up, now ÷ before", f"{f['speedup']:.2f}× wall, "
                      f"{f['cpu_speedup']:.2f}× CPU (~{f['mean_doc_words']:.0f} words/doc)", "")
        table.add_row("vectors, now vs before", f"cosine ≥ {f['cosine_min']:.5f}", "")
        for name, o in f["overlap_at_50"].items():
            table.add_row(f"overlap@50, {name} ({o['queries']})",
                          f"{o['mean']:.3f} (p10 {o['p10']:.2f}, min {o['min']:.2f})",
                          f"≥ {MIN_OVERLAP} {ok(o['mean'] >= MIN_OVERLAP)}")
        table.add_row("index build, cold cache", s(f["build_s"]), "")
        table.add_row("build / raw embedding (wall)", f"{f['build_ratio']:.3f}×",
                      f"≤ 1.2× {ok(f['build_ratio'] <= 1.2)}")
        table.add_row("build / raw embedding (CPU)", f"{f['build_cpu_ratio']:.3f}×", "")
        table.add_row("rebuild, warm embedding cache", s(f["rebuild_warm_s"]), "")
    table.add_row("index open", s(f["index_open_s"]), "")
    for name, label in (("query", "query (embed + search)"),
                        ("query_filtered", "query with filters (embed + search)"),
                        ("search", "search only"), ("search_filtered", "search only, filters")):
        p95 = f[f"{name}_p95_ms"]
        target = f"p95 < 20 ms {ok(p95 < 20)}" if name.startswith("query") else ""
        table.add_row(f"{label} p50 / p95", f"{f[f'{name}_p50_ms']:.1f} / {p95:.1f} ms", target)
    console.print(table)


# ---------------------------------------------------------------------------- bench agent
@bench_app.command("agent")
def agent(
    catalog: str | None = catalog_option(),
    turns: int = typer.Option(300, "--turns", min=20, help="Timed turns."),
    sessions: int = typer.Option(60, "--sessions", min=1, help="Sessions the turns are spread over."),
    seed: int = typer.Option(0, "--seed", help="Seed of the scripted messages."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the figures here."),
) -> None:
    """Turn latency of ``Agent.respond`` with no LLM: p50/p95/max over scripted, distinct turns
    (requests, refinements, feedback, questions, known MovieLens users), per-step p50/p95 and
    cache hit rates. Sessions go to a scratch SQLite store (saving is timed, your home's store is
    not touched). Target (2 cores): p95 < 50 ms."""
    from chatrec.agent import Agent
    from chatrec.bench.agent import run
    from chatrec.store import Store

    settings = get_settings()
    started = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="bench-agent-", dir=_scratch_parent(settings)))
    try:
        with Store(scratch / "sessions.sqlite3") as store:
            bot = Agent.from_config(catalog or settings.catalog, settings, llm=False, store=store,
                                    progress=True)
            load_s = time.perf_counter() - started
            embedder = getattr(bot.resources.index, "embedder", None)
            before = _query_cache_counts(embedder)
            result = run(bot, turns=turns, sessions=sessions, seed=seed)
            hits, misses = (now - then for now, then in zip(_query_cache_counts(embedder), before))
            figures = {"catalog": bot.catalog.name, "items": len(bot.catalog),
                       "load_s": round(load_s, 2), **result.summary(),
                       "query_embedding_cache_hit_rate":
                           round(hits / (hits + misses), 3) if hits + misses else None,
                       "query_embeddings": hits + misses}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    _write_json(figures, json_out)
    table = Table(title=f"chatrec bench agent — {figures['catalog']} ({figures['items']} items), "
                        f"{figures['turns']} turns over {figures['sessions']} sessions, no LLM")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target")
    table.add_row("agent load", f"{figures['load_s']:.2f} s", "")
    p95 = figures["p95_ms"]
    table.add_row("turn p50/p95/max",
                  f"{figures['p50_ms']:.1f} / {p95:.1f} / {figures['max_ms']:.1f} ms",
                  f"p95 < 50 ms {'[green]ok[/]' if p95 < 50 else '[red]missed[/]'}")
    for step, values in figures["steps"].items():
        table.add_row(f"  {step} p50 / p95", f"{values['p50_ms']:.1f} / {values['p95_ms']:.1f} ms", "")
    rate = figures["query_embedding_cache_hit_rate"]
    table.add_row("query cache hits",
                  "n/a" if rate is None else f"{rate:.0%} of {figures['query_embeddings']}", "")
    table.add_row("decisions", ", ".join(f"{k} {v}" for k, v in figures["decisions"].items()), "")
    console.print(table)


# ---------------------------------------------------------------------------- bench serve
@bench_app.command("serve")
def serve(
    catalog: str | None = catalog_option(),
    runs: int = typer.Option(3, "--runs", min=1, help="Server start-ups to time."),
    sessions: int = typer.Option(20, "--sessions", min=1, help="Concurrent sessions."),
    turns: int = typer.Option(10, "--turns", min=1, help="Messages per session."),
    client: str = typer.Option("http", "--client",
                               help="http (Gradio's HTTP API, light) or gradio_client (the Python client)."),
    cold: bool = typer.Option(False, "--cold", help="Start-ups in fresh, empty homes (nothing built, "
                              "no index): time to the first reply with recommendations; no latency test."),
) -> None:
    """`chatrec serve` on this CHATREC_HOME: time from start to the first HTTP 200 and to the
    first answered /chat, then p50/p95 reply latency over the Gradio API for concurrent sessions
    (no LLM). See chatrec/bench/serve.py."""
    from chatrec.bench.serve import main as bench_serve

    args = ["--runs", str(runs), "--sessions", str(sessions), "--turns", str(turns), "--client", client]
    if cold:
        args.append("--cold")
    if catalog:
        args += ["--catalog", catalog]
    raise typer.Exit(bench_serve(args))


# ---------------------------------------------------------------------------- pass-through benches
# These benchmarks parse their own options (``chatrec bench kg --help`` shows them).


@bench_app.command("kg", **PASS_THROUGH)
def kg(ctx: typer.Context) -> None:
    """Knowledge-graph build/load times and entity-linker latency on ReDial messages."""
    from chatrec.bench.kg import main as bench_kg

    bench_kg(list(ctx.args))


@bench_app.command("collab", **PASS_THROUGH)
def collab(ctx: typer.Context) -> None:
    """Collaborative sources: personalized PageRank and co-rating latency."""
    from chatrec.bench.collab import main as bench_collab

    bench_collab(list(ctx.args))


@bench_app.command("slack", **PASS_THROUGH)
def slack(ctx: typer.Context) -> None:
    """The Slack bot over loopback Slack stand-ins: ack and threaded-reply latency, bursts."""
    from chatrec.bench.slack import main as bench_slack

    bench_slack(list(ctx.args))


@bench_app.command("llm", **PASS_THROUGH)
def llm(ctx: typer.Context) -> None:
    """The agent against cooperative, lying and faulty OpenAI-compatible servers (and the tiny
    SmolLM2 model with --tiny): LLM output used, fallbacks, grounding, calls, tokens, latency."""
    from chatrec.bench.llm import main as bench_llm

    raise typer.Exit(bench_llm(list(ctx.args)))


@bench_app.command("scale", **PASS_THROUGH)
def scale(ctx: typer.Context) -> None:
    """A synthetic catalog of --items N indexed into a Chroma server (--chroma-url): indexing
    rate, query p95 with and without filters, one worker's memory and agent turn p95 (--out DIR)."""
    from chatrec.bench.scale import main as bench_scale

    raise typer.Exit(bench_scale(list(ctx.args)))
