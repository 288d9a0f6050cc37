"""Timings of the kg room on a real catalog: ``chatrec bench kg [--catalog movielens]``.

Prints catalog load, graph build and cached load, lexicon build and cached load, per-message
linking latency over real ReDial messages (titles substituted as in :mod:`chatrec.evaluation.linker`),
explanation-path latency and picture rendering time. Numbers, not assertions: run it on the
machine you care about.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from chatrec.config import Settings, get_settings

T = TypeVar("T")


def _timed(fn: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def _percentiles(samples_ms: list[float]) -> str:
    ordered = sorted(samples_ms)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return (f"p50={statistics.median(ordered):.3f} ms p95={p95:.3f} ms max={ordered[-1]:.2f} ms "
            f"(n={len(ordered)})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="kg timings")
    parser.add_argument("--catalog", default="movielens")
    parser.add_argument("--messages", type=int, default=3000, help="messages to link")
    args = parser.parse_args(argv)

    from chatrec.catalog.loader import load_catalog
    from chatrec.evaluation.linker import _substitute
    from kg.graph import KnowledgeGraph
    from kg.lexicon import Lexicon
    from kg.linker import EntityLinker
    from kg.paths import explain
    from kg.render import render_paths

    settings = get_settings()
    seconds, catalog = _timed(lambda: load_catalog(args.catalog, settings))
    print(f"catalog {args.catalog}: {len(catalog)} items, load {seconds:.2f} s")
    seconds, fingerprint = _timed(catalog.fingerprint)
    print(f"catalog fingerprint (part of every cached load): {seconds:.2f} s")
    seconds, kg = _timed(lambda: KnowledgeGraph.build(catalog, fingerprint))
    print(f"KG build: {seconds:.2f} s  {kg!r}")
    with tempfile.TemporaryDirectory() as home:
        fresh = Settings(home=Path(home), data_dir=settings.data_dir)
        seconds, _ = _timed(lambda: KnowledgeGraph.load_or_build(catalog, fresh))
        print(f"KG load_or_build, cold (build + save): {seconds:.2f} s")
        seconds, loaded = _timed(lambda: KnowledgeGraph.load_or_build(catalog, fresh))
        print(f"KG load_or_build, cached: {seconds:.2f} s (equal: {loaded == kg})")
        seconds, _ = _timed(lambda: Lexicon.load_or_build(kg, catalog, fresh))
        print(f"lexicon, cold (build + save): {seconds:.2f} s")
        seconds, lexicon = _timed(lambda: Lexicon.load_or_build(kg, catalog, fresh))
        print(f"lexicon, cached: {seconds:.2f} s ({len(lexicon)} phrases)")
    seconds, linker = _timed(lambda: EntityLinker(kg, catalog, lexicon=lexicon))
    print(f"linker start (word table): {seconds:.2f} s")

    if settings.data_dir is not None:
        texts: list[str] = []
        path = settings.data_dir / "redial" / "dev" / "dialogues.jsonl"
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                dialogue = json.loads(line)
                names = dialogue.get("movieMentions") or {}
                for message in dialogue["messages"]:
                    rng = random.Random(f"bench:{len(texts)}")
                    texts.append(_substitute(message["text"], names, rng)[0])
                if len(texts) >= args.messages:
                    break
        samples = []
        for text in texts:
            seconds, _ = _timed(lambda text=text: linker.link(text))
            samples.append(seconds * 1000)
        print(f"link per ReDial message: {_percentiles(samples)}")

    rng = random.Random(7)
    popular = [item.id for item in catalog.popular(500)]
    samples = []
    for _ in range(500):
        candidate, *liked = rng.sample(popular, 6)
        seconds, _ = _timed(lambda c=candidate, lk=liked: explain(kg, c, lk, ["genre:comedy"]))
        samples.append(seconds * 1000)
    print(f"explain (5 liked items, 1 attribute): {_percentiles(samples)}")
    candidate, *liked = popular[:4]
    paths = explain(kg, candidate, liked, max_paths=3)
    for fmt in ("png", "svg"):
        seconds, data = _timed(lambda f=fmt: render_paths(kg, candidate, paths, fmt=f))
        print(f"render {fmt}: {seconds * 1000:.0f} ms, {len(data)} bytes")


if __name__ == "__main__":
    main()
