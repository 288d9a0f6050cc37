"""Catalog-scale benchmark: ``chatrec bench scale --items N --chroma-url URL --out DIR``.

1. **catalog**: a deterministic synthetic catalog of N items (``chatrec.bench.synthetic``) as a
   JSONL custom catalog in ``DIR/home``, the benchmark's own ``CHATREC_HOME`` (yours is untouched).
2. **index** (a subprocess): the catalog into a collection of the Chroma server, in batches, with
   seeded random unit vectors; documents per second over the whole build.
3. **worker** (a subprocess, as one ``chatrec serve`` worker would be): ``Agent.from_config`` over
   that catalog and the Chroma server, then query latency through the index the agent uses
   (seeded random query vectors, with and without filters from the synthetic vocabulary), then
   scripted multi-turn conversations (no LLM) timed turn by turn, and the worker's resident memory.

Each subprocess is watched: one that grows past ``--max-rss-mb`` is stopped, and the figures say
so (the machine is shared). Results go to ``DIR/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from chatrec.bench.synthetic import DIM, GENRES, SyntheticCatalog

TARGETS = {"query_p95_ms": 100.0, "filtered_query_p95_ms": 150.0, "turn_p95_ms": 250.0, "worker_rss_mb": 4096.0}
#: HNSW settings of the benchmark's collection: a lower construction effort than Chroma's default
#: (100) roughly doubles the build rate on 2 cores, for a recall that top-50 retrieval tolerates.
HNSW = {"ef_construction": 40, "max_neighbors": 12, "batch_size": 10_000, "sync_threshold": 50_000}


def _rss_mb(pid: int | None = None) -> tuple[float, float]:
    """(current, peak) resident memory of a process in MB, from /proc."""
    fields = {}
    with open(f"/proc/{pid or 'self'}/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)


def _rss_parts_mb() -> dict[str, float]:
    """This process's resident memory by kind (MB): anonymous (its own heap), file-backed
    (memory-mapped columns, tries and vectors: page cache, shared with other workers on the
    machine) and shared memory."""
    names = {"RssAnon": "anon", "RssFile": "file", "RssShmem": "shmem"}
    parts = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in names:
                parts[names[key]] = round(int(value.split()[0]) / 1024)
    return parts


def _p(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2) if values else float("nan")


def _catalog_path(home: Path, items: int, seed: int) -> Path:
    return home / "catalogs" / f"synthetic-{items}-s{seed}.jsonl"


# ---------------------------------------------------------------------------- subprocess: index
class _StreamedCatalog:
    """The JSONL catalog read one item at a time, as the custom-catalog loader reads each line:
    the index stage never holds the whole catalog (a million items do not fit one worker)."""

    def __init__(self, path: Path, count: int):
        self.path = path
        self.name = path.stem
        self._count = count
        self._fingerprint: str | None = None

    def __len__(self) -> int:
        return self._count

    def __iter__(self):
        import hashlib

        from chatrec.catalog.custom import CustomRecord

        digest = hashlib.sha256()       # as Catalog.fingerprint, computed on the way
        with self.path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    item = CustomRecord.model_validate_json(line).to_item()
                    digest.update(json.dumps(item.model_dump(mode="json"), sort_keys=True).encode())
                    yield item
        self._fingerprint = digest.hexdigest()[:16]

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            for _ in self:
                pass
        assert self._fingerprint is not None
        return self._fingerprint


def _index(args: argparse.Namespace) -> dict:
    from chatrec.config import Settings
    from chatrec.index import ItemIndex

    settings = Settings(home=args.home, chroma_url=args.chroma_url)
    catalog = _StreamedCatalog(args.catalog, args.items)
    synthetic = SyntheticCatalog(args.items, seed=args.seed)
    started = time.perf_counter()
    ItemIndex.build_from_vectors(catalog, synthetic.vectors, settings, batch=args.batch, hnsw=HNSW, progress=True)
    build_s = time.perf_counter() - started
    return {"index_s": round(build_s, 1), "index_docs_per_s": round(len(catalog) / build_s, 1),
            "index_rss_peak_mb": round(_rss_mb()[1])}


# ---------------------------------------------------------------------------- seal a partial index
def seal_partial_index(home: Path, catalog: Path, chroma_url: str, seed: int) -> dict:
    """Turn an index build that was stopped part-way (the machine is shared: a million HNSW
    inserts can take hours) into an index of the items it holds: the catalog's first M items
    (``collection.add`` goes in catalog order, one batch at a time). Their seeded vectors are
    written as ``vectors.npy``, the collection is renamed into place and the manifest records M.
    The worker then serves the whole N-item catalog over an M-item vector index, and the results
    say so (``indexed_items``)."""
    import chromadb

    from chatrec.config import Settings
    from chatrec.index.embedder import default_embedder
    from chatrec.index.store import FORMAT, _safe

    name = catalog.stem
    folder = home / "index" / f"{name}@server"
    stagings = sorted(folder.parent.glob(f".{folder.name}.build-*"))
    if folder.exists() or len(stagings) != 1:
        raise SystemExit(f"nothing to seal: {folder} exists or {len(stagings)} staged builds")
    staging = stagings[0]
    started = staging.stat().st_mtime          # the build created its vector file, then wrote none
    host, port = chroma_url.rsplit("//", 1)[-1].rsplit(":", 1)
    client = chromadb.HttpClient(host=host, port=int(port))
    prefix = f"chatrec-{_safe(name)}-build-"
    staged = [c.name for c in client.list_collections() if c.name.startswith(prefix)]
    if len(staged) != 1:
        raise SystemExit(f"expected one staged collection {prefix}*, found {staged}")
    collection = client.get_collection(staged[0])
    count = int(collection.count())
    ids: list[str] = []
    with catalog.open(encoding="utf-8") as lines:
        for line in lines:
            if len(ids) == count:
                break
            ids.append(json.loads(line)["id"])
    held = collection.get(ids=[ids[0], ids[-1]], include=[])["ids"]
    if sorted(held) != sorted({ids[0], ids[-1]}):
        raise SystemExit(f"the staged collection does not hold the catalog's first {count} items")
    synthetic = SyntheticCatalog(count, seed=seed)
    matrix = np.lib.format.open_memmap(staging / "vectors.part.npy", mode="w+", dtype=np.float32,
                                       shape=(count, DIM))
    for start in range(0, count, 10_000):
        matrix[start:start + 10_000] = synthetic.vectors(start, min(10_000, count - start))
    matrix.flush()
    del matrix
    os.replace(staging / "vectors.part.npy", staging / "vectors.npy")
    (staging / "ids.json").write_text(json.dumps(ids), encoding="utf-8")
    embedder = default_embedder(Settings(home=home, chroma_url=chroma_url))
    manifest = {"format": FORMAT, "catalog": name, "fingerprint": "partial", "model": embedder.name,
                "dim": embedder.dim, "count": count, "built_at": time.time(), "server": chroma_url,
                "augmentation": "", "partial_of": sum(1 for _ in catalog.open(encoding="utf-8"))}
    (staging / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    collection.modify(name=f"chatrec-{_safe(name)}")
    os.replace(staging, folder)
    figures = {"indexed_items": count, "index_partial": True, "index_s": round(time.time() - started, 1),
               "index_docs_per_s": round(count / max(time.time() - started, 1e-9), 1)}
    (folder / "bench-index.json").write_text(json.dumps(figures), encoding="utf-8")
    return figures


# ---------------------------------------------------------------------------- subprocess: embed
def _embed(args: argparse.Namespace) -> dict:
    """The real embedding rate: the product's document embedder over the documents of the
    catalog's first ``--embed-sample`` items (the index itself holds seeded random vectors)."""
    from chatrec.catalog.custom import CustomRecord
    from chatrec.config import Settings
    from chatrec.index.documents import document_text
    from chatrec.index.embedder import document_embedder

    texts: list[str] = []
    with args.catalog.open(encoding="utf-8") as lines:
        for line in lines:
            if len(texts) == args.embed_sample:
                break
            texts.append(document_text(CustomRecord.model_validate_json(line).to_item()))
    embedder = document_embedder(Settings(home=args.home, chroma_url=args.chroma_url))
    embedder.embed(texts[:64])                 # loads the model: not part of the rate
    started = time.perf_counter()
    embedder.embed(texts)
    seconds = time.perf_counter() - started
    return {"embed_sample": len(texts), "embed_docs_per_s": round(len(texts) / seconds, 1),
            "embed_model": embedder.name}


