"""Latency of the collaborative models, as the agent calls them per turn.

    chatrec bench collab [--calls 300]

Prints fit time, cache write/load time and p50/p95/max per call of ``cooccur.similar``,
``ppr.scores`` (items only, items + user) and ``rating.predict``, over seeds and users drawn
(seeded) from the MovieLens catalog the way a dialogue would: 1–3 liked films, k=300.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from chatrec.catalog.models import Catalog
from chatrec.collab import CollaborativeModels, fit, load_or_fit
from chatrec.config import Settings, get_settings


def _percentiles(samples_ms: list[float]) -> dict[str, float]:
    data = np.asarray(samples_ms)
    return {"p50": float(np.percentile(data, 50)), "p95": float(np.percentile(data, 95)),
            "max": float(data.max()), "calls": len(data)}


def _time_calls(calls: Sequence[Callable[[], object]]) -> dict[str, float]:
    calls[0]()                                  # warm-up
    samples = []
    for call in calls:
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1e3)
    return _percentiles(samples)


def run(catalog: Catalog, calls: int = 300, seed: int = 0) -> dict[str, dict[str, float]]:
    """Measure everything; returns name → {p50, p95, max (ms), calls} or {seconds}."""
    results: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    models: CollaborativeModels = fit(catalog.interactions)
    results["fit"] = {"seconds": time.perf_counter() - started}
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home))
        started = time.perf_counter()
        load_or_fit(catalog, settings)          # fits again and writes the cache
        results["fit + cache write"] = {"seconds": time.perf_counter() - started}
        started = time.perf_counter()
        load_or_fit(catalog, settings)
        results["cache load"] = {"seconds": time.perf_counter() - started}

    rng = np.random.default_rng(seed)
    matrix = models.matrix
    counts = np.diff(matrix.ratings.tocsc().indptr).astype(float)
    popular_bias = counts / counts.sum()         # dialogues mention known films more often
    seeds = [{str(matrix.items[j]): 1.0 for j in
              rng.choice(matrix.n_items, size=rng.integers(1, 4), replace=False, p=popular_bias)}
             for _ in range(calls)]
    users = [str(u) for u in rng.choice(matrix.users, size=calls)]
    targets = [str(matrix.items[j]) for j in rng.choice(matrix.n_items, size=calls, p=popular_bias)]
    results["cooccur.similar k=300"] = _time_calls(
        [lambda s=s: models.cooccur.similar(s, k=300) for s in seeds])
    results["ppr.scores k=300"] = _time_calls(
        [lambda s=s: models.ppr.scores(s, k=300) for s in seeds])
    results["ppr.scores k=300 + user"] = _time_calls(
        [lambda s=s, u=u: models.ppr.scores(s, user_id=u, k=300)
         for s, u in zip(seeds, users, strict=True)])
    results["rating.predict"] = _time_calls(
        [lambda u=u, t=t: models.rating.predict(u, t) for u, t in zip(users, targets, strict=True)])
    return results


def format_results(results: dict[str, dict[str, float]]) -> str:
    lines = ["| what | p50 ms | p95 ms | max ms | calls |", "|---|---:|---:|---:|---:|"]
    for name, value in results.items():
        if "seconds" in value:
            lines.append(f"| {name} | {value['seconds'] * 1e3:.0f} (once) | | | |")
        else:
            lines.append(f"| {name} | {value['p50']:.2f} | {value['p95']:.2f} | "
                         f"{value['max']:.2f} | {value['calls']} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="chatrec bench collab",
                                     description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--catalog", default="movielens")
    args = parser.parse_args(argv)
    from chatrec.catalog.loader import load_catalog

    catalog = load_catalog(args.catalog, get_settings())
    print(format_results(run(catalog, calls=args.calls)))


if __name__ == "__main__":
    main()
