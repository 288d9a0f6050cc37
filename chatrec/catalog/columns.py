"""On-disk column primitives of the columnar catalog: string tables and ragged integer lists,
written once, then memory-mapped read-only by every worker (pages shared through the OS cache,
resident only when read).

A ``StringTable`` is a UTF-8 blob plus an offsets array; a ``Ragged`` column is an ``indptr``
array plus a flat values array (CSR without the matrix). Both are plain ``.npy`` files.
"""

from __future__ import annotations

import os
import shutil
import uuid
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import overload

import numpy as np


def build_aside(folder: Path, write: Callable[[Path], None]) -> Path:
    """Fill ``folder`` through ``write(staging)``: built in a staging folder beside it and renamed
    into place, so a reader never sees half a folder and a failed build leaves nothing."""
    folder = Path(folder)
    staging = folder.parent / f".{folder.name}.build-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    staging.mkdir(parents=True)
    try:
        write(staging)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def save_array(path: Path, values: np.ndarray) -> None:
    """Write ``values`` as ``.npy`` (the folder is a staging folder: no atomic rename needed)."""
    np.save(path, np.ascontiguousarray(values), allow_pickle=False)


def load_array(path: Path) -> np.ndarray:
    """A read-only memory map of a ``.npy`` file (an empty file loads as a plain empty array:
    zero bytes cannot be mapped)."""
    matrix = np.load(path, mmap_mode="r", allow_pickle=False)
    return matrix


class StringTableWriter:
    """Appends strings to ``<name>.bytes.npy`` / ``<name>.offsets.npy`` without holding them."""

    def __init__(self) -> None:
        self._blob = bytearray()
        self._offsets = array("q", [0])

    def append(self, text: str) -> int:
        self._blob += text.encode("utf-8")
        self._offsets.append(len(self._blob))
        return len(self._offsets) - 2

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def save(self, folder: Path, name: str) -> None:
        save_array(folder / f"{name}.bytes.npy", np.frombuffer(bytes(self._blob) or b"\0", dtype=np.uint8))
        save_array(folder / f"{name}.offsets.npy", np.frombuffer(self._offsets, dtype=np.int64))


class StringTable(Sequence[str]):
    """Read-only strings by position, decoded on access from a memory-mapped blob."""

    def __init__(self, folder: Path, name: str):
        self._blob = load_array(folder / f"{name}.bytes.npy")
        self._offsets = load_array(folder / f"{name}.offsets.npy")

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        start, end = int(self._offsets[index]), int(self._offsets[index + 1])
        return self._blob[start:end].tobytes().decode("utf-8")

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))


def write_strings(folder: Path, name: str, strings: Iterable[str]) -> None:
    writer = StringTableWriter()
    for text in strings:
        writer.append(text)
    writer.save(folder, name)


class RaggedWriter:
    """Appends one list of small integers per row."""

    def __init__(self) -> None:
        self.indptr = array("q", [0])
        self.values = array("i")

    def append(self, values: Iterable[int]) -> None:
        self.values.extend(values)
        self.indptr.append(len(self.values))

    def save(self, folder: Path, name: str) -> None:
        save_array(folder / f"{name}.indptr.npy", np.frombuffer(self.indptr, dtype=np.int64))
        save_array(folder / f"{name}.values.npy", np.frombuffer(self.values, dtype=np.int32)
                   if len(self.values) else np.zeros(0, dtype=np.int32))


class Ragged:
    """Read-only lists of integers by row (``row(i)`` is a numpy slice of the mapped file)."""

    def __init__(self, folder: Path, name: str):
        self.indptr = load_array(folder / f"{name}.indptr.npy")
        self.values = load_array(folder / f"{name}.values.npy")

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def row(self, index: int) -> np.ndarray:
        return self.values[int(self.indptr[index]):int(self.indptr[index + 1])]

    def lengths(self) -> np.ndarray:
        return np.diff(self.indptr)


def save_ragged(folder: Path, name: str, indptr: np.ndarray, values: np.ndarray) -> None:
    save_array(folder / f"{name}.indptr.npy", indptr.astype(np.int64))
    save_array(folder / f"{name}.values.npy", values.astype(np.int32))


def invert(rows_of: Ragged | tuple[np.ndarray, np.ndarray], targets: int) -> tuple[np.ndarray, np.ndarray]:
    """The inverted index of a ragged column: for each target code, the rows holding it
    (ascending, each once). ``rows_of`` maps rows to codes in ``[0, targets)``; negative codes
    are skipped."""
    indptr, values = (rows_of.indptr, rows_of.values) if isinstance(rows_of, Ragged) else rows_of
    counts = np.diff(np.asarray(indptr))
    rows = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
    codes = np.asarray(values, dtype=np.int64)
    keep = codes >= 0
    rows, codes = rows[keep], codes[keep]
    pairs = np.unique(codes * (len(counts) + 1) + rows)      # sorted by code, then row; deduped
    codes, rows = pairs // (len(counts) + 1), (pairs % (len(counts) + 1)).astype(np.int32)
    out_indptr = np.zeros(targets + 1, dtype=np.int64)
    np.cumsum(np.bincount(codes, minlength=targets), out=out_indptr[1:])
    return out_indptr, rows
