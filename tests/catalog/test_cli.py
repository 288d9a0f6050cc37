"""`chatrec data` and `chatrec build` end to end (with a small custom catalog for build)."""

from __future__ import annotations

import os
import subprocess
import sys

from typer.testing import CliRunner

from chatrec.cli import app

runner = CliRunner()


def test_data_check_lists_every_file(data_dir):
    result = runner.invoke(app, ["data", "--check"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "movielens/ml-latest-small/ratings.csv" in result.output
    assert "redial/redial_to_movielens.csv" in result.output and "derived" in result.output
    assert result.output.count(" ok ") >= 25


def test_build_custom_catalog_without_index(coffee_jsonl):
    result = runner.invoke(app, ["build", "--catalog", str(coffee_jsonl), "--no-index"],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "coffee: 12 items, 8 ratings from 3 users" in result.output
    # What was built, in words and numbers, never a class name.
    assert "edges" in result.output and "ratings of 3 users" in result.output
    assert "personalized PageRank" in result.output and "Models" not in result.output
    assert "skipped (--no-index)" in result.output and "total" in result.output


def test_missing_data_is_one_line_and_exit_code_3(tmp_path):
    env = dict(os.environ, CHATREC_HOME=str(tmp_path / "home"),
               CHATREC_DATA_DIR=str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    done = subprocess.run([sys.executable, "-m", "chatrec", "build", "--no-index"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 3
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "CHATREC_DATA_DIR" in lines[0], done.stderr
