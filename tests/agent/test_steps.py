"""Each step of a turn on its own, over the hand-written films (no data directory needed):
history, query builder, dialogue policy, diversifier, answerer, rater, reply verifier, config."""

from __future__ import annotations

import pytest

from chatrec.agent.answer import Answerer
from chatrec.agent.config import AgentConfig, DiversityPolicy, HistoryPolicy
from chatrec.agent.diversify import Diversifier
from chatrec.agent.draft import Draft
from chatrec.agent.explain import Explainer
from chatrec.agent.guard import Guard
from chatrec.agent.history import UserHistory
from chatrec.agent.models import DialogueAct, Recommendation, Trace
from chatrec.agent.policy import DialoguePolicy
from chatrec.agent.query import QueryBuilder
from chatrec.agent.rate import Rater
from chatrec.agent.retrieve import Candidate
from chatrec.agent.state import SessionState, ShownItem, UserProfile
from chatrec.agent.verify import ReplyVerifier
from chatrec.catalog.constraints import Constraints
from kg.paths import explain as find_paths


@pytest.fixture(scope="module")
def films(films_resources):
    return films_resources.catalog


def _id(films, title: str, year: int | None = None) -> str:
    return films.find_title(title, year)[0].id


@pytest.fixture(scope="module")
def queries(films_resources):
    history = UserHistory(films_resources.catalog)
    return QueryBuilder(films_resources.catalog, films_resources.kg, history)


# ------------------------------------------------------------------ history
def test_history_reads_the_log_of_a_known_user_only(films):
    history = UserHistory(films, HistoryPolicy())
    assert history.log_user("films:u1") == "u1"
    assert history.log_user("films:nobody") is None and history.log_user(None) is None
    assert history.log_user("ml:u1") is None   # MovieLens' short form, not this catalog's
    log = history.of("u1")
    inception, home_alone = _id(films, "Inception"), _id(films, "Home Alone")
    assert inception in log.seeds and home_alone not in log.seeds   # rated 2: not liked
    assert home_alone in log.rated
    # liked: the top quarter of the scale (4 and up); seeded by 0.15 + 0.1 per point above u1's mean of 4.0625
    assert log.seeds[inception] == pytest.approx(0.15 + 0.1 * (5 - 4.0625))
    assert log.seeds[_id(films, "The Dark Knight")] == pytest.approx(0.15)   # rated 4: liked, not above the mean
    # favourites: a point above the mean, or u1's top rating (5); most recent first
    assert log.favourites == [_id(films, t) for t in ("Interstellar", "The Prestige", "Inception")]
    assert history.of(None).seeds == {}


# ------------------------------------------------------------------ query builder
def test_query_seeds_weigh_session_likes_over_profile_and_history(films, queries):
    heat, se7en, up, matrix = (_id(films, t) for t in ("Heat", "Se7en", "Up", "The Matrix"))
    state = SessionState(session_id="s", user_id="films:u1")
    state.like_items([heat, se7en, up, matrix])       # newest last
    state.dislike_items([])
    profile = UserProfile(user_id="films:u1", liked_items=[_id(films, "Cast Away")])
    query = queries.build(queries.context(state, profile))
    assert query.seeds[matrix] == 1.0 and query.seeds[heat] == 0.7   # three newest at full weight
    assert query.seeds[_id(films, "Cast Away")] == 0.5
    assert query.seeds[_id(films, "Inception")] == pytest.approx(0.24375)   # from u1's log
    assert query.user_id == "u1"
    assert {heat, se7en, up, matrix, _id(films, "Home Alone")} <= query.exclude   # liked, and rated


def test_shown_items_come_back_only_for_a_full_ranking(films, queries):
    state = SessionState(session_id="s")
    state.record_shown([ShownItem(item_id=_id(films, "Heat"))])
    context = queries.context(state, None)
    assert _id(films, "Heat") in queries.build(context).exclude
    assert _id(films, "Heat") not in queries.build(context, for_rank=True).exclude


def test_a_query_keeps_its_constraints_when_the_session_moves_on(films, queries):
    state = SessionState(session_id="s", constraints=Constraints(genres_all=["comedy"]))
    query = queries.build(queries.context(state, None))
    state.constraints.genres_all.append("horror")
    assert query.constraints.genres_all == ["comedy"]


# ------------------------------------------------------------------ policy
@pytest.mark.parametrize("intent, action, decision", [
    ("greeting", "recommend", "greeting+recommend"), ("thanks", "reply", "thanks"),
    ("ask_about", "answer", None), ("rate", "rate", None), ("chitchat", "recommend", "chitchat+recommend"),
])
def test_policy_routes_each_intent(films, queries, intent, action, decision):
    state = SessionState(session_id="s", focus_item=_id(films, "Heat"))
    plan = DialoguePolicy(films).decide(queries.context(state, None), DialogueAct(intent=intent))
    assert plan.action == action
    assert decision is None or (plan.draft.decision if plan.draft else plan.decision) == decision


