"""The request suite: groups of phrasings expanded into cases (``suites/requests.yaml``).

A case is one request or a short script of messages, with the checks each message's reply must
pass (``request_checks``). Cases are split by phrasing, 70% "tune" and 30% "validation", by a hash
of the phrasing: a validation phrasing is never seen while the rules are worked on.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field

SUITE = Path(__file__).parent / "suites" / "requests.yaml"
VALIDATION_SHARE = 0.3
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
FILM_SLOTS = ("film", "other", "third")

Split = Literal["tune", "validation"]
ITEMS = {1: "negation", 2: "comparatives and references", 3: "roles", 4: "certainty and life span",
         5: "one film, one item", 6: "stated ratings", 7: "open requests"}


class Case(BaseModel):
    """One scripted request.

    Attributes:
        id: "<group>:<phrasing index>:<value index>".
        group, item: the suite group and the issue item (1–7) it exercises.
        phrasing: the phrasing before values were filled in (the split key).
        turns: the messages, in order.
        expect: turn index → checks for that turn's reply.
        named: the film titles the script names (its film slots), never to be recommended back.
        split: "tune" or "validation".
    """

    id: str
    group: str
    item: int
    phrasing: str
    turns: list[str]
    expect: dict[int, dict[str, Any]] = Field(default_factory=dict)
    named: list[str] = Field(default_factory=list)
    split: Split = "tune"


def split_of(phrasing: str) -> Split:
    digest = int(hashlib.sha256(phrasing.encode()).hexdigest()[:8], 16)
    return "validation" if digest % 1000 < VALIDATION_SHARE * 1000 else "tune"


def _fill(value: Any, slots: dict[str, str]) -> Any:
    """``value`` with every {slot} replaced (strings inside lists and dicts too)."""
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: slots.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [_fill(v, slots) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, slots) for k, v in value.items()}
    return value


def _phrasing_key(phrasing: str | list[str]) -> str:
    return phrasing if isinstance(phrasing, str) else " / ".join(phrasing)


def expand(group: dict) -> list[Case]:
    """The cases of one suite group."""
    values: dict[str, list[str]] = group.get("values") or {"none": ["x"]}
    n_values = max(len(v) for v in values.values())
    per = int(group.get("per_phrasing", 1))
    cases = []
    for p, phrasing in enumerate(group["phrasings"]):
        key = _phrasing_key(phrasing)
        expect = (group.get("expect_by_phrasing") or {}).get(key, group.get("expect", {}))
        turns_raw = [phrasing] if isinstance(phrasing, str) else list(phrasing)
        used: set[int] = set()
        for j in range(min(per, n_values)):
            v = (p * per + j) % n_values
            if v in used:
                continue
            used.add(v)
            slots = {name: options[v % len(options)] for name, options in values.items()}
            turns = [_fill(t, slots) for t in turns_raw]
            by_turn = {len(turns) - 1: _fill(expect, slots)}
            for index, checks in (group.get("expect_turns") or {}).items():
                by_turn[int(index)] = _fill(checks, slots)
            named = [slots[name] for name in FILM_SLOTS if name in slots]
            cases.append(Case(id=f"{group['name']}:{p}:{v}", group=group["name"], item=int(group["item"]),
                              phrasing=key, turns=turns, expect=by_turn, named=named, split=split_of(key)))
    return cases


def load_suite(path: Path = SUITE) -> list[Case]:
    """Every case of the suite file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases: list[Case] = []
    for group in data["groups"]:
        cases.extend(expand(group))
    ids = [c.id for c in cases]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{path}: duplicate case ids")
    return cases
