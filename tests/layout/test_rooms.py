"""The layout's rules, checked on the source: the product never imports the test stand-ins or
the benchmarks, and evaluation code is not imported by the agent or the surfaces."""

from __future__ import annotations

import ast
import subprocess
import sys
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
#: A class longer than this holds more than one job: split it along its responsibilities.
MAX_CLASS_LINES = 350


def class_lengths(path: Path) -> dict[str, int]:
    """Lines of each class in ``path`` (nested ones as ``Outer.Inner``), from its ``class`` line
    (decorators excluded) to its last line."""
    lengths: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                name = prefix + child.name
                lengths[name] = (child.end_lineno or child.lineno) - child.lineno + 1
                visit(child, name + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(path.read_text(encoding="utf-8")), "")
    return lengths


def test_class_lengths_are_measured(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("class A:\n    x = 1\n\n    class B:\n        y = 2\n\n\ndef f():\n"
                      "    class C:\n        pass\n", encoding="utf-8")
    assert class_lengths(sample) == {"A": 5, "A.B": 2, "C": 2}


def test_no_class_is_longer_than_the_limit():
    too_long = [f"{path.relative_to(REPO)}: {name} has {lines} lines"
                for path in ALL_CODE for name, lines in class_lengths(path).items()
                if lines > MAX_CLASS_LINES]
    assert too_long == [], f"classes over {MAX_CLASS_LINES} lines: split them by responsibility"


def test_the_agent_facade_stays_small():
    assert len((REPO / "chatrec" / "agent" / "agent.py").read_text(encoding="utf-8").splitlines()) \
        <= MAX_FACADE_LINES


def test_the_llm_room_does_not_import_the_agent():
    offenders = [f"{path.relative_to(REPO)} imports {name}"
                 for path in (REPO / "chatrec" / "llm").rglob("*.py")
                 for name in imported_modules(path) if name.startswith("chatrec.agent")]
    assert offenders == []


def test_importing_the_llm_room_loads_no_agent_module():
    """Transitively too: every module of chatrec.llm imported in a fresh interpreter, and no
    chatrec.agent module comes with it."""
    script = ("import importlib, pkgutil, sys\n"
              "import chatrec.llm\n"
              "for m in pkgutil.walk_packages(chatrec.llm.__path__, 'chatrec.llm.'):\n"
              "    importlib.import_module(m.name)\n"
              "print(len([m for m in sys.modules if m.startswith('chatrec.llm.')]))\n"
              "print(' '.join(sorted(m for m in sys.modules if m.startswith('chatrec.agent'))))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    loaded, agent_modules = (done.stdout.splitlines() + ["", ""])[:2]
    assert int(loaded) >= 10
    assert agent_modules == ""