def test_policy_shows_films_with_a_greeting_and_asks_until_it_knows_something(films, queries):
    policy = DialoguePolicy(films)
    cold = policy.decide(queries.context(SessionState(session_id="s"), None), DialogueAct(intent="greeting"))
    assert cold.action == "recommend" and cold.question is not None and cold.prefix in cold.trusted
    known = SessionState(session_id="s", liked_items=[_id(films, "Heat")], request_active=True)
    chat = policy.decide(queries.context(known, None), DialogueAct(intent="chitchat"))
    assert chat.action == "recommend" and chat.question is None


def test_policy_asks_with_films_on_nothing(films, queries):
    policy = DialoguePolicy(films)
    state = SessionState(session_id="s")
    plan = policy.decide(queries.context(state, None), DialogueAct(intent="recommend"))
    assert plan.action == "recommend" and plan.question is not None and plan.question.slot == "preference"
    # "anything but horror, can you recommend something?": well-known films without it
    state.constraints = Constraints(genres_none=["horror"])
    plan = policy.decide(queries.context(state, None), DialogueAct(intent="recommend"))
    assert plan.action == "recommend" and plan.question is None
    state.constraints = Constraints(genres_all=["comedy"])
    plan = policy.decide(queries.context(state, None), DialogueAct(intent="recommend"))
    assert plan.action == "recommend" and plan.question is None
    known = SessionState(session_id="t", user_id="films:u2")   # a user with a history needs no question
    assert policy.decide(queries.context(known, None), DialogueAct(intent="recommend")).question is None


def test_policy_reads_a_question_word_in_a_request_naming_no_film_as_a_request(films, queries):
    policy = DialoguePolicy(films)
    tastes = DialogueAct(intent="ask_about", item_question="plot", liked_attributes=["keyword:cars"],
                         constraints=Constraints(genres_all=["action"]))

    def said(text: str, **fields) -> SessionState:
        state = SessionState(session_id="s", **fields)
        state.add_turn("user", text)
        return state

    request = "I like action, fast cars and a good plot. Can you recommend a few?"
    assert policy.decide(queries.context(said(request), None), tastes).action == "recommend"
    # with a list shown (a film in focus) it is still a request: the message names no film
    focused = said(request, focus_item=_id(films, "Heat"))
    assert policy.decide(queries.context(focused, None), tastes).action == "recommend"
    named = tastes.model_copy(update={"target_item": _id(films, "Heat")})
    assert policy.decide(queries.context(said(request), None), named).action == "answer"
    bare = DialogueAct(intent="ask_about", item_question="plot")
    assert policy.decide(queries.context(said("what's the plot?"), None), bare).action == "answer"
    no_request = said("I love the plot of car films")
    assert policy.decide(queries.context(no_request, None), tastes).action == "answer"


def test_policy_acknowledges_feedback_and_notes_what_it_could_not_read(films, queries):
    titanic = _id(films, "Titanic", 1997)
    act = DialogueAct(intent="feedback", disliked_items=[titanic], unknown_titles=["Zorblax"],
                      constraints=Constraints(unsupported=["in French"]))
    state = SessionState(session_id="s", liked_items=[_id(films, "Heat")])
    plan = DialoguePolicy(films).decide(queries.context(state, None), act)
    assert plan.action == "recommend" and plan.prefix == "Noted, not **Titanic** (1997)."
    assert "Zorblax" in plan.notes[0] and len(plan.notes) == 2


# ------------------------------------------------------------------ diversifier
def test_diversifier_makes_a_second_film_by_the_same_director_earn_its_place(films):
    nolan = [_id(films, t) for t in ("Inception", "The Prestige", "Memento")]
    other = _id(films, "Heat")
    ranked = [Candidate(nolan[0], 1.0, {}), Candidate(nolan[1], 0.95, {}), Candidate(other, 0.9, {}),
              Candidate(nolan[2], 0.5, {})]
    chosen = [c.item_id for c in Diversifier(films)(ranked, 3)]
    assert chosen == [nolan[0], other, nolan[1]]      # 0.95 × 0.9 < 0.9
    flat = Diversifier(films, DiversityPolicy(director_penalty=1.0, franchise_penalty=1.0))
    assert [c.item_id for c in flat(ranked, 3)] == [nolan[0], nolan[1], other]


