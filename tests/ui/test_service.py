"""The page's use cases over a real agent: feedback marks and toggles, the editable profile,
identity switches, rate limits and a not-yet-loaded agent."""

from __future__ import annotations

import threading

from chatrec.agent.models import Reply
from ui.identity import Caller
from ui.loader import AgentLoader
from ui.ratelimit import RateLimiter
from ui.service import ChatService, Notice
from ui.sessions import new_session_id

NOBODY = Caller(None, "127.0.0.1")


def final(versions) -> Reply:
    versions = list(versions)
    assert versions and all(isinstance(v, Reply) for v in versions), versions
    return versions[-1]


def test_feedback_marks_cards_and_toggles(ui_service):
    sid = new_session_id()
    reply = final(ui_service.chat(sid, "something like Toy Story", None, NOBODY))
    assert [c.item.id for c in ui_service.cards(sid)] == [r.item.id for r in reply.recommendations]
    target = reply.recommendations[1].item.id
    assert ui_service.feedback(sid, target, "disliked", NOBODY) == "disliked"
    marks = {c.item.id: c.mark for c in ui_service.cards(sid)}
    assert marks[target] == "disliked" and list(marks.values()).count(None) == len(marks) - 1
    assert ui_service.feedback(sid, target, "liked", NOBODY) == "liked"          # switching is allowed
    assert ui_service.feedback(sid, target, "liked", NOBODY) == "removed"        # same button: undo
    assert {c.item.id: c.mark for c in ui_service.cards(sid)}[target] is None


def test_profile_lists_what_was_said_and_removal_works(ui_service, ui_agent):
    sid = new_session_id()
    final(ui_service.chat(sid, "I loved Inception. Something from the 90s, no horror", None, NOBODY))
    who, sections = ui_service.profile(sid, None)
    chips = {s.title: [c.label for c in s.chips] for s in sections}
    assert chips["Liked"] == ["Inception (2010)"]
    assert "horror" in chips["You'd rather avoid"]
    assert chips["Your request"][0] == "the 1990s"
    avoid = next(s for s in sections if s.title == "You'd rather avoid").chips[0]
    assert ui_service.remove(sid, avoid.value, NOBODY)
    state = ui_agent.session(sid)
    assert "horror" not in state.constraints.genres_none and avoid.value not in state.disliked_attributes
    liked = next(s for s in sections if s.title == "Liked").chips[0]
    ui_service.remove(sid, liked.value, NOBODY)
    assert not ui_agent.session(sid).liked_items
    years = next(s for s in sections if s.title == "Your request").chips[0]
    assert years.value and ui_service.remove(sid, years.value, NOBODY)
    c = ui_agent.session(sid).constraints
    assert c.year_min is None and c.year_max is None


def test_movielens_identity_history_and_switch(ui_service, ui_agent):
    choices = dict((v, k) for k, v in ui_service.user_choices())
    assert choices[""] == "New user" and len(choices) > 100
    user = "ml:414" if "ml:414" in choices else next(v for v in choices if v)
    label, entries, total = ui_service.user_history(user)
    assert label.startswith("MovieLens user") and total >= len(entries) > 0
    assert [r for _, r in entries] == sorted((r for _, r in entries), reverse=True)
    sid = new_session_id()
    assert ui_service.switch_user(sid, None, user) == sid        # nothing said yet: same session
    alice = Caller("web:alice", "127.0.0.1")
    final(ui_service.chat(sid, "hello", alice.user_id, alice, persona=user))
    other = ui_service.switch_user(sid, user, None)
    assert other != sid and not ui_service.turns(other)
    assert ui_service.stored_persona(sid) == user
    assert ui_agent.session(sid).user_id == "web:alice"          # the persona is not who she is
    assert ui_service.persona(user) == user and ui_service.persona("web:mallory") is None


def test_rate_limit_answers_with_a_notice(ui_agent):
    service = ChatService(AgentLoader.ready_made(ui_agent), RateLimiter(rate=0.01, burst=2))
    sid = new_session_id()
    alice, bob = Caller("web:alice", "10.0.0.1"), Caller("web:bob", "10.0.0.1")
    for _ in range(2):
        final(service.chat(sid, "hi", None, alice))
    [notice] = list(service.chat(sid, "hi", None, alice))
    assert isinstance(notice, Notice) and "faster than I can keep up" in notice.text
    # a fresh session buys nothing: the identity's bucket is empty
    [notice] = list(service.chat(new_session_id(), "hi", None, alice))
    assert isinstance(notice, Notice)
    assert isinstance(list(service.chat(new_session_id(), "hi", None, bob))[-1], Reply)


def test_a_loading_agent_is_said_not_waited_for():
    gate = threading.Event()
    service = ChatService(AgentLoader(lambda: gate.wait(5)).start(), wait_s=0.05)
    [notice] = list(service.chat(new_session_id(), "hi", None, NOBODY))
    assert isinstance(notice, Notice) and "getting ready" in notice.text
    assert service.cards("x") == [] and service.user_choices() == [("New user", "")]
    assert service.llm_label() == ("No LLM · rule-based", False)
    gate.set()


def test_export_and_forget(ui_service, ui_agent):
    sid = new_session_id()
    carol = Caller("web:carol", "127.0.0.1")
    reply = final(ui_service.chat(sid, "something like Heat", "web:carol", carol))
    ui_service.feedback(sid, reply.recommendations[0].item.id, "disliked", carol)
    exported = ui_service.export(sid, carol)
    assert reply.recommendations[0].item.id in exported["profile"]["disliked_items"]
    _, sections = ui_service.profile(new_session_id(), "web:carol")
    assert any(s.title == "Remembered from earlier sessions" and s.chips for s in sections)
    ui_service.forget(sid, carol)
    assert not ui_agent.profile("web:carol")["profile"]["disliked_items"]
    assert ui_service.export(new_session_id(), NOBODY)["sessions"][0]["turns"] == []
