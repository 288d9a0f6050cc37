"""The public Gradio API: JSON endpoints over ``ChatService`` (documented in docs/api.md).

Each function is registered with ``gr.api`` under its own name; its type hints are the
endpoint's signature (the ``gr.Request`` parameter is Gradio's, not the caller's). The page's own
events are private: these are the only public endpoints. Every call acts as its caller
(``ui.identity``): a session is reachable only by the identity that started it, and a ``user_id``
other than a MovieLens persona is honoured only from a caller holding the service token.
"""

from __future__ import annotations

import gradio as gr

from chatrec.agent.models import Reply
from ui.identity import SERVICE_TOKEN_HEADER, Caller
from ui.loader import AgentNotReady
from ui.service import FEEDBACK_KINDS, ChatService, Notice, NotYours, RateLimited, rate_limit_text
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
                  "guard": trace.guard.model_dump(mode="json") if trace.guard else {},
                  "llm_calls": [c.model_dump(mode="json") for c in trace.llm_calls]},
    }


def session_dict(service: ChatService, sid: str) -> dict:
    """A session's preferences, constraints and latest recommendations."""
    state = service.agent().session(sid)
    return {
        "session_id": sid, "user_id": state.user_id, "persona": state.persona,
        "liked_items": list(state.liked_items), "disliked_items": list(state.disliked_items),
        "seen_items": list(state.seen_items), "liked_attributes": list(state.liked_attributes),
        "disliked_attributes": list(state.disliked_attributes),
        "constraints": state.constraints.model_dump(mode="json"),
        "last_shown": [s.item_id for s in state.last_shown],
        "turns": len(state.turns),
    }


UNKNOWN_SESSION = "session_id must come from /new_session (or a previous /chat reply)"


def _session(session_id: str) -> str:
    if not is_session_id(session_id):
        raise gr.Error(UNKNOWN_SESSION)
    return session_id


def _call(fn):
    """Agent-not-ready, rate limits and other callers' sessions as Gradio errors (the client
    raises them with the text). Someone else's session reads as an unknown one."""
    try:
        return fn()
    except AgentNotReady as exc:
        raise gr.Error(str(exc)) from exc
    except RateLimited as exc:
        raise gr.Error(rate_limit_text(exc.retry_after)) from exc
    except NotYours as exc:
        raise gr.Error(UNKNOWN_SESSION) from exc


def acting_user(service: ChatService, caller: Caller, user_id: str) -> tuple[str | None, str | None]:
    """(user, persona) of a /chat call: the caller's own identity, with a MovieLens persona when
    ``user_id`` names one ("ml:42"); or, for a caller holding the service token only, the
    ``user_id`` it names."""
    claimed = (user_id or "").strip()
    if not claimed or claimed == caller.user_id:
        return caller.user_id, None
    persona = service.persona(claimed)
    if persona is not None:
        return caller.user_id, persona
    if not caller.trusted:
        raise gr.Error(f"user_id {claimed[:40]!r} is not yours to act as: leave it empty (you act as "
                       f"yourself), pass a MovieLens persona (\"ml:42\"), or call with the service "
                       f"token ({SERVICE_TOKEN_HEADER}) from a trusted back end")
    user = clean_user_id(claimed)
    if user is None:
        raise gr.Error('user_id must look like "<kind>:<id>" (letters, digits, ._@:-), at most 96 characters')
    return user, None


def register_api(service: ChatService, concurrency_id: str | None = None) -> None:
    """Add the public endpoints to the Blocks being built (call inside ``with gr.Blocks()``).
    ``/chat`` runs in the ``concurrency_id`` queue (shared with the page's own chat events)."""

    def new_session() -> str:
        """A fresh session id: pass it to every other endpoint to continue that conversation."""
        return new_session_id()

    def chat(session_id: str, message: str, user_id: str = "", request: gr.Request | None = None) -> dict:
        """Send one message; returns the reply as JSON. An empty or unknown session_id starts a
        new session (its id is in the reply). user_id: "" (you: your login, your browser, or
        nobody in particular), "ml:<MovieLens user id>" (a read-only persona), or, with the
        service token only, any "<kind>:<id>" of your own users ("web:alice")."""
        caller = service.caller(request)
        sid = session_or_new(session_id)
        _call(lambda: service.check(caller, sid))
        final = None
        user, persona = _call(lambda: acting_user(service, caller, user_id))
        for version in service.chat(sid, message, user, caller, persona):
            if isinstance(version, Notice):
                raise gr.Error(version.text)
            final = version
        if final is None:
            raise gr.Error("No reply was produced; please try again.")
        return reply_dict(final)

    def feedback(session_id: str, item_id: str, kind: str, request: gr.Request | None = None) -> dict:
        """Record "liked", "disliked" or "seen" on an item (the same kind again takes it back);
        returns the session's preferences."""
        sid = _session(session_id)
        if kind not in FEEDBACK_KINDS:
            raise gr.Error(f"kind must be one of {', '.join(FEEDBACK_KINDS)}")
        caller = service.caller(request)

        def run():
            if item_id not in service.agent().catalog:
                raise gr.Error(f"no item {item_id!r} in the catalog")
            service.feedback(sid, item_id, kind, caller)
            return session_dict(service, sid)

        return _call(run)

    def remove_preference(session_id: str, value: str, request: gr.Request | None = None) -> dict:
        """Forget one liked/disliked/seen item id or attribute node ("genre:comedy"); returns
        the session's preferences."""
        sid = _session(session_id)
        caller = service.caller(request)

        def run():
            service.remove(sid, value, caller)
            return session_dict(service, sid)

        return _call(run)

    def reset(session_id: str, request: gr.Request | None = None) -> dict:
        """Start the conversation over (a known user's profile is kept)."""
        sid = _session(session_id)
        caller = service.caller(request)
        return _call(lambda: (service.reset(sid, caller), session_dict(service, sid))[1])

    def session(session_id: str, request: gr.Request | None = None) -> dict:
        """The session's preferences, constraints and latest recommendations."""
        sid = _session(session_id)
        caller = service.caller(request)
        return _call(lambda: session_dict(service, service.check(caller, sid)))

    def why(session_id: str, item_id: str, request: gr.Request | None = None) -> dict:
        """The knowledge-graph paths behind a shown recommendation, as facts and an SVG picture."""
        sid = _session(session_id)
        caller = service.caller(request)

        def run():
            service.check(caller, sid)
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
        # gr.api is public API that gradio's __init__ does not list in __all__
        gr.api(fn, api_name=fn.__name__,  # pyright: ignore[reportPrivateImportUsage]
               concurrency_id=concurrency_id if fn is chat else None)
