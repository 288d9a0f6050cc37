"""An index built in the background: the agent answers at once from the knowledge graph and
ratings, the page's line shows progress, and vector retrieval joins when the index is ready."""

from __future__ import annotations

import dataclasses
import threading

import pytest

from chatrec.agent import Agent
from chatrec.index import ItemIndex
from chatrec.index.background import BackgroundIndex, IndexNotReady
from chatrec.testing.small_index import HashEmbedder
from ui.loader import AgentLoader

pytestmark = pytest.mark.usefixtures("data_dir")


def _gated_build(gate: threading.Event, started: threading.Event):
    """ItemIndex.build with a fast hashing embedder, held at the gate after embedding began."""

    def build(catalog, settings, progress=False, on_progress=None):
        def report(stage, done, total):
            on_progress(stage, done, total)
            if stage == "embedding" and done:
                started.set()
                assert gate.wait(60)

        return ItemIndex.build(catalog, settings, embedder=HashEmbedder(), rebuild=True,
                               progress=progress, cache=None, on_progress=report)

    return build


def test_agent_answers_while_the_index_builds_and_vectors_join_when_ready(small_resources, tmp_path):
    settings = small_resources.settings.model_copy(update={"home": tmp_path / "home"})
    gate, started = threading.Event(), threading.Event()
    building = BackgroundIndex(small_resources.catalog, settings,
                               build=_gated_build(gate, started)).start()
    agent = Agent(dataclasses.replace(small_resources, index=building))
    loader = AgentLoader.ready_made(agent)
    try:
        assert started.wait(60)
        assert not building.ready and building.count() == 0
        line = building.status_line()
        assert line and "Building the search index" in line and "%" in line
        status = loader.status()
        assert status.state == "warming" and status.message == line and loader.warming
        with pytest.raises(IndexNotReady):
            building.vectors()

        for session, message in (("s1", "I loved Toy Story, something like it"),
                                 ("s2", "a space adventure with astronauts")):
            reply = agent.respond(session, message)
            assert reply.recommendations, reply.text
            assert all("vector" not in r.sources and "content" not in r.sources
                       for r in reply.recommendations)
    finally:
        gate.set()
    assert building.wait(120) and building.ready and building.error is None
    assert building.status_line() is None and loader.status().state == "ready"
    assert building.count() == len(small_resources.catalog)

    reply = agent.respond("s3", "I loved Toy Story, something like it")
    assert any("content" in r.sources for r in reply.recommendations)
    reply = agent.respond("s4", "a space adventure with astronauts")
    assert any("vector" in r.sources for r in reply.recommendations)
    hits = building.query("toys that come to life", k=5)
    assert len(hits) == 5
    building.close()


def test_a_failed_background_build_is_reported_and_the_agent_goes_on(small_resources, tmp_path):
    def broken(catalog, settings, progress=False, on_progress=None):
        raise OSError("disk full")

    settings = small_resources.settings.model_copy(update={"home": tmp_path / "home"})
    building = BackgroundIndex(small_resources.catalog, settings, build=broken).start()
    assert building.wait(30) and not building.ready
    assert "disk full" in (building.status_line() or "")
    assert building.query("anything") == [] and building.nearest(None, 5) == []  # type: ignore[arg-type]
