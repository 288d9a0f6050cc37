"""``chatrec augment`` (KAR / LLM-Rec) against a real OpenAI-compatible server on loopback.

What must hold: summaries are cached as they arrive and a rerun makes no calls; a server that
dies or a Ctrl-C keeps what was done and the next run completes; summaries become part of the
embedded documents (and stay so through open, sync and rebuild); a distinctive summary changes
what a query retrieves; answers naming another title or saying nothing are rejected; without
an LLM the command says how to configure one.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from chatrec.config import Settings, get_settings
from chatrec.index import ItemIndex
from chatrec.index.augmentations import Augmentations, user_summary
from chatrec.index.documents import document_text
from chatrec.llm.augment import SummaryCheck, augment, user_histories
from chatrec.llm.client import LLM
from chatrec.llm.summarize import Summarizer
from chatrec.prompts.summarize import item_summary_prompt, user_summary_prompt
from chatrec.testing.llm_servers import Hangup, Respond, ScriptedLLMServer, Seen, Stall
from chatrec.testing.small_index import embedding_cache, shared_embedder

TINY = 30
PHRASE = "A lighthouse keeper befriends a glowing octopus beneath the frozen harbour ice."
USER_TEXT = "Likes tense crime dramas and slow character studies; avoids broad comedies."


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def cache_root(request, tmp_path_factory) -> Path:
    """The index room's persistent folder (ONNX model file, document embeddings)."""
    cache = getattr(request.config, "cache", None)
    return Path(cache.mkdir("chatrec-index")) if cache else tmp_path_factory.mktemp("idx")


@pytest.fixture(scope="session")
def embedder(test_settings, cache_root):
    return shared_embedder(test_settings, cache_root).load()


