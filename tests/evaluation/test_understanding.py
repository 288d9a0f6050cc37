"""The understanding check compares what the simulated user meant with the agent's act."""

from __future__ import annotations

from chatrec.agent.models import Constraints, DialogueAct
from chatrec.evaluation.understanding import check
from chatrec.evaluation.user import Attribute, Meaning


def _ok(meaning, act):
    return {e["element"]: e["understood"] for e in check(meaning, act)}


def test_each_statement_is_checked():
    meaning = Meaning(
        reveals=[
            Attribute("genre", "comedy"),
            Attribute("decade", "1990"),
            Attribute("keyword", "time travel"),
            Attribute("cast", "Tom Hanks"),
        ],
        excludes_genres=["horror"],
    )
    act = DialogueAct(
        intent="recommend",
        constraints=Constraints(
            genres_all=["comedy"],
            year_min=1990,
            year_max=1999,
            genres_none=["horror"],
            people_any=["Tom Hanks"],
        ),
        liked_attributes=["keyword:time travel"],
    )
    assert _ok(meaning, act) == {
        "genre+": True,
        "decade+": True,
        "keyword+": True,
        "cast+": True,
        "genre-": True,
    }
    assert set(_ok(meaning, DialogueAct()).values()) == {False}
    assert set(_ok(meaning, None).values()) == {False}


def test_relative_time_needs_its_own_evidence():
    meaning = Meaning(reveals=[Attribute("decade", "2000")], newer_than=1995)
    decade_only = DialogueAct(constraints=Constraints(year_min=2000, year_max=2009))
    assert _ok(meaning, decade_only) == {"decade+": True, "newer": False}
    refined = DialogueAct(
        constraints=Constraints(year_min=2000, year_max=2009), refinements=["newer"]
    )
    assert _ok(meaning, refined)["newer"]
    assert _ok(Meaning(newer_than=1995), DialogueAct(constraints=Constraints(year_min=1996)))[
        "newer"
    ]


def test_a_rejection_must_keep_the_recommender_going():
    assert _ok(Meaning(rejects=True), DialogueAct(intent="feedback")) == {"reject": True}
    assert _ok(Meaning(rejects=True), DialogueAct(intent="thanks")) == {"reject": False}
