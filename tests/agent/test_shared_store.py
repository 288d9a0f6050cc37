"""Stateless workers over PostgreSQL (``CHATREC_STORE_URL``): process A answers the first message
of a session, a separate process B the next one, and B's answer honours everything A recorded;
``chatrec forget`` then leaves no row that mentions the user."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from tests.conftest import FILMS

TURN = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from chatrec.agent import Agent
    from chatrec.catalog import load_catalog
    from chatrec.collab import load_or_fit
    from chatrec.config import get_settings
    from chatrec.index import ItemIndex
    from chatrec.resources import Resources
    from chatrec.store import open_store
    from chatrec.testing.small_index import HashEmbedder
    from kg.graph import KnowledgeGraph
    from kg.linker import EntityLinker

    films, session, user, message = sys.argv[1:5]
    settings = get_settings()                       # CHATREC_HOME and CHATREC_STORE_URL from the environment
    catalog = load_catalog(films, settings)
    kg = KnowledgeGraph.load_or_build(catalog, settings)
    index = ItemIndex.open(catalog, settings, embedder=HashEmbedder())
    linker = EntityLinker(kg, catalog, settings=settings)
    resources = Resources(settings=settings, catalog=catalog, kg=kg, linker=linker, index=index,
                          collab=load_or_fit(catalog, settings))
    with open_store(settings) as store:
        reply = Agent(resources, store=store).respond(session, message, user_id=user)
        print(json.dumps({"backend": store.dialect, "text": reply.text, "shown": [
            {"id": r.item.id, "year": r.item.year, "genres": r.item.genres} for r in reply.recommendations]}))
""")


def _run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_worker_b_continues_what_worker_a_recorded_and_forget_leaves_no_row(
        films_resources, films_settings, postgres_server, postgres_url):
    env = {**os.environ, "CHATREC_HOME": str(films_settings.home), "CHATREC_STORE_URL": postgres_url}
    first = json.loads(_run([sys.executable, "-c", TURN, str(FILMS), "s", "web:alice", "a 90s comedy, no horror"],
                            env).strip().splitlines()[-1])
    assert first["backend"] == "postgresql" and first["shown"]
    second = json.loads(_run([sys.executable, "-c", TURN, str(FILMS), "s", "web:alice", "something else"],
                             env).strip().splitlines()[-1])
    assert second["shown"], second["text"]
    # the 48-film catalog runs out of 90s comedies: those left come first, then films that leave
    # one constraint out, as the reply says
    fits = [1990 <= f["year"] <= 1999 and "comedy" in f["genres"] and "horror" not in f["genres"]
            for f in second["shown"]]
    assert fits[0] and fits == sorted(fits, reverse=True), second["shown"]
    assert all(fits) or "leave out" in second["text"], second["text"]
    assert not {f["id"] for f in second["shown"]} & {f["id"] for f in first["shown"]}, "B repeated A's films"

    database = postgres_url.rsplit("/", 1)[1]
    assert "web:alice" in postgres_server.dump(database)
    out = _run([sys.executable, "-m", "chatrec", "forget", "web:alice", "--yes"], env)
    assert "1 sessions" in out
    dump = postgres_server.dump(database)
    assert "web:alice" not in dump and "90s comedy" not in dump and "something else" not in dump
