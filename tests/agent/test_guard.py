"""The guard reads the final text: invented titles, real titles not recommended, and wrong
facts about a correct title are caught; template replies pass."""

from __future__ import annotations

import pytest

from chatrec.agent.guard import Guard


@pytest.fixture
def guard(small_resources):
    return Guard(small_resources.catalog, small_resources.kg, small_resources.linker)


def _id(resources, title):
    return resources.catalog.find_title(title)[0].id


def test_invented_title_is_rejected(guard, small_resources):
    inception = _id(small_resources, "Inception")
    result = guard.check("1. **Inception 2** (2014) — more dreams.", [inception], set())
    assert not result.passed
    assert any("Inception 2" in v for v in result.violations)


def test_real_title_not_recommended_is_rejected(guard, small_resources):
    inception = _id(small_resources, "Inception")
    result = guard.check("You might enjoy **The Matrix** (1999).", [inception], set())
    assert not result.passed
    result = guard.check("You might enjoy The Silence of the Lambs.", [inception], set())
    assert not result.passed


def test_wrong_director_on_a_correct_title_is_rejected(guard, small_resources):
    inception = _id(small_resources, "Inception")
    bad = guard.check("1. **Inception** (2010) — directed by Steven Spielberg.", [inception], set())
    assert not bad.passed and any("Steven Spielberg" in v for v in bad.violations)
    good = guard.check("1. **Inception** (2010) — directed by Christopher Nolan.", [inception], set())
    assert good.passed, good.violations


def test_wrong_year_and_genre_are_rejected(guard, small_resources):
    inception = _id(small_resources, "Inception")
    assert not guard.check("1. **Inception** — a 1994 film.", [inception], set()).passed
    assert not guard.check("1. **Inception** (2010) — a western.", [inception], set()).passed
    assert guard.check("1. **Inception** (2010) — a sci-fi film from 2010.", [inception], set()).passed


def test_discussed_items_may_be_named(guard, small_resources):
    inception, prestige = _id(small_resources, "Inception"), _id(small_resources, "The Prestige")
    text = "1. **The Prestige** (2006) — Directed by Christopher Nolan, who also made Inception (2010)."
    assert guard.check(text, [prestige], {inception}).passed
    assert not guard.check(text, [prestige], set()).passed


def test_every_template_reply_passes_the_guard(agent):
    script = ["hi", "something like Inception", "who directed it?", "why did you suggest the third one?",
              "a 90s comedy", "with Tom Hanks", "not that one", "I've seen the second one",
              "what is it about?", "I didn't like Titanic", "something older", "something lighter",
              "movies by Christopher Nolan", "thanks"]
    for message in script:
        reply = agent.respond("s", message)
        assert reply.trace.guard.passed, (message, reply.text, reply.trace.guard)


def test_a_title_with_asterisks_is_read_whole(ml_catalog, test_settings):
    # MovieLens has "M*A*S*H (1970)": the template writes **M*A*S*H** (1970), which the guard
    # once cut at the inner asterisks and rejected as an unknown title.
    from chatrec.resources import Resources

    resources = Resources.load(ml_catalog, test_settings, with_index=False, with_collab=False)
    guard = Guard(resources.catalog, resources.kg, resources.linker)
    item = next(i for i in ml_catalog.find_title("M*A*S*H") if i.year == 1970)
    liked = ml_catalog.find_title("Platoon")[0]
    text = f"1. **{item.title}** ({item.year}) — A war film, like **{liked.title}** ({liked.year}), which you liked."
    result = guard.check(text, [item.id], {liked.id})
    assert result.passed, result.violations


def test_a_capitalised_run_before_a_year_is_read_in_bounded_time(guard, small_resources):
    # "AAAA…A~ (1995)": the invented-title pattern could split the run into words in 2^n ways
    # before failing at "~" (30 letters: minutes, holding the GIL). Run in a forked child,
    # bounded two orders of magnitude above what a linear read needs.
    import multiprocessing

    inception = _id(small_resources, "Inception")
    text = "Watch " + "A" * 40 + "~ (1995) tonight."

    def read(results) -> None:
        results.put([guard.check(text, [inception], set(), closed_world=c).passed for c in (False, True)])

    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=read, args=(results,), daemon=True)
    child.start()
    child.join(20)
    if child.is_alive():
        child.kill()
        pytest.fail("the guard was still reading after 20 s")
    assert results.get(timeout=5)[1] is False   # and the closed world rejects the garbage