# ---------------------------------------------------------------------------- subprocess: prepare
def _prepare(args: argparse.Namespace) -> dict:
    """What ``chatrec build`` does once per catalog before any worker starts: the columnar
    catalog (``chatrec.catalog.columnar``), the linker's title tries and the BM25 aspect index,
    all under the cache, memory-mapped by every worker later."""
    os.environ["CHATREC_HOME"] = str(args.home)      # as the worker: nothing lands in the user's home
    from chatrec.config import Settings
    from chatrec.index.aspects import AspectIndex
    from chatrec.resources import Resources

    settings = Settings(home=args.home, chroma_url=args.chroma_url)
    started = time.perf_counter()
    resources = Resources.load(str(args.catalog), settings, build_missing=False, with_index=False,
                               with_collab=False, with_learnt=False)
    AspectIndex(resources.catalog, cache_dir=settings.cache_dir)
    return {"prepare_s": round(time.perf_counter() - started, 1), "prepare_rss_peak_mb": round(_rss_mb()[1]),
            "catalog_storage": type(resources.catalog).__name__, "graph": type(resources.kg).__name__}


# ---------------------------------------------------------------------------- subprocess: worker
def _script(synthetic: SyntheticCatalog, rng: random.Random) -> list[str]:
    """One scripted conversation over the synthetic vocabulary."""
    person = synthetic.person(rng.randrange(min(200, synthetic.people_pool)))
    genre, other = rng.sample(GENRES, 2)
    decade = rng.choice(["70s", "80s", "90s", "2000s", "2010s"])
    return [rng.choice([f"a {decade} {genre}, no {other}", f"a {genre} from the {decade}",
                        f"something with {person}", f"a {genre} movie please"]),
            rng.choice(["something else", "more", "something older", "something newer"]),
            rng.choice([f"no {other} please", f"with {person}", "more like the first one",
                        "who directed the second one?"]),
            rng.choice(["something lighter", "not that one", "more", f"a {other} instead"])]