@pytest.fixture
def home(tmp_path, monkeypatch, data_dir) -> Settings:
    """A CHATREC_HOME of this test's own: augmentations must not leak into other tests."""
    monkeypatch.setenv("CHATREC_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture(scope="session")
def tiny(ml_catalog):
    """The 30 most-rated MovieLens films, with their ratings (users have histories)."""
    return ml_catalog.subset([item.id for item in ml_catalog.popular(TINY)], name="augment-tiny")


@pytest.fixture
def index_of(home, embedder, cache_root):
    """Build (or sync) the index of a catalog in the test's home, through the shared cache."""

    def build(catalog, rebuild: bool = False) -> ItemIndex:
        return ItemIndex.build(catalog, home, embedder=embedder, rebuild=rebuild, progress=False,
                               cache=embedding_cache(home, embedder, cache_root))

    return build


def _title(seen: Seen) -> str:
    match = re.search(r"^Title: (.+)$", seen.prompt_text, re.M)
    return match.group(1) if match else ""


def scripted_summaries(special: dict[str, str] | None = None):
    """A server script: a distinct, plausible summary per item (``special`` overrides by
    title line, e.g. "Heat (1995)"), one taste summary per user."""
    special = special or {}

    def decide(seen: Seen):
        if "Liked:" in seen.prompt_text:
            return Respond(USER_TEXT)
        title = _title(seen)
        if title in special:
            return Respond(special[title])
        return Respond(f"A well-loved film with memorable scenes, number {len(title)} in mood. "
                       "Viewers who enjoy rewatching favourites will like it.")

    return decide


def _run(catalog, server, settings, embedder, cache_root, **options):
    llm = LLM(server.chat_model(), max_retries=0)
    options.setdefault("users", 3)
    return augment(catalog, llm, settings, progress=False, embedder=embedder,
                   cache=embedding_cache(settings, embedder, cache_root), **options)


def _vector(index: ItemIndex, item_id: str) -> np.ndarray:
    ids, matrix = index.vectors()
    return matrix[list(ids).index(item_id)]


# ---------------------------------------------------------------- caching, re-indexing
def test_augment_caches_reindexes_and_a_rerun_makes_no_calls(scripted, home, tiny, index_of,
                                                             embedder, cache_root):
    index_of(tiny).close()
    server = scripted(scripted_summaries())
    report = _run(tiny, server, home, embedder, cache_root)

    assert report.items.counts["made"] == TINY and report.users.counts["made"] == 3
    assert len(server.seen) == TINY + 3
    assert report.prompt_tokens > 0 and report.completion_tokens > 0   # the server's usage
    assert report.index == f"{TINY} re-embedded, 0 unchanged" and report.stopped is None
    cache_file = home.llm_cache_dir / "summaries-scripted-model.jsonl"
    assert len(cache_file.read_text().splitlines()) == TINY + 3
    stored = Augmentations.load(home, tiny.name)
    assert stored.model == "scripted-model" and len(stored.items) == TINY
    users = [h.user_id for h in user_histories(tiny, 3)]
    assert users == ["1", "4", "5"]                      # by id, with 3+ liked films here
    assert set(stored.users) == set(users)
    assert user_summary(home, tiny.name, "ml:4") == USER_TEXT

    index = ItemIndex.open(tiny, home, embedder)
    item = tiny.popular(1)[0]
    augmented = document_text(item, stored.items[item.id])
    assert "Summary: A well-loved film" in augmented
    assert np.allclose(_vector(index, item.id), embedder.embed([augmented])[0], atol=1e-5)
    assert index.manifest["augmentation"] == stored.digest()
    index.close()

    again = _run(tiny, server, home, embedder, cache_root)
    assert len(server.seen) == TINY + 3                  # zero new requests
    assert again.items.counts["cached"] == TINY and again.users.counts["cached"] == 3
    assert again.index == f"0 re-embedded, {TINY} unchanged"
    assert again.prompt_tokens == 0


def test_augmented_documents_survive_open_sync_and_rebuild(scripted, home, tiny, index_of,
                                                           embedder, cache_root):
    index_of(tiny).close()
    _run(tiny, scripted(scripted_summaries()), home, embedder, cache_root, users=0)
    stored = Augmentations.load(home, tiny.name)
    item = tiny.popular(1)[0]
    expected = embedder.embed([document_text(item, stored.items[item.id])])[0]
    plain = embedder.embed([document_text(item)])[0]

    index = ItemIndex.open(tiny, home, embedder)
    assert index.sync(tiny).unchanged == TINY           # nothing reverted to plain text
    assert np.allclose(_vector(index, item.id), expected, atol=1e-5)
    index.upsert([item])                                  # an upsert embeds the augmented text
    assert np.allclose(_vector(index, item.id), expected, atol=1e-5)
    index.close()

    rebuilt = index_of(tiny, rebuild=True)               # a plain rebuild includes them
    assert np.allclose(_vector(rebuilt, item.id), expected, atol=1e-5)
    assert not np.allclose(_vector(rebuilt, item.id), plain, atol=1e-3)
    rebuilt.close()


def test_augment_without_reindex_is_picked_up_by_the_next_build(scripted, home, tiny, index_of,
                                                                embedder, cache_root):
    index_of(tiny).close()
    report = _run(tiny, scripted(scripted_summaries()), home, embedder, cache_root,
                  users=0, reindex=False, limit=5)
    assert report.index.startswith("skipped") and report.stored_items == 5
    index = index_of(tiny)                                # `chatrec build`: open + sync
    assert index.manifest["augmentation"] == Augmentations.load(home, tiny.name).digest()
    item = tiny.popular(1)[0]
    summary = Augmentations.load(home, tiny.name).items[item.id]
    assert np.allclose(_vector(index, item.id),
                       embedder.embed([document_text(item, summary)])[0], atol=1e-5)
    index.close()


def test_a_distinctive_summary_makes_its_item_the_top_hit(scripted, home, tiny, index_of,
                                                          embedder, cache_root):
    target = tiny.popular(TINY)[-1]                       # the least popular of the thirty
    index = index_of(tiny)
    query = "lighthouse keeper and a glowing octopus under frozen harbour ice"
    before = [item_id for item_id, _ in index.query(query, k=3)]
    index.close()
    assert before[0] != target.id

    _run(tiny, scripted(scripted_summaries({target.display: PHRASE})), home, embedder,
         cache_root, users=0)
    index = ItemIndex.open(tiny, home, embedder)
    hits = index.query(query, k=3)
    assert hits[0][0] == target.id, hits
    index.close()


# ---------------------------------------------------------------- failures
def test_a_server_dying_midway_keeps_what_was_done_and_the_next_run_completes(
        home, tiny, index_of, embedder, cache_root):
    index_of(tiny).close()
    answered = 10
    summaries = scripted_summaries()

    def dying(seen: Seen):
        if len(server.seen) <= answered:
            return summaries(seen)
        threading.Thread(target=server.stop, daemon=True).start()   # the process goes away
        return Hangup()

    server = ScriptedLLMServer(dying).start()
    try:
        first = _run(tiny, server, home, embedder, cache_root)
    finally:
        server.stop()
    assert first.items.counts["made"] == answered
    assert "failures in a row" in (first.stopped or "") and first.users is None
    assert first.stored_items == answered
    assert first.index == f"{answered} re-embedded, {TINY - answered} unchanged"

    with ScriptedLLMServer(scripted_summaries()) as revived:   # same model, new process
        second = _run(tiny, revived, home, embedder, cache_root)
        assert len(revived.seen) == TINY - answered + 3         # only what was missing
    assert second.items.counts["cached"] == answered and second.stopped is None
    assert second.stored_items == TINY and second.stored_users == 3


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(),
                    reason="SIGINT reaches the main thread only")
