"""The two ways of embedding documents, side by side: speed, and whether retrieval still finds
the same items.

``before`` is float32 ONNX on one worker (what index builds used); ``now`` is what builds use
today (``document_embedder``: bf16 where the CPU has it natively, several batches at once).
Quality is judged where it matters, on neighbours: for a fixed query set (requests shaped like
what users type, and ReDial dev seeker turns) the top-50 items of each query under float32
documents are compared with those under ``now`` documents, the queries embedded as the agent
embeds them (ONNX, float32). Overlap@50 = |both| / 50, averaged over the set.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from chatrec.config import Settings
from chatrec.index.embedder import MiniLMEmbedder, document_embedder

OVERLAP_K = 50
#: Overlap@50 the fast path must reach on every query set.
MIN_OVERLAP = 0.9
REDIAL_DEV = "redial/dev/dialogues.jsonl"


@dataclass
class PathSpeed:
    """One embedding path over the same documents."""

    label: str
    backend: str
    workers: int
    load_s: float
    wall_s: float
    cpu_s: float
    docs: int

    @property
    def docs_per_s(self) -> float:
        return self.docs / self.wall_s if self.wall_s else 0.0

    @property
    def docs_per_cpu_s(self) -> float:
        return self.docs / self.cpu_s if self.cpu_s else 0.0

    def figures(self, prefix: str) -> dict[str, Any]:
        return {f"{prefix}_backend": self.backend, f"{prefix}_workers": self.workers,
                f"{prefix}_load_s": self.load_s, f"{prefix}_embed_s": self.wall_s,
                f"{prefix}_embed_cpu_s": self.cpu_s, f"{prefix}_docs_per_s": self.docs_per_s,
                f"{prefix}_docs_per_cpu_s": self.docs_per_cpu_s}


def time_path(label: str, embedder: MiniLMEmbedder, texts: Sequence[str]
              ) -> tuple[PathSpeed, np.ndarray]:
    """Load ``embedder`` and embed ``texts`` with it, timed (wall and this process's CPU)."""
    started = time.perf_counter()
    embedder.load()
    load_s = time.perf_counter() - started
    wall, cpu = time.perf_counter(), time.process_time()
    vectors = embedder.embed(list(texts))
    speed = PathSpeed(label, embedder.backend or "?", embedder.workers, load_s,
                      time.perf_counter() - wall, time.process_time() - cpu, len(texts))
    return speed, vectors


def before_embedder(settings: Settings) -> MiniLMEmbedder:
    """The float32 ONNX path on one worker (also the reference of quality)."""
    return MiniLMEmbedder(settings, backend="onnx", workers=1)


def now_embedder(settings: Settings) -> MiniLMEmbedder:
    """A fresh embedder configured as ``document_embedder`` (not the shared one: timed cold)."""
    shared = document_embedder(settings)
    return MiniLMEmbedder(settings, backend=shared.requested_backend, workers=shared.workers)


def top_k(queries: np.ndarray, documents: np.ndarray, k: int = OVERLAP_K) -> np.ndarray:
    """Row i: the indices of the ``k`` documents most similar to query i (unordered)."""
    scores = queries @ documents.T
    k = min(k, documents.shape[0])
    return np.argpartition(-scores, k - 1, axis=1)[:, :k]


def overlap_at_k(reference: np.ndarray, candidate: np.ndarray) -> np.ndarray:
    """Per query, the share of the reference's neighbours the candidate also found."""
    k = reference.shape[1]
    return np.array([len(set(a.tolist()) & set(b.tolist())) / k
                     for a, b in zip(reference, candidate, strict=True)])


def redial_seeker_turns(data_root: Path, limit: int) -> list[str]:
    """The first ``limit`` ReDial dev seeker turns of three words or more, ``@id`` mentions
    removed (the agent links titles itself; the vector query is the words around them)."""
    from chatrec.catalog.redial_dialogues import MENTION, read_dialogues

    texts: list[str] = []
    for dialogue in read_dialogues(data_root / REDIAL_DEV):
        for message in dialogue.messages:
            if message.role != "seeker":
                continue
            text = " ".join(MENTION.sub(" ", message.text).split())
            if len(re.findall(r"\w+", text)) >= 3:
                texts.append(text)
                if len(texts) == limit:
                    return texts
    return texts


def query_sets(catalog: Any, data_root: Path | None, requests: int, seeker_turns: int,
               make_requests: Callable[[Any, int, random.Random], list[str]], seed: int = 0
               ) -> dict[str, list[str]]:
    """The fixed query sets: generated requests (seeded) and ReDial dev seeker turns (when the
    data is there)."""
    sets = {"requests": make_requests(catalog, requests, random.Random(seed))}
    if data_root is not None and (data_root / REDIAL_DEV).is_file() and seeker_turns:
        sets["redial seeker turns"] = redial_seeker_turns(data_root, seeker_turns)
    return sets


def neighbour_overlap(reference_docs: np.ndarray, candidate_docs: np.ndarray,
                      queries: MiniLMEmbedder, sets: dict[str, list[str]]
                      ) -> dict[str, dict[str, float]]:
    """Overlap@50 per query set between two document matrices (row i ↔ the same item), the
    queries embedded as the product embeds them (``queries``: ONNX float32)."""
    out: dict[str, dict[str, float]] = {}
    for name, texts in sets.items():
        if not texts:
            continue
        vectors = queries.embed(texts)
        overlap = overlap_at_k(top_k(vectors, reference_docs), top_k(vectors, candidate_docs))
        out[name] = {"queries": len(texts), "mean": float(overlap.mean()),
                     "p10": float(np.percentile(overlap, 10)), "min": float(overlap.min())}
    return out
