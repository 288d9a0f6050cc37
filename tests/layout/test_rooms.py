"""The layout's rules, checked on the source: the product never imports the test stand-ins or
the benchmarks, and evaluation code is not imported by the agent or the surfaces."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PRODUCT = [p for room in ("chatrec", "kg", "ui") for p in (REPO / room).rglob("*.py")
           if not any(part in ("testing", "bench", "evaluation") for part in p.relative_to(REPO).parts)]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_product_modules_are_found():
    assert len(PRODUCT) > 100
    assert REPO / "chatrec" / "agent" / "agent.py" in PRODUCT


def test_product_never_imports_test_stand_ins_or_benchmarks():
    allowed_cli = REPO / "chatrec" / "cli"  # the CLI exposes `chatrec bench` and `chatrec eval`
    offenders = []
    for path in PRODUCT:
        for name in imported_modules(path):
            if name.startswith(("chatrec.testing", "tests")):
                offenders.append(f"{path.relative_to(REPO)} imports {name}")
            if name.startswith(("chatrec.bench", "chatrec.evaluation")) and allowed_cli not in path.parents:
                offenders.append(f"{path.relative_to(REPO)} imports {name}")
    assert offenders == []


ALL_CODE = [p for room in ("chatrec", "kg", "ui") for p in (REPO / room).rglob("*.py")]
MAX_FACADE_LINES = 300


def test_the_agent_facade_stays_small():
    assert len((REPO / "chatrec" / "agent" / "agent.py").read_text(encoding="utf-8").splitlines()) \
        <= MAX_FACADE_LINES


def test_the_llm_room_does_not_import_the_agent():
    offenders = [f"{path.relative_to(REPO)} imports {name}"
                 for path in (REPO / "chatrec" / "llm").rglob("*.py")
                 for name in imported_modules(path) if name.startswith("chatrec.agent")]
    assert offenders == []