def test_ctrl_c_keeps_what_was_done(home, tiny, index_of, embedder, cache_root):
    index_of(tiny).close()
    summaries = scripted_summaries()

    def interrupt(seen: Seen):
        if len(server.seen) <= 6:
            return summaries(seen)
        os.kill(os.getpid(), signal.SIGINT)               # Ctrl-C while waiting for an answer
        return Stall(10)

    with ScriptedLLMServer(interrupt) as server:
        report = _run(tiny, server, home, embedder, cache_root)
    assert report.stopped == "interrupted" and report.items.counts["made"] == 6
    assert report.stored_items == 6 and report.index.startswith("skipped (interrupted")
    index = ItemIndex.open(tiny, home, embedder)
    assert index.manifest.get("augmentation", "") == ""   # not re-indexed ...
    index.close()
    assert index_of(tiny).manifest["augmentation"] != ""  # ... until the next build


# ---------------------------------------------------------------- what is rejected
def test_summaries_naming_another_title_or_saying_nothing_are_rejected(scripted, home, tiny,
                                                                        embedder, cache_root):
    naming, empty, own = (tiny.popular(TINY)[i] for i in (0, 1, 2))
    other = tiny.popular(TINY)[5]
    special = {naming.display: f"A sweeping story. Fans of {other.title} will love it.",
               empty.display: "Okay.",
               own.display: f"A fun film, much like {own.title}. Families will enjoy it."}
    server = scripted(scripted_summaries(special))
    report = _run(tiny, server, home, embedder, cache_root, users=0, reindex=False)
    assert report.items.counts["rejected"] == 2 and report.items.counts["made"] == TINY - 2
    stored = Augmentations.load(home, tiny.name).items
    assert naming.id not in stored and empty.id not in stored
    assert own.id in stored                                # its own title is fine
    records = [json.loads(line) for line in
               (home.llm_cache_dir / "summaries-scripted-model.jsonl").read_text().splitlines()]
    reasons = {r["subject"]: r["rejected"] for r in records if r["rejected"]}
    assert reasons[f"item:{naming.id}"].startswith("names another title")
    assert reasons[f"item:{empty.id}"] == "too short"
    again = _run(tiny, server, home, embedder, cache_root, users=0, reindex=False)
    assert len(server.seen) == TINY                        # rejections are not asked again
    assert again.items.counts["rejected"] == 2


def test_title_check_cases(ml_catalog):
    heat = ml_catalog.find_title("Heat (1995)")[0]
    check = SummaryCheck(ml_catalog).for_item(heat)
    rejected = ["A heist saga. Fans of The Godfather will love it.",
                "Like Ronin, it is a tense heist thriller.",
                'Similar to "Collateral" in mood and pace.',
                "A crime epic in the vein of The Departed (2006).",
                "The Dark Knight meets crime drama in a tense heist story.",
                "A heist film. The Matrix fans may like it.",
                "A crime story, a remake of Invented Title (1989).",
                "Heat (2003) is a tense crime thriller about a heist crew.",    # wrong year
                "This 2015 film follows a heist crew and the detective on their trail."]
    accepted = ["Heat is a tense crime thriller. Viewers who enjoy long shootouts will like it.",
                "A slow-burning Los Angeles crime saga with Al Pacino; for patient viewers.",
                "A crime drama for adults who like character studies. It feels like a novel.",
                "Heat (1995) is a tense crime thriller; a 1995 film for patient viewers."]
    assert [check(text) is not None for text in rejected] == [True] * len(rejected)
    assert [check(text) for text in accepted] == [None] * len(accepted)