def _random_constraints(rng: random.Random):
    from chatrec.catalog.constraints import Constraints

    genre, other = rng.sample(GENRES, 2)
    decade = rng.choice([1970, 1980, 1990, 2000, 2010])
    shapes = [
        Constraints(genres_all=[genre], year_min=decade, year_max=decade + 9),
        Constraints(genres_all=[genre], genres_none=[other]),
        Constraints(genres_all=[genre], year_min=decade, year_max=decade + 9, genres_none=[other]),
        Constraints(genres_any=[genre, other]),
        Constraints(year_min=decade, year_max=decade + 9),
    ]
    return rng.choice(shapes)


def _worker(args: argparse.Namespace) -> dict:
    os.environ["CHATREC_HOME"] = str(args.home)
    os.environ["CHATREC_CHROMA_URL"] = args.chroma_url
    from chatrec.agent import Agent
    from chatrec.config import Settings
    from chatrec.index import ItemIndex
    from chatrec.store import Store

    settings = Settings(home=args.home, chroma_url=args.chroma_url)
    figures: dict = {}
    started = time.perf_counter()
    with Store(args.home / "bench-sessions.sqlite3") as store:
        agent = Agent.from_config(str(args.catalog), settings, llm=False, store=store, build_missing=False)
        figures["worker_start_s"] = round(time.perf_counter() - started, 1)
        figures["worker_rss_after_load_mb"] = round(_rss_mb()[0])
        index = agent.resources.index
        assert isinstance(index, ItemIndex)
        synthetic = SyntheticCatalog(len(agent.catalog), seed=args.seed)
        rng = np.random.default_rng(args.seed + 1)
        plain, filtered = [], []
        crng = random.Random(args.seed)
        for i in range(args.queries + 10):
            vector = rng.standard_normal(384).astype(np.float32)
            vector /= np.linalg.norm(vector)
            t = time.perf_counter()
            hits = index.query_vector(vector, k=50)
            if i >= 10:
                plain.append((time.perf_counter() - t) * 1000)
            constraints = _random_constraints(crng)
            t = time.perf_counter()
            found = index.query_vector(vector, k=50, flt=constraints)
            if i >= 10:
                filtered.append((time.perf_counter() - t) * 1000)
            assert len(hits) == 50 and all(constraints.matches(agent.catalog[h]) for h, _ in found)
        figures.update(query_p50_ms=_p(plain, 50), query_p95_ms=_p(plain, 95),
                       filtered_query_p50_ms=_p(filtered, 50), filtered_query_p95_ms=_p(filtered, 95),
                       filter_engine=index.filter_engine)
        turns: list[float] = []
        steps: dict[str, list[float]] = {}
        srng = random.Random(args.seed + 2)
        done = 0
        session = 0
        while done < args.turns + 4:
            session += 1
            for message in _script(synthetic, srng):
                t = time.perf_counter()
                reply = agent.respond(f"bench-{session}", message, user_id=f"bench:{session % 7}")
                elapsed = (time.perf_counter() - t) * 1000
                done += 1
                if done > 4:      # the first turns warm caches up
                    turns.append(elapsed)
                    for step, ms in reply.trace.timings_ms.items():
                        steps.setdefault(step, []).append(ms)
        figures.update(turns=len(turns), turn_p50_ms=_p(turns, 50), turn_p95_ms=_p(turns, 95),
                       turn_max_ms=round(max(turns), 1),
                       turn_steps_p95_ms={step: _p(values, 95) for step, values in steps.items()})
    current, peak = _rss_mb()
    figures.update(worker_rss_mb=round(current), worker_rss_peak_mb=round(peak),
                   worker_rss_parts_mb=_rss_parts_mb())
    return figures


