"""The scripted simulated user on the real MovieLens catalog: truthful, never names the target,
one new attribute per turn, one person per dialogue, seeded."""

from __future__ import annotations

import random
import re

import pytest

from chatrec.evaluation import phrases as P
from chatrec.evaluation.consistency import ConsistencyCounter
from chatrec.evaluation.user import Attribute, Meaning, SimulatedUser, SystemTurn, consistent

pytestmark = pytest.mark.usefixtures("data_dir")


def _targets(movielens, n=40):
    rng = random.Random(5)
    pool = sorted(i.id for i in movielens if i.year and i.genres and i.popularity >= 5)
    return [movielens[i] for i in rng.sample(pool, n)]


def _popular_answers(movielens, k=5):
    ranked = [it.id for it in movielens.popular(200)]
    return [ranked[i * k : (i + 1) * k] for i in range(40)]


def _dialogue(user, answers, turns=5):
    said = [user.opening()]
    for t in range(turns - 1):
        said.append(user.reply(SystemTurn(items=answers[t])))
    return said


def test_truthful_and_never_names_the_target(movielens, movielens_kg):
    answers = _popular_answers(movielens)
    counter = ConsistencyCounter(movielens, movielens_kg)
    for target in _targets(movielens):
        user = SimulatedUser(target, movielens, movielens_kg, seed=f"t:{target.id}")
        shown = [i for a in answers[:4] for i in a]
        for utterance in _dialogue(user, answers):
            assert target.display.lower() not in utterance.text.lower()
            if len(target.title.split()) >= 2 and target.id not in shown:
                assert not re.search(
                    rf"\b{re.escape(target.title.lower())}\b", utterance.text.lower()
                )
            # everything said so far is true of the target, and the target is among the consistent
            assert consistent(target, movielens_kg, user.told)
            assert counter.mask(user.told)[counter.pos[target.id]]


def test_one_new_attribute_per_turn_and_one_person(movielens, movielens_kg):
    answers = _popular_answers(movielens)
    for target in _targets(movielens):
        user = SimulatedUser(target, movielens, movielens_kg, seed=f"n:{target.id}")
        said = _dialogue(user, answers)
        assert 1 <= len(said[0].meaning.reveals) <= 2
        assert all(a.kind in ("genre", "decade", "keyword") for a in said[0].meaning.reveals)
        for utterance in said[1:]:
            assert len(utterance.meaning.reveals) <= 1
        people = [a for u in said for a in u.meaning.reveals if a.is_person]
        assert len(people) <= 1
        reveals = [a for u in said for a in u.meaning.reveals]
        assert len(reveals) == len(set(reveals))


def test_accepts_when_shown(movielens, movielens_kg):
    target = movielens.find_title("Heat (1995)")[0]
    user = SimulatedUser(target, movielens, movielens_kg, seed="a")
    user.opening()
    answer = user.reply(SystemTurn(items=["1", target.id]))
    assert answer.meaning.accepted and target.title in answer.text


def test_rejection_reasons_come_from_differing_attributes(movielens, movielens_kg):
    target = movielens.find_title("The Matrix (1999)")[0]
    old = [it.id for it in movielens.popular(500) if it.year and it.year < 1970][:5]
    for seed in range(30):
        user = SimulatedUser(target, movielens, movielens_kg, seed=f"r{seed}")
        user.opening()
        reply = user.reply(SystemTurn(items=old))
        meaning = reply.meaning
        # any reason given is true: the target is newer than all shown, lacks an excluded genre
        if meaning.newer_than is not None:
            assert meaning.newer_than < target.year and any(
                r.text in reply.text for r in P.BANK["newer"]
            )
        for genre in meaning.excludes_genres:
            assert genre not in target.genres
        assert meaning.older_than is None
    comedies = [
        it.id for it in movielens.popular(300) if "comedy" in it.genres and it.decade == 1990
    ][:5]
    excluded = set()
    for seed in range(30):
        user = SimulatedUser(target, movielens, movielens_kg, seed=f"c{seed}")
        user.opening()
        excluded |= set(user.reply(SystemTurn(items=comedies)).meaning.excludes_genres)
    assert "comedy" in excluded


def test_answers_the_question_asked(movielens, movielens_kg):
    target = movielens.find_title("Toy Story (1995)")[0]
    asked = 0
    for seed in range(20):
        user = SimulatedUser(target, movielens, movielens_kg, seed=f"q{seed}")
        opening = user.opening()
        if any(a.kind == "decade" for a in opening.meaning.reveals):
            continue
        asked += 1
        answer = user.reply(SystemTurn(question="decade"))
        assert answer.meaning.reveals == [Attribute("decade", "1990")]
        assert re.search(r"90s|90's|nineties|1990s", answer.text)
    assert asked >= 3


def test_same_seed_same_words(movielens, movielens_kg):
    answers = _popular_answers(movielens)
    target = _targets(movielens, 3)[1]
    one = [u.text for u in _dialogue(SimulatedUser(target, movielens, movielens_kg, "s"), answers)]
    two = [u.text for u in _dialogue(SimulatedUser(target, movielens, movielens_kg, "s"), answers)]
    other = [
        u.text for u in _dialogue(SimulatedUser(target, movielens, movielens_kg, "other"), answers)
    ]
    assert one == two and one != other


def test_phrasing_is_varied(movielens, movielens_kg):
    openings = {
        SimulatedUser(t, movielens, movielens_kg, f"v:{t.id}").opening().templates[0]
        for t in _targets(movielens)
    }
    assert len(openings) >= 8


def test_consistency_counter_matches_the_slow_check(movielens, movielens_kg):
    counter = ConsistencyCounter(movielens, movielens_kg)
    told = Meaning(
        reveals=[Attribute("genre", "comedy"), Attribute("decade", "1990")],
        excludes_genres=["romance"],
        newer_than=1993,
    )
    slow = sum(1 for it in movielens if consistent(it, movielens_kg, told))
    assert counter.count(told) == slow > 0


def test_no_keywords_setting(movielens, movielens_kg):
    answers = _popular_answers(movielens)
    for target in _targets(movielens, 10):
        user = SimulatedUser(target, movielens, movielens_kg, seed=f"k:{target.id}", max_keywords=0)
        said = _dialogue(user, answers)
        assert all(a.kind != "keyword" for u in said for a in u.meaning.reveals)