def test_answers_copying_the_prompt_listing_or_looping_are_rejected(ml_catalog):
    heat = ml_catalog.find_title("Heat (1995)")[0]
    prompt = item_summary_prompt(heat)
    copied = ("Heat (1995) is a heist film. Genres: crime, thriller. Directed by Michael Mann. "
              "Description: A group of robbers.")
    loop = "A heist film. " + "The crew robs a bank and the crew robs a bank again. " * 3
    assert Summarizer.accept(copied, prompt) == (None, "copies the prompt's data listing")
    assert Summarizer.accept(loop, prompt) == (None, "repetitive")
    assert Summarizer.accept("I'm sorry, I cannot summarize this movie.", prompt)[1] \
        == "a refusal"
    user_prompt = user_summary_prompt(["Heat (1995) | crime, thriller", "Alien (1979) | horror"])
    assert Summarizer.accept("Liked: Heat (1995) and Alien (1979), both tense.", user_prompt) \
        == (None, "copies the prompt's data listing")
    assert Summarizer.accept("Heat (1995) | crime Alien (1979) | horror Big (1988) | comedy",
                             user_prompt) == (None, "copies the prompt's data listing")
    assert Summarizer.accept("Summary: A tense heist thriller for patient viewers.\n\nThe "
                             "summary:", prompt) == ("A tense heist thriller for patient "
                                                     "viewers.", "")


# ---------------------------------------------------------------- the command
def _main(monkeypatch, *args: str) -> int:
    from chatrec.cli import main

    monkeypatch.setattr(sys, "argv", ["chatrec", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    return int(exited.value.code or 0)


def test_without_an_llm_the_command_says_how_to_configure_one(monkeypatch, home, capsys):
    assert _main(monkeypatch, "augment", "--catalog", "movielens") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "CHATREC_LLM" in err and "CHATREC_LLM_BASE_URL" in err


def test_the_command_end_to_end(monkeypatch, home, tmp_path, embedder, capsys):
    from chatrec.catalog.loader import load_catalog
    from chatrec.index import embedder as embedder_module

    path = tmp_path / "coffee.jsonl"
    rows = [{"id": f"c{i}", "title": f"Brewer {name}", "categories": ["coffee maker"],
             "features": [feature], "popularity": 100 - i}
            for i, (name, feature) in enumerate([("Aero", "portable"), ("Vee", "pour-over"),
                                                 ("Moka", "stovetop"), ("Chemex", "glass"),
                                                 ("Siphon", "vacuum")])]
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    catalog = load_catalog(str(path), home)
    # The command's embedder is the shared MiniLM one of these settings: hand it ours (its
    # ONNX file is already exported), then build the index the command will re-index.
    key = (str(home.cache_dir), home.embed_threads, home.embed_batch_size)
    monkeypatch.setitem(embedder_module._shared, key, embedder)
    ItemIndex.build(catalog, home, embedder=embedder, progress=False).close()

    with ScriptedLLMServer(default=Respond("A sturdy brewer for careful mornings. Good for "
                                           "people who like a clean cup.")) as server:
        monkeypatch.setenv("CHATREC_LLM", server.model)
        monkeypatch.setenv("CHATREC_LLM_BASE_URL", server.url)
        get_settings.cache_clear()
        assert _main(monkeypatch, "augment", "--catalog", str(path), "--limit", "4",
                     "--price-per-1k", "0.5") == 0
        out = capsys.readouterr().out
        assert "items: 4 new, 0 cached, 0 rejected, 0 failed" in out
        assert "cost ≈" in out and "index: 4 re-embedded, 1 unchanged" in out
        assert _main(monkeypatch, "augment", "--catalog", str(path)) == 0
        out = capsys.readouterr().out
        assert "items: 1 new, 4 cached" in out and len(server.seen) == 5
    assert len(Augmentations.load(home, catalog.name).items) == 5


# ---------------------------------------------------------------- the tiny real model
@pytest.mark.llm_server
@pytest.mark.slow
def test_augment_with_the_tiny_llama_model(llama_server, home, tiny, index_of, embedder,
                                           cache_root):
    # BaseChatOpenAI sends ``max_tokens``; ChatOpenAI renames it ``max_completion_tokens``,
    # which llama-cpp-python's server ignores (it then writes until the context is full).
    from langchain_openai.chat_models.base import BaseChatOpenAI

    index_of(tiny).close()
    model = BaseChatOpenAI(model="smollm2", base_url=llama_server.url, api_key="dummy",
                           max_retries=0, timeout=90)
    llm = LLM(model, timeout=90, max_retries=0)
    report = augment(tiny, llm, home, limit=5, users=1, progress=False, embedder=embedder,
                     cache=embedding_cache(home, embedder, cache_root))
    counts = report.items.counts
    assert counts["made"] + counts["rejected"] + counts["failed"] == 5
    assert report.prompt_tokens > 0 and report.stopped is None
    assert report.completion_tokens <= 6 * 120            # max_tokens reached the server
    assert Augmentations.load(home, tiny.name).items.keys() <= set(tiny.ids)
    print(f"\ntiny model: {report.line()}")