# ---------------------------------------------------------------------------- parent
def _watched(args: list[str], limit_mb: float, label: str) -> dict:
    """Run a stage in a subprocess, stopping it if its memory passes ``limit_mb``."""
    with subprocess.Popen([sys.executable, "-m", "chatrec.bench.scale", *args], stdout=subprocess.PIPE,
                          text=True) as child:
        peak = 0.0
        while child.poll() is None:
            try:
                peak = max(peak, _rss_mb(child.pid)[0])
            except OSError:
                break
            if peak > limit_mb:
                child.kill()
                child.wait()
                return {"error": f"{label} stopped: resident memory passed {limit_mb:.0f} MB",
                        f"{label}_rss_mb_when_stopped": round(peak)}
            time.sleep(0.5)
        out = child.stdout.read() if child.stdout else ""
    if child.returncode != 0:
        return {"error": f"{label} failed with exit code {child.returncode}"}
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chatrec bench scale", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, required=True, help="catalog size")
    parser.add_argument("--chroma-url", required=True, help="a Chroma server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, required=True, help="folder for the catalog, caches and results.json")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=5000, help="items per indexing batch")
    parser.add_argument("--queries", type=int, default=200, help="timed queries of each kind")
    parser.add_argument("--turns", type=int, default=60, help="timed agent turns")
    parser.add_argument("--max-rss-mb", type=float, default=6144,
                        help="stop a stage whose resident memory passes this (shared machine)")
    parser.add_argument("--embed-sample", type=int, default=2000,
                        help="documents embedded with the real model to measure its rate (0: skip)")
    parser.add_argument("--reuse-index", action="store_true",
                        help="skip indexing when DIR already holds this catalog's index")
    parser.add_argument("stage", nargs="?", choices=["index", "embed", "prepare", "worker", "seal"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--catalog", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage == "seal":             # finish a stopped index build with what it holds
        print(json.dumps(seal_partial_index(args.home, args.catalog, args.chroma_url, args.seed)), flush=True)
        return 0
    if args.stage is not None:           # inside a stage's subprocess
        stages = {"index": _index, "embed": _embed, "prepare": _prepare, "worker": _worker}
        result = stages[args.stage](args)
        print(json.dumps(result), flush=True)
        return 0

    out: Path = args.out.resolve()
    home = out / "home"
    results: dict = {"items": args.items, "seed": args.seed, "chroma_url": args.chroma_url,
                     "cores": os.cpu_count(), "targets": TARGETS, "hnsw": HNSW}
    started = time.perf_counter()
    catalog = _catalog_path(home, args.items, args.seed)
    if not catalog.is_file():
        SyntheticCatalog(args.items, seed=args.seed).write_jsonl(catalog)
    results["generate_s"] = round(time.perf_counter() - started, 1)
    print(f"catalog: {args.items:,} items in {catalog} ({results['generate_s']} s)", flush=True)
    common = ["--items", str(args.items), "--chroma-url", args.chroma_url, "--out", str(out), "--seed",
              str(args.seed), "--batch", str(args.batch), "--queries", str(args.queries), "--turns",
              str(args.turns), "--embed-sample", str(args.embed_sample), "--home", str(home),
              "--catalog", str(catalog)]
    manifest = home / "index" / f"{catalog.stem}@server" / "manifest.json"
    if not (args.reuse_index and manifest.is_file()):
        print("indexing into Chroma…", flush=True)
        results.update(_watched(["index", *common], args.max_rss_mb, "index"))
        print(f"  {results.get('index_docs_per_s')} docs/s", flush=True)
        if "error" not in results:
            results.setdefault("indexed_items", args.items)
    else:
        sealed = manifest.parent / "bench-index.json"
        results.update(json.loads(sealed.read_text(encoding="utf-8")) if sealed.is_file()
                       else {"indexed_items": json.loads(manifest.read_text(encoding="utf-8"))["count"],
                             "index_reused": True})
    results["vectors"] = ("seeded random unit vectors (synthetic), inserted into the Chroma server: "
                          "index_docs_per_s is Chroma's insert rate, not the embedding model's")
    if args.embed_sample and "error" not in results:
        print(f"embedding {args.embed_sample} documents with the real model…", flush=True)
        results.update(_watched(["embed", *common], args.max_rss_mb, "embed"))
    if "error" not in results:
        print("preparing the catalog's columns, title tries and BM25 index (once per catalog)…", flush=True)
        results.update(_watched(["prepare", *common], args.max_rss_mb, "prepare"))
    if "error" not in results:
        print("worker: loading the agent, timing queries and turns…", flush=True)
        results.update(_watched(["worker", *common], args.max_rss_mb, "worker"))
    results["passed"] = {key: (key in results and isinstance(results[key], int | float) and results[key] < limit)
                         for key, limit in TARGETS.items()}
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    for key in ("items", "indexed_items", "index_docs_per_s", "embed_docs_per_s",
                "query_p95_ms", "filtered_query_p95_ms", "turn_p95_ms",
                "worker_rss_mb", "error"):
        if key in results:
            mark = "" if key not in TARGETS else (" ✓" if results["passed"][key] else f" ✗ (target < {TARGETS[key]:g})")
            print(f"{key:>24}: {results[key]}{mark}")
    print(f"results: {out / 'results.json'}")
    return 0 if "error" not in results else 1


if __name__ == "__main__":
    sys.exit(main())
