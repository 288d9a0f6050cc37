"""`chatrec eval …` runs under one hash seed, so a rerun gives the same numbers."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import os, sys
from chatrec import cli
sys.argv = ["chatrec", *sys.argv[1:]]
os.execv = lambda exe, args: print("EXEC", os.environ.get("PYTHONHASHSEED"), " ".join(args[1:]))
cli._pin_hash_seed_for_evaluations()
print("SEED", os.environ.get("PYTHONHASHSEED"))
"""


def _probe(*argv: str, seed: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
    if seed is not None:
        env["PYTHONHASHSEED"] = seed
    return subprocess.run([sys.executable, "-c", PROBE, *argv], env=env, capture_output=True,
                          text=True, check=True, timeout=120).stdout


def test_an_evaluation_is_run_again_under_hash_seed_0():
    out = _probe("eval", "sim", "--users", "3")
    assert "EXEC 0 -m chatrec eval sim --users 3" in out


def test_a_seed_the_user_set_is_kept_and_other_commands_are_left_alone():
    assert "EXEC" not in _probe("eval", "sim", seed="7") and "SEED 7" in _probe("eval", "sim", seed="7")
    assert "EXEC" not in _probe("serve") and "SEED None" in _probe("serve")
