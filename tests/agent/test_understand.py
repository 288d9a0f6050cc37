"""The rule-based understander on a table of messages: intents, polarity, constraints."""

from __future__ import annotations

import pytest

from chatrec.agent.state import SessionState, ShownItem
from chatrec.agent.understand import RuleUnderstander


@pytest.fixture(scope="module")
def reader(small_resources):
    return RuleUnderstander(small_resources.catalog, small_resources.linker)


def _id(resources, title):
    return resources.catalog.find_title(title)[0].id


CASES = [
    # message, expected intent, expected constraint fields (subset)
    ("a 90s comedy", "recommend", {"year_min": 1990, "year_max": 1999, "genres_all": ["comedy"]}),
    ("something from the eighties", "recommend", {"year_min": 1980, "year_max": 1989}),
    ("anything before 2000?", "recommend", {"year_max": 1999}),
    ("films made after 2010", "recommend", {"year_min": 2011}),
    ("something since 2005", "recommend", {"year_min": 2005}),
    ("movies between 1995 and 2003", "recommend", {"year_min": 1995, "year_max": 2003}),
    ("no horror please", "recommend", {"genres_none": ["horror"]}),
    ("a comedy or a drama", "recommend", {"genres_any": ["comedy", "drama"]}),
    ("an action comedy", "recommend", {"genres_all": ["action", "comedy"]}),
    ("movies with Tom Hanks", "recommend", {"cast_any": ["Tom Hanks"]}),
    ("anything but Adam Sandler", "recommend", {"people_none": ["Adam Sandler"]}),
    ("something scary", "recommend", {"genres_all": ["horror"]}),
    ("a good comedy but not a romance", "recommend", {"genres_all": ["comedy"], "genres_none": ["romance"]}),
    ("sci-fi from the 80s without Arnold Schwarzenegger", "recommend",
     {"genres_all": ["sci-fi"], "year_min": 1980, "year_max": 1989, "people_none": ["Arnold Schwarzenegger"]}),
    ("hi there", "greeting", {}),
    ("hello!", "greeting", {}),
    ("thanks a lot", "thanks", {}),
    ("start over", "reset", {}),
    ("who directed The Matrix?", "ask_about", {}),
    ("what is Inception about", "ask_about", {}),
    ("what would I rate Heat?", "rate", {}),
    ("would I like Jumanji?", "rate", {}),
    ("how are you doing today", "chitchat", {}),
    ("recommend me a movie", "recommend", {}),
]


@pytest.mark.parametrize("message,intent,constraints", CASES, ids=[c[0] for c in CASES])
def test_table(reader, message, intent, constraints):
    act = reader.read(message, SessionState(session_id="t"))
    assert act.intent == intent, act
    for field, value in constraints.items():
        got = getattr(act.constraints, field)
        expected = sorted(value) if isinstance(value, list) else value
        assert (sorted(got) if isinstance(got, list) else got) == expected, (field, act.constraints)


def test_item_polarity(reader, small_resources):
    matrix, titanic, heat = (_id(small_resources, t) for t in ("The Matrix", "Titanic (1997)", "Heat (1995)"))
    act = reader.read("I loved The Matrix but I hated Titanic", SessionState(session_id="t"))
    assert act.liked_items == [matrix] and act.disliked_items == [titanic]
    act = reader.read("I've already seen Heat", SessionState(session_id="t"))
    assert act.seen_items == [heat] and not act.liked_items
    act = reader.read("I haven't seen Heat yet", SessionState(session_id="t"))
    assert not act.seen_items and not act.disliked_items
    act = reader.read("Titanic was boring", SessionState(session_id="t"))
    assert act.disliked_items == [titanic]
    act = reader.read("who directed The Matrix?", SessionState(session_id="t"))
    assert act.target_item == matrix and not act.liked_items


def test_references_to_shown_items(reader, small_resources):
    shown = [_id(small_resources, t) for t in ("The Matrix", "Heat (1995)", "Jumanji")]
    state = SessionState(session_id="t", last_shown=[ShownItem(item_id=i) for i in shown], focus_item=shown[0],
                         request_active=True)
    act = reader.read("more like the second one", state)
    assert shown[1] in act.liked_items
    act = reader.read("not the third one", state)
    assert act.disliked_items == [shown[2]]
    act = reader.read("I've seen it", state)
    assert act.seen_items == [shown[0]]
    act = reader.read("who directed the last one?", state)
    assert act.target_item == shown[2] and act.item_question == "director"


def test_unsupported_constraints_are_flagged(reader):
    act = reader.read("a comedy on Netflix under 90 minutes", SessionState(session_id="t"))
    assert {"runtime", "streaming availability"} <= set(act.constraints.unsupported)


def test_narrative_keeps_its_words(reader):
    act = reader.read("a story about a lonely lighthouse keeper", SessionState(session_id="t"))
    assert act.intent == "recommend"
    assert "lonely" in act.query_text and "lighthouse" in act.query_text
    # the occasion is no need to search titles for ("Last Night" for "tonight")
    assert reader.read("what's a good movie for tonight?", SessionState(session_id="t")).query_text == ""
    kids = reader.read("something for a rainy Sunday afternoon with my kids", SessionState(session_id="t"))
    # films for kids: family films, or animated ones (many are filed under animation only)
    assert kids.constraints.genres_any == ["family", "animation"] and "sunday" not in kids.query_text
