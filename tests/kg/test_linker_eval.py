"""The linker evaluation on real ReDial dialogues: a regression guard on its numbers (the full
run is ``chatrec eval linker``)."""

from __future__ import annotations

import random

from chatrec.evaluation.linker import _substitute, evaluate_linker, typed_title


def test_substitution_keeps_spans_and_is_seeded():
    names = {"111": "The Shining  (1980)", "222": "It Follows (2014)"}
    text = "I loved @111 and @222 ! And @999"
    first = _substitute(text, names, random.Random("x"))
    assert first == _substitute(text, names, random.Random("x"))
    out, spans = first
    assert len(spans) == 2 and out.endswith("@999")
    assert [redial_id for _, _, redial_id, _ in spans] == ["111", "222"]
    for start, end, _, variant in spans:
        assert variant in {"plain", "lower", "year", "no_article", "typo"}
        assert out[start:end] and "@" not in out[start:end]
    variants = {typed_title("The Shining  (1980)", random.Random(k))[0] for k in range(200)}
    assert variants == {"plain", "lower", "year", "no_article", "typo"}


def test_linker_numbers_on_100_dialogues(ml, ml_kg, ml_linker, data_dir):
    report = evaluate_linker(ml, ml_kg, data_dir / "redial" / "dev" / "dialogues.jsonl",
                             limit=100, linker=ml_linker, data_dir=data_dir)
    assert report.dialogues == 100 and report.messages > 1000
    assert report.movies.tp > 400
    assert report.movies.precision > 0.9 and report.movies.recall > 0.85
    assert report.movies_by_variant["year"].recall > 0.95
    assert report.people.recall > 0.85
    assert report.latency_ms["p50"] < 5
    assert "movies (substituted @ids)" in report.summary()
