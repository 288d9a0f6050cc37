"""The public Gradio API: JSON endpoints over ``ChatService`` (documented in docs/api.md).

Each function is registered with ``gr.api`` under its own name; its type hints are the
endpoint's signature. The page's own events are private: these are the only public endpoints.
"""

from __future__ import annotations

import gradio as gr

from chatrec.agent.models import Reply
from ui.loader import AgentNotReady
from ui.service import FEEDBACK_KINDS, ChatService, Notice, RateLimited, rate_limit_text
from ui.sessions import clean_user_id, is_session_id, new_session_id, session_or_new

# What a card shows of an item's cast.
TOP_CAST = 3


def fact_dict(fact) -> dict:
    return fact.model_dump(mode="json")


def item_dict(item) -> dict:
    return {"item_id": item.id, "title": item.title, "year": item.year, "display": item.display,
            "genres": list(item.genres), "directors": list(item.directors),
            "cast": list(item.cast[:TOP_CAST])}


def reply_dict(reply: Reply) -> dict:
    """A Reply as JSON: text, recommendations (item, score, sources, explanation, evidence),
    question, the item a question was about, and the turn's timings and decision."""
    trace = reply.trace
    return {
        "session_id": reply.session_id,
        "text": reply.text,
        "recommendations": [
            {**item_dict(r.item), "score": r.score, "sources": dict(r.sources),
             "explanation": r.explanation, "evidence": [fact_dict(f) for f in r.evidence]}
            for r in reply.recommendations],
        "question": reply.question.model_dump(mode="json") if reply.question else None,
        "answer_item": item_dict(reply.answer_item) if reply.answer_item else None,
        "facts": [fact_dict(f) for f in reply.facts],
        "trace": {"timings_ms": dict(trace.timings_ms), "decision": trace.decision,
                  "guard": trace.guard, "llm_calls": [c.model_dump(mode="json") for c in trace.llm_calls]},
    }


def session_dict(service: ChatService, sid: str) -> dict:
    """A session's preferences, constraints and latest recommendations."""
    state = service.agent().session(sid)
    return {
        "session_id": sid, "user_id": state.user_id,
        "liked_items": list(state.liked_items), "disliked_items": list(state.disliked_items),
        "seen_items": list(state.seen_items), "liked_attributes": list(state.liked_attributes),
        "disliked_attributes": list(state.disliked_attributes),
        "constraints": state.constraints.model_dump(mode="json"),
        "last_shown": [s.item_id for s in state.last_shown],
        "turns": len(state.turns),
    }


def _session(session_id: str) -> str:
    if not is_session_id(session_id):
        raise gr.Error("session_id must come from /new_session (or a previous /chat reply)")
    return session_id


def _call(fn):
    """Agent-not-ready and rate limits as Gradio errors (the client raises them with the text)."""
    try:
        return fn()
    except AgentNotReady as exc:
        raise gr.Error(str(exc)) from exc
    except RateLimited as exc:
        raise gr.Error(rate_limit_text(exc.retry_after)) from exc


def register_api(service: ChatService, concurrency_id: str | None = None) -> None:
    """Add the public endpoints to the Blocks being built (call inside ``with gr.Blocks()``).
    ``/chat`` runs in the ``concurrency_id`` queue (shared with the page's own chat events)."""

    def new_session() -> str:
        """A fresh session id: pass it to every other endpoint to continue that conversation."""
        return new_session_id()

    def chat(session_id: str, message: str, user_id: str = "") -> dict:
        """Send one message; returns the reply as JSON. An empty or unknown session_id starts a
        new session (its id is in the reply). user_id: "" (anonymous), "ml:<MovieLens user id>"
        or any "<kind>:<id>" of yours ("web:alice")."""
        sid = session_or_new(session_id)
        final = None
        for version in service.chat(sid, message, clean_user_id(user_id)):
            if isinstance(version, Notice):
                raise gr.Error(version.text)
            final = version
        return reply_dict(final)

    def feedback(session_id: str, item_id: str, kind: str) -> dict:
        """Record "liked", "disliked" or "seen" on an item (the same kind again takes it back);
        returns the session's preferences."""
        sid = _session(session_id)
        if kind not in FEEDBACK_KINDS:
            raise gr.Error(f"kind must be one of {', '.join(FEEDBACK_KINDS)}")

        def run():
            if item_id not in service.agent().catalog:
                raise gr.Error(f"no item {item_id!r} in the catalog")
            service.feedback(sid, item_id, kind)
            return session_dict(service, sid)

        return _call(run)

    def remove_preference(session_id: str, value: str) -> dict:
        """Forget one liked/disliked/seen item id or attribute node ("genre:comedy"); returns
        the session's preferences."""
        sid = _session(session_id)

        def run():
            service.remove(sid, value)
            return session_dict(service, sid)

        return _call(run)

    def reset(session_id: str) -> dict:
        """Start the conversation over (a known user's profile is kept)."""
        sid = _session(session_id)
        return _call(lambda: (service.reset(sid), session_dict(service, sid))[1])

    def session(session_id: str) -> dict:
        """The session's preferences, constraints and latest recommendations."""
        sid = _session(session_id)
        return _call(lambda: session_dict(service, sid))

    def why(session_id: str, item_id: str) -> dict:
        """The knowledge-graph paths behind a shown recommendation, as facts and an SVG picture."""
        sid = _session(session_id)

        def run():
            paths, caption = service.why(sid, item_id)
            if not caption:
                raise gr.Error(f"item {item_id!r} is not among this session's latest recommendations")
            from kg.render import render_paths

            svg = render_paths(service.agent().kg, item_id, paths, fmt="svg").decode()
            return {"item_id": item_id, "caption": caption,
                    "paths": [{"via": p.via, "liked_item": p.liked_item,
                               "facts": [fact_dict(f) for f in p.facts]} for p in paths],
                    "svg": svg}

        return _call(run)

    for fn in (new_session, chat, feedback, remove_preference, reset, session, why):
        gr.api(fn, api_name=fn.__name__, concurrency_id=concurrency_id if fn is chat else None)
