"""Two real processes serving one user in one conversation over one store (the same SQLite file
under CHATREC_HOME, or one PostgreSQL database) lose nothing: each says 10 things and likes 10
films, and all 20 turns and all 20 likes are kept. Before versioned writes, each process cached
and wrote back whole documents and the last writer won (10 of 20 kept)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from chatrec.store import Store
from tests.conftest import FILMS

WORKER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from chatrec.agent import Agent
    from chatrec.catalog import load_catalog
    from chatrec.collab import load_or_fit
    from chatrec.config import Settings
    from chatrec.index import ItemIndex
    from chatrec.resources import Resources
    from chatrec.store import Store
    from chatrec.testing.small_index import HashEmbedder
    from kg.graph import KnowledgeGraph
    from kg.linker import EntityLinker

    home, films, location, who, items = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5])
    settings = Settings(home=Path(home))
    catalog = load_catalog(films, settings)
    kg = KnowledgeGraph.load_or_build(catalog, settings)
    index = ItemIndex.open(catalog, settings, embedder=HashEmbedder())
    linker = EntityLinker(kg, catalog, settings=settings)
    resources = Resources(settings=settings, catalog=catalog, kg=kg, linker=linker, index=index,
                          collab=load_or_fit(catalog, settings))
    store = Store(location)
    agent = Agent(resources, store=store)
    agent.respond("warm-up-" + who, "a comedy please")
    print("ready", flush=True)
    sys.stdin.readline()
    notes = 0
    for i, item in enumerate(items):
        reply = agent.respond("shared", f"{who} says {i}: something from the 90s", user_id="web:alice")
        notes += sum("another worker" in note for note in reply.trace.notes)
        agent.feedback("shared", item, "liked", user_id="web:alice")
    print(json.dumps({"redone": notes}), flush=True)
""")


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_location(request, films_settings):
    if request.param == "sqlite":
        return films_settings.home / "two-workers.sqlite3"
    return request.getfixturevalue("postgres_url")


def test_two_processes_on_one_store_keep_all_turns_and_likes(films_resources, films_settings, shared_location):
    catalog = films_resources.catalog
    liked = [item.id for item in catalog][:20]
    Store(shared_location).close()        # schema first, then the race
    children = []
    for who, items in (("a", liked[:10]), ("b", liked[10:])):
        children.append(subprocess.Popen(
            [sys.executable, "-c", WORKER, str(films_settings.home), str(FILMS), str(shared_location), who,
             json.dumps(items)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for child in children:
        line = child.stdout.readline().strip()
        assert line == "ready", child.stderr.read()
    for child in children:           # both start at once
        child.stdin.write("go\n")
        child.stdin.flush()
    redone = 0
    for child in children:
        out, err = child.communicate(timeout=600)
        assert child.returncode == 0, err
        redone += json.loads(out.strip().splitlines()[-1])["redone"]
    with Store(shared_location) as store:
        state = store.load_session("shared")
        profile = store.load_profile("web:alice")
        log = store.feedback_log("web:alice")
    said = [t["text"] for t in state["turns"] if t["role"] == "user" and " says " in t["text"]]
    assert sorted(said) == sorted(f"{who} says {i}: something from the 90s" for who in "ab" for i in range(10))
    assert len([t for t in state["turns"] if t["text"].startswith("[feedback] liked")]) == 20
    assert set(profile["liked_items"]) >= set(liked) and set(state["liked_items"]) >= set(liked)
    assert sorted(e["item_id"] for e in log) == sorted(liked)
    print(f"turns redone after another worker's write: {redone}")