def test_diversifier_shows_one_copy_of_a_film_and_one_of_a_franchise_first(films):
    toy1, toy2, nemo = (_id(films, t) for t in ("Toy Story", "Toy Story 2", "Finding Nemo"))
    ranked = [Candidate(toy1, 1.0, {}), Candidate(toy2, 0.99, {}), Candidate(nemo, 0.9, {})]
    assert [c.item_id for c in Diversifier(films)(ranked, 2)] == [toy1, nemo]


# ------------------------------------------------------------------ answers and ratings
@pytest.fixture(scope="module")
def answerer(films_resources):
    explainer = Explainer(films_resources.catalog, films_resources.kg, find_paths)
    return Answerer(films_resources.catalog, films_resources.kg, explainer)


def test_answers_come_from_the_graph(films, answerer):
    state = SessionState(session_id="s", focus_item=_id(films, "Heat"))
    draft = answerer(state, DialogueAct(intent="ask_about", item_question="director"), [])
    assert draft.text == "**Heat** (1995) was directed by Michael Mann."
    assert [f.object for f in draft.facts] == ["person:michael mann"]
    cast = answerer(state, DialogueAct(intent="ask_about", item_question="cast"), [])
    assert cast.text == "**Heat** (1995) stars Al Pacino, Robert De Niro and Val Kilmer."
    plot = answerer(state, DialogueAct(intent="ask_about", item_question="plot"), [])
    assert "bank robbers" in plot.text and plot.trusted == [films[_id(films, "Heat")].description]


def test_an_answer_without_a_target_or_a_fact_says_so(films, answerer):
    assert answerer(SessionState(session_id="s"), DialogueAct(intent="ask_about"), []).decision == "answer:no-target"
    undated = SessionState(session_id="s", focus_item=_id(films, "Untitled Festival Short"))
    draft = answerer(undated, DialogueAct(intent="ask_about", item_question="writer"), [])
    assert draft.decision == "answer:writer-missing" and not draft.facts


def test_ratings_are_predicted_for_users_with_a_history(films_resources, queries):
    films = films_resources.catalog
    rater = Rater(films, films_resources.collab)
    act = DialogueAct(intent="rate", target_item=_id(films, "Heat"))
    cold = rater(queries.context(SessionState(session_id="s", user_id="web:new"), None), act)
    assert cold.decision == "rate:cold"
    known = rater(queries.context(SessionState(session_id="s", user_id="films:u10"), None), act)
    assert known.decision == "rate" and "out of 5" in known.text
    assert Rater(films, None)(queries.context(SessionState(session_id="s", user_id="films:u10"), None),
                              act).decision == "rate:cold"


# ------------------------------------------------------------------ verifier
@pytest.fixture(scope="module")
def verifier(films_resources):
    return ReplyVerifier(Guard(films_resources.catalog, films_resources.kg, films_resources.linker))


def test_the_verifier_passes_true_claims_and_replaces_false_ones(films, queries, verifier):
    heat = films[_id(films, "Heat")]
    rec = Recommendation(item=heat, score=1.0, explanation="")
    context = queries.context(SessionState(session_id="s"), None)
    trace = Trace()
    good = Draft("1. **Heat** (1995) — directed by Michael Mann.", recommendations=[rec])
    assert verifier.check(good, context, trace) is good and trace.guard.passed and trace.guard.claims >= 2
    trace = Trace()
    bad = Draft("1. **Heat** (1995) — directed by Steven Spielberg, like **Zorblax** (1999).",
                recommendations=[rec])
    safe = verifier.check(bad, context, trace)
    assert not trace.guard.passed and trace.guard.fallback and trace.guard.violations
    assert safe.text == "Here is what I found:\n1. **Heat** (1995)" and safe.recommendations == [rec]


def test_trusted_wording_is_not_checked(films, queries, verifier):
    context = queries.context(SessionState(session_id="s"), None)
    example = "Say things like “a comedy with Steven Spielberg”."
    trace = Trace()
    assert verifier.check(Draft(example, trusted=[example]), context, trace).text == example
    assert trace.guard.passed


# ------------------------------------------------------------------ config
def test_the_config_is_in_every_trace_and_arguments_override_it(make_films_agent):
    agent = make_films_agent(k=3, observed_seed_weight=0.0, config=AgentConfig(pool=40))
    assert (agent.k, agent.config.pool, agent.config.seeds.observed) == (3, 40, 0.0)
    reply = agent.respond("s", "a comedy from the 90s")
    assert reply.trace.config == agent.config.model_dump(mode="json")
    assert len(reply.recommendations) == 3
    assert AgentConfig.model_validate(reply.trace.config) == agent.config
