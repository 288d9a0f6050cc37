"""The closed-world guard on LLM text: none of the adversarial corpus's lies passes, whole
(a non-streamed reply) or sentence by sentence with carry (a streamed one), on several scenes;
the honest phrasings do pass, so the guard is not closed by rejecting everything."""

from __future__ import annotations

import pytest

from chatrec.agent.guard import Guard
from chatrec.llm.sentences import split_sentences
from chatrec.testing.llm_lies import HONEST, LIES, SHAPES, build_scene, passes

# (recommended, discussed) titles: a thriller with a writer who does not direct, a family
# animation, a franchise film, and films whose director also writes.
SCENES = [
    (["Fight Club", "Heat (1995)", "Toy Story"], ["Inception"]),
    (["Toy Story", "Inception", "Forrest Gump"], ["The Matrix"]),
    (["The Dark Knight", "Titanic (1997)", "Big (1988)"], []),
    (["Memento", "Home Alone", "The Shining"], ["Cast Away"]),
]


@pytest.fixture(scope="module")
def guard(small_resources):
    return Guard(small_resources.catalog, small_resources.kg, small_resources.linker)


@pytest.fixture(scope="module", params=range(len(SCENES)), ids=lambda i: SCENES[i][0][0])
def scene(request, small_resources):
    recommended, discussed = SCENES[request.param]

    def ids(titles):
        return [small_resources.catalog.find_title(t)[0].id for t in titles]

    return build_scene(small_resources.catalog, small_resources.kg, ids(recommended), ids(discussed))


def test_the_corpus_has_a_hundred_lies_of_every_shape():
    assert len(LIES) >= 100
    assert {lie.shape for lie in LIES} == set(SHAPES)
    assert all(sum(lie.shape == shape for lie in LIES) >= 4 for shape in SHAPES)


@pytest.mark.parametrize("lie", LIES, ids=lambda lie: lie.name)
def test_no_lie_passes(guard, scene, lie):
    sentence = lie.lie(scene)
    assert len(split_sentences(sentence)) == 1, sentence   # one sentence: shown whole or not at all
    text = lie.reply(scene)
    assert passes(guard, scene, text) == (False, False), text


@pytest.mark.parametrize("honest", range(len(HONEST)))
def test_honest_phrasing_passes(guard, scene, honest):
    text = HONEST[honest](scene)
    result = guard.check(text, scene.recommended, scene.discussed, closed_world=True)
    assert result.passed, (text, result.violations)
    assert passes(guard, scene, text) == (True, True), text


def test_the_leads_of_the_lies_pass(guard, scene):
    # A lie told after an honest sentence tests the stream's stop at the lie only if the lead
    # itself is shown.
    for lie in LIES:
        if lie.lead is not None:
            lead = lie.lead(scene)
            assert guard.check(lead, scene.recommended, scene.discussed, closed_world=True).passed, lead


def test_a_genre_the_user_asked_for_must_still_be_the_items(guard, small_resources):
    from chatrec.agent.models import Constraints

    heat = small_resources.catalog.find_title("Heat (1995)")[0].id
    asked = Constraints(genres_any=["comedy"])
    text = "Heat (1995) is a comedy."
    assert guard.check(text, [heat], set(), asked).passed   # templates: the request excuses it
    assert not guard.check(text, [heat], set(), asked, closed_world=True).passed


def test_text_too_long_to_verify_is_rejected_unread(guard, scene):
    text = " ".join([f"{scene.a.title} ({scene.a.year}) is a great pick."] * 200)
    result = guard.check(text, scene.recommended, scene.discussed, closed_world=True)
    assert not result.passed and "too long" in result.violations[0]


def test_an_ellipsis_passes_only_when_its_claim_holds_for_the_title_it_adds(guard, small_resources):
    def ids(*titles):
        return [small_resources.catalog.find_title(t)[0].id for t in titles]

    recommended = ids("Toy Story", "Toy Story 2", "Heat (1995)")
    honest = ["Toy Story (1995) stars Tom Hanks, as does Toy Story 2 (1999).",
              "Toy Story (1995) is directed by John Lasseter, and so is Toy Story 2 (1999).",
              "Toy Story (1995) is an animation film, and Toy Story 2 (1999) too.",
              "Toy Story (1995) and also Toy Story 2 (1999) are animation films.",
              "If you liked Toy Story (1995), you'll love Toy Story 2 (1999) too."]
    false = ["Toy Story (1995) stars Tom Hanks, as does Heat (1995).",
             "Toy Story (1995) is an animation film, and so is Heat (1995).",
             "Toy Story (1995) is an animation film, and Heat (1995) too.",
             "Heat (1995) and also Toy Story (1995) are animation films.",
             "Heat (1995) as well as Toy Story (1995) are animation films.",
             "Heat (1995) does too.",
             "So is Heat (1995)."]
    for text in honest:
        result = guard.check(text, recommended, set(), closed_world=True)
        assert result.passed, (text, result.violations)
    for text in false:
        assert not guard.check(text, recommended, set(), closed_world=True).passed, text
