"""The "Why this?" picture is the recommendation's own evidence, redrawn as KG paths."""

from __future__ import annotations

from kg.paths import explain
from ui.why import WhyPictures, paths_from_evidence


def test_paths_rebuilt_from_evidence_are_kg_paths(ui_agent):
    reply = ui_agent.respond("why-1", "I loved Inception")
    inception = ui_agent.catalog.find_title("Inception")[0].id
    assert reply.recommendations
    linked = 0
    for rec in reply.recommendations:
        paths = paths_from_evidence(rec.item.id, rec.evidence)
        evidence = set(rec.evidence)
        for path in paths:
            assert set(path.facts) <= evidence
            assert path.facts[0].subject == f"item:{rec.item.id}"
            assert all(ui_agent.kg.has_fact(f.subject.split(":", 1)[1], f.relation, f.object) for f in path.facts)
            assert path.liked_item == inception      # the only thing this user liked
            linked += 1
        vias = {p.via for p in explain(ui_agent.kg, rec.item.id, [inception], max_paths=10)}
        assert {p.via for p in paths} <= vias
    assert linked >= len(reply.recommendations)      # every pick connects to Inception


def test_asked_for_attributes_are_drawn_as_you(ui_agent, ui_service):
    reply = ui_agent.respond("why-2", "a 90s comedy")
    rec = reply.recommendations[0]
    paths, caption = ui_service.why("why-2", rec.item.id)
    assert paths and all(p.liked_item is None for p in paths)
    assert {p.via for p in paths} & {"genre:comedy", "decade:1990"}
    assert rec.item.display in caption
    # without knowing what was asked for, a bare attribute is a description, not a link
    assert paths_from_evidence(rec.item.id, rec.evidence) == []


def test_pictures_are_png_and_cached(ui_agent):
    reply = ui_agent.respond("why-3", "something like Toy Story")
    rec = reply.recommendations[0]
    pictures = WhyPictures(ui_agent.kg)
    paths = paths_from_evidence(rec.item.id, rec.evidence)
    first = pictures.png(rec.item.id, paths)
    assert first.startswith(b"\x89PNG") and pictures.png(rec.item.id, paths) is first
    assert pictures.data_uri(rec.item.id, paths).startswith("data:image/png;base64,")
