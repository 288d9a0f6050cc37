"""Check Chroma's HNSW files before Chroma reads them.

Chroma's native HNSW reader trusts its files: garbage in ``data_level0.bin`` can crash the whole
process with a segmentation fault instead of raising (seen here, about one time in three). A
crash is the worst way to learn that an index is damaged, so ``ItemIndex.open`` checks the files'
structure first, with numpy, in a few milliseconds: the header's numbers agree with each other and
with the file sizes, every neighbour id points inside the graph, and every vector is finite.

File layout (hnswlib as Chroma writes it; header.bin is 100 bytes, little-endian):
version u32, offsetLevel0, max_elements, cur_element_count, size_data_per_element, label_offset,
offsetData (u64 each), maxlevel i32, enterpoint u32, maxM, maxM0, M (u64), mult f64,
ef_construction u64. ``data_level0.bin`` holds per element: a u32 link header (count in the low
16 bits), maxM0 neighbour ids (u32), the vector (dim f32), the label (u64). ``length.bin`` holds
per element the norm of its vector (f32). ``link_lists.bin`` holds per element a u32 byte size
followed by that many bytes of upper-level links, each level a u32 header and maxM ids.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

_HEADER = struct.Struct("<I6QiI3QdQ")


def hnsw_problems(chroma_dir: Path, dim: int) -> list[str]:
    """What is structurally wrong with the HNSW segments under ``chroma_dir`` (empty: nothing
    found). Segments Chroma has not written yet (small collections live in its log) are fine."""
    problems: list[str] = []
    for header in sorted(chroma_dir.glob("*/header.bin")):
        problems.extend(f"{header.parent.name}: {p}" for p in _segment_problems(header.parent, dim))
    return problems


def _segment_problems(folder: Path, dim: int) -> list[str]:
    raw = (folder / "header.bin").read_bytes()
    if len(raw) != _HEADER.size:
        return [f"header.bin has {len(raw)} bytes, expected {_HEADER.size}"]
    (version, offset0, max_elements, count, per_element, label_offset, offset_data, max_level,
     entry, max_m, max_m0, _m, _mult, _ef) = _HEADER.unpack(raw)
    expected_offset = (max_m0 + 1) * 4
    if count == 0:  # an empty graph (Chroma keeps small collections in its log): no links
        return [] if version == 1 and max_elements < 2**40 else ["header.bin is inconsistent"]
    if (version != 1 or offset0 != 0 or count > max_elements or max_m0 > 4096 or max_m > 4096
            or offset_data != expected_offset or label_offset != offset_data + dim * 4
            or per_element != label_offset + 8 or not 0 <= max_level < 64 or entry >= count):
        return ["header.bin is inconsistent"]
    # Files hold the elements written so far (or, fresh from an allocation, room for all).
    level0_size = _size(folder / "data_level0.bin")
    if level0_size not in (count * per_element, max_elements * per_element):
        return [f"data_level0.bin has {level0_size} bytes, expected {count * per_element}"]
    if _size(folder / "length.bin") not in (count * 4, max_elements * 4):
        return ["length.bin does not match the element count"]
    level0 = np.fromfile(folder / "data_level0.bin", dtype=np.uint8,
                         count=count * per_element).reshape(count, per_element)
    problem = _links_problem(level0[:, :offset_data].copy().view(np.uint32), count, "level-0")
    if problem:
        return [problem]
    vectors = level0[:, offset_data:label_offset].copy().view(np.float32)
    if not np.isfinite(vectors).all():
        return ["a stored vector is not finite"]
    if not np.isfinite(np.fromfile(folder / "length.bin", dtype=np.float32, count=count)).all():
        return ["a stored vector norm is not finite"]
    return _upper_level_problems(folder / "link_lists.bin", count, max_m, max_level)


def _upper_level_problems(path: Path, count: int, max_m: int, max_level: int) -> list[str]:
    raw = path.read_bytes()
    per_level = (max_m + 1) * 4
    blocks: list[bytes] = []
    offset = 0
    for _ in range(count):
        if offset + 4 > len(raw):
            return ["link_lists.bin is truncated"]
        (size,) = struct.unpack_from("<I", raw, offset)
        if size % per_level or size // per_level > max_level or offset + 4 + size > len(raw):
            return ["link_lists.bin holds an impossible link list"]
        if size:
            blocks.append(raw[offset + 4:offset + 4 + size])
        offset += 4 + size
    if offset != len(raw):
        return ["link_lists.bin is longer than its link lists"]
    if blocks:
        upper = np.frombuffer(b"".join(blocks), dtype=np.uint32).reshape(-1, max_m + 1)
        problem = _links_problem(upper, count, "upper-level")
        if problem:
            return [problem]
    return []


def _links_problem(links: np.ndarray, count: int, level: str) -> str | None:
    """Rows of a u32 header (neighbour count in the low 16 bits) then neighbour ids."""
    width = links.shape[1] - 1
    degrees = links[:, 0] & 0xFFFF
    if int(degrees.max()) > width:
        return f"a {level} node has more neighbours than allowed"
    used = np.arange(width)[None, :] < degrees[:, None]
    if np.any(links[:, 1:][used] >= count):
        return f"a {level} neighbour id points outside the graph"
    return None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return -1
