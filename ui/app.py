"""The chatrec web page: Gradio components wired to ``ChatService``. Layout and wiring only.

    >>> from ui.app import build_app, launch
    >>> demo = build_app(service)          # service = ChatService(AgentLoader(...).start())
    >>> launch(demo, server_port=7860)

A browser tab keeps its session id in ``sessionStorage`` (per tab, survives a reload); the
conversation itself lives in the agent's SQLite store, so a reload, or a server restart, continues
it. Public API endpoints: see ``ui.api`` and docs/api.md.
"""

from __future__ import annotations

import base64
import json
import logging
import weakref
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.themes import Base, Soft

from ui.api import register_api
from ui.gate import gate_middleware
from ui.identity import Caller
from ui.ratelimit import RateLimiter
from ui.service import FEEDBACK_KINDS, NOT_YOURS, ChatService, Notice, NotYours, RateLimited, rate_limit_text
from ui.views import (
    assistant_markdown,
    cards_html,
    chat_messages,
    esc,
    header_html,
    history_html,
    profile_html,
    trace_html,
    user_markdown,
)

logger = logging.getLogger(__name__)

CSS_PATH = Path(__file__).with_name("style.css")
# Every event that runs an agent turn shares one queue (page and API alike), so ``concurrency``
# bounds the turns running at once, whoever sent them.
AGENT_QUEUE = "agent-turns"
FILM_EXAMPLES = [
    "Something like Inception, but from the 90s",
    "A feel-good comedy for tonight, no horror",
    "Movies with Tom Hanks",
    "Something for a rainy Sunday with my kids",
    "Who directed The Matrix?",
]
FILM_TAGLINE = "Film recommendations you can check: every reason is a fact from the knowledge graph."
FILM_PLACEHOLDER = ("### What do you feel like watching?\n"
                    "Name a film you loved, a mood, a decade or an actor. Every suggestion comes with "
                    "the facts behind it.")
# For a catalog of your own (``--catalog items.jsonl``): wording that fits any kind of item.
GENERIC_EXAMPLES = ["What would you recommend?", "Something popular", "Something different"]
GENERIC_TAGLINE = "Recommendations you can check: every reason is a fact from the knowledge graph."
GENERIC_PLACEHOLDER = ("### What are you looking for?\n"
                       "Name something you liked, or describe what you want. Every suggestion comes "
                       "with the facts behind it.")

# Clicks inside the cards and the profile: one listener each (event delegation), since their
# HTML is replaced on every update. The payload says which button on which item.
CLICK_JS = """
element.addEventListener('click', (e) => {
  const b = e.target.closest('button[data-action]');
  if (!b || b.disabled) return;
  e.preventDefault();
  trigger('click', {action: b.dataset.action, item: b.dataset.item || '', value: b.dataset.value || ''});
});
"""
READ_TAB_JS = """
(bridge) => JSON.stringify({sid: sessionStorage.getItem('chatrec.sid') || '',
                            user: sessionStorage.getItem('chatrec.user') || ''})
"""
WRITE_TAB_JS = """
(bridge) => {
  try {
    const o = JSON.parse(bridge || '{}');
    if (o.sid) { sessionStorage.setItem('chatrec.sid', o.sid); sessionStorage.setItem('chatrec.user', o.user || ''); }
  } catch (e) { }
  return [];
}
"""


def theme() -> Base:
    # System fonts: the default theme fetches web fonts, which an offline install cannot.
    return Soft(primary_hue="indigo", secondary_hue="amber", neutral_hue="slate",
                          radius_size="lg", font=["Inter", "ui-sans-serif", "system-ui", "sans-serif"],
                          font_mono=["ui-monospace", "SFMono-Regular", "monospace"])


# The web gate (visitor cookies, login throttle, no uploads) of each page ``build_app`` made.
_GATES: weakref.WeakKeyDictionary[gr.Blocks, object] = weakref.WeakKeyDictionary()
# Failed sign-ins per client address: 5 at once, then one every 10 seconds.
LOGIN_BURST, LOGIN_PER_MINUTE = 5, 6.0


def launch(demo: gr.Blocks, **kwargs):
    """``demo.launch`` with chatrec's theme and CSS (Gradio 6 takes them at launch) and, for a
    page of ``build_app``, its web gate in front of Gradio (``ui.gate``)."""
    kwargs.setdefault("theme", theme())
    kwargs.setdefault("css", CSS_PATH.read_text(encoding="utf-8"))
    kwargs.setdefault("footer_links", ["api"])
    kwargs.setdefault("max_file_size", "1mb")
    gate = _GATES.get(demo)
    if gate is not None:
        app_kwargs = dict(kwargs.pop("app_kwargs", None) or {})
        app_kwargs["middleware"] = [*app_kwargs.get("middleware", []), gate]
        kwargs["app_kwargs"] = app_kwargs
    return demo.launch(**kwargs)


def build_app(service: ChatService, *, concurrency: int = 8, title: str = "chatrec",
              films: bool = True, login_limiter: RateLimiter | None = None) -> gr.Blocks:
    """The page over ``service``.

    Args:
        service: the use cases (agent loading in the background is fine: the page says so).
        concurrency: how many agent turns may run at once (the rest queue).
        title: the browser tab's title.
        films: film wording and example prompts (the built-in catalogs); False for a catalog
            of other things.
        login_limiter: failed sign-ins per client address with ``--auth`` (default: 5 at once,
            then 6 a minute).
    """
    examples = FILM_EXAMPLES if films else GENERIC_EXAMPLES
    placeholder = FILM_PLACEHOLDER if films else GENERIC_PLACEHOLDER
    tagline = FILM_TAGLINE if films else GENERIC_TAGLINE
    if login_limiter is None:
        login_limiter = RateLimiter(rate=LOGIN_PER_MINUTE / 60.0, burst=LOGIN_BURST)

    with gr.Blocks(title=title, fill_width=True, analytics_enabled=False) as demo:
        sid = gr.State("")
        user = gr.State("")           # the "Who am I" choice: "" (new user) or "ml:42"
        why_item = gr.State("")       # the card whose "Why this?" picture is open
        bridge = gr.Textbox(visible=False, elem_id="tab-bridge")  # JSON {sid, user} ⇄ sessionStorage

        header = gr.HTML(_header(service, tagline), elem_id="header")
        timer = gr.Timer(1.0, active=not service.ready)
        # While the vector index builds in the background: the header's progress line only.
        warming = gr.Timer(2.0, active=False)

        with gr.Row(equal_height=False, elem_id="main"):
            with gr.Column(scale=6, min_width=420, elem_id="chat-col"):
                chatbot = gr.Chatbot(elem_id="chat", height=540, show_label=False, layout="bubble",
                                     placeholder=placeholder, examples=[{"text": e} for e in examples],
                                     sanitize_html=True, allow_tags=False, buttons=["copy"],
                                     feedback_options=None, autoscroll=True)
                with gr.Row(elem_id="composer", equal_height=True):
                    msg = gr.Textbox(show_label=False, container=False, scale=8, lines=1, max_lines=5,
                                     autofocus=True, elem_id="msg", max_length=4000,
                                     placeholder="e.g. “I loved Heat — something like it, but newer”")
                    send = gr.Button("Send", variant="primary", scale=1, min_width=90, elem_id="send")
                with gr.Accordion("Your profile", open=True, elem_id="profile-acc"):
                    profile = gr.HTML(js_on_load=CLICK_JS, elem_id="profile")
                    with gr.Row(elem_id="profile-actions"):
                        reset_btn = gr.Button("Start over", size="sm", variant="secondary", elem_id="reset")
                        data_btn = gr.Button("My data", size="sm", variant="secondary", elem_id="my-data")
                        forget_btn = gr.Button("Forget me", size="sm", variant="stop", elem_id="forget",
                                               visible=False)
                    data_json = gr.JSON(visible=False, elem_id="data-json", label="What chatrec stores")
                    data_file = gr.HTML(visible=False, elem_id="data-file")
                with gr.Accordion("Trace of the last turn", open=False, elem_id="trace-acc"):
                    trace = gr.HTML(trace_html(None, ""), elem_id="trace")
            with gr.Column(scale=5, min_width=360, elem_id="side"):
                with gr.Accordion("Who am I", open=True, elem_id="who-acc"):
                    who = gr.Dropdown(choices=service.user_choices(), value="", show_label=False,
                                      filterable=True, interactive=True, elem_id="who",
                                      info="Chat as a new user, or as a user with a rating history.")
                    history = gr.HTML(elem_id="history")
                gr.HTML('<div class="side-title">Recommendations</div>', elem_id="cards-title")
                cards = gr.HTML(cards_html([]), js_on_load=CLICK_JS, elem_id="cards")

        page_outputs = [chatbot, cards, profile, history, who, trace, why_item]

        def page(sid_value: str, user_choice: str, caller: Caller, why: str = "",
                 last_trace=None) -> dict:
            user_id = caller.user_id
            label, entries, total = service.user_history(service.persona(user_choice))
            who_text, sections = service.profile(sid_value, user_id, service.persona(user_choice))
            return {
                chatbot: chat_messages(service.turns(sid_value)),
                cards: cards_html(service.cards(sid_value, why)),
                profile: profile_html(who_text, sections),
                history: history_html(label, entries, total),
                who: gr.Dropdown(choices=_choices_with(service.user_choices(), user_choice),
                                 value=user_choice or ""),
                trace: trace_html(last_trace, service.llm_label()[0]),
                why_item: why,
                forget_btn: gr.Button(visible=user_id is not None),
            }

        # ---------------------------------------------------------------- load / restore
        def on_load(stored: str, request: gr.Request):
            try:
                data = json.loads(stored or "{}")
            except (TypeError, ValueError):
                data = {}
            caller = service.caller(request)
            sid_value = service.restore(data.get("sid"), caller)
            choice = service.stored_persona(sid_value) if service.ready else None
            if choice is None:
                choice = service.persona(data.get("user")) or ""
            out = page(sid_value, choice, caller)
            out.update({sid: sid_value, user: choice, bridge: _bridge(sid_value, choice),
                        header: _header(service, tagline)})
            return out

        load_outputs = [sid, user, bridge, header, forget_btn, *page_outputs]
        demo.load(on_load, [bridge], load_outputs, js=READ_TAB_JS, api_visibility="private",
                  show_progress="hidden")
        bridge.change(None, [bridge], None, js=WRITE_TAB_JS, api_visibility="private")

        def on_tick(sid_value: str, choice: str, request: gr.Request):
            if not service.ready:
                return {header: _header(service, tagline)}
            out = {}
            if sid_value:
                # The tab's session could not be checked while the agent was loading.
                caller = service.caller(request)
                checked = service.restore(sid_value, caller)
                if checked != sid_value:
                    choice = ""
                out = page(checked, choice, caller)
                out.update({sid: checked, user: choice, bridge: _bridge(checked, choice)})
            out.update({header: _header(service, tagline), timer: gr.Timer(active=False),
                        warming: gr.Timer(active=service.loader.warming)})
            return out

        timer.tick(on_tick, [sid, user],
                   [header, timer, warming, sid, user, bridge, forget_btn, *page_outputs],
                   api_visibility="private", show_progress="hidden")

        def on_warming_tick():
            return {header: _header(service, tagline), warming: gr.Timer(active=service.loader.warming)}

        warming.tick(on_warming_tick, None, [header, warming], api_visibility="private",
                     show_progress="hidden")

        # ---------------------------------------------------------------- chat
        def on_send(text: str, sid_value: str, choice: str, messages: list, request: gr.Request):
            text = text or ""
            if not text.strip() or not sid_value:
                yield {msg: text}
                return
            caller = service.caller(request)
            messages = list(messages or []) + [{"role": "user", "content": user_markdown(text)}]
            yield {msg: "", chatbot: messages}
            last = None
            for version in service.chat(sid_value, text, caller.user_id, caller, service.persona(choice)):
                if isinstance(version, Notice):
                    yield {chatbot: messages + [{"role": "assistant", "content": esc(version.text)}]}
                    return
                last = version
                # The agent holds the session while it streams: render from the reply itself.
                partial: dict[Any, Any] = {chatbot: messages + [{"role": "assistant",
                                                 "content": assistant_markdown(version.text)}]}
                if version.recommendations:
                    partial[cards] = cards_html(service.reply_cards(version))
                yield partial
            if last is not None:
                yield _only(page(sid_value, choice, caller, last_trace=last.trace), chat_outputs)

        chat_outputs = [msg, forget_btn, *[o for o in page_outputs if o is not who]]
        for trigger in (msg.submit, send.click):
            trigger(on_send, [msg, sid, user, chatbot], chat_outputs, api_visibility="private",
                    show_progress="minimal", show_progress_on=[chatbot], concurrency_id=AGENT_QUEUE)

        def on_example(sid_value: str, choice: str, messages: list, evt: gr.SelectData,
                       request: gr.Request):
            text = evt.value.get("text", "") if isinstance(evt.value, dict) else str(evt.value)
            yield from on_send(text, sid_value, choice, messages, request)

        chatbot.example_select(on_example, [sid, user, chatbot], chat_outputs, api_visibility="private",
                               show_progress="minimal", show_progress_on=[chatbot],
                               concurrency_id=AGENT_QUEUE)

        # ---------------------------------------------------------------- cards and profile
        def on_click(sid_value: str, choice: str, why: str, evt: gr.EventData, request: gr.Request):
            action = getattr(evt, "_data", {}) or {}
            kind, item, value = action.get("action"), action.get("item", ""), action.get("value", "")
            caller = service.caller(request)
            try:
                if kind == "why":
                    why = "" if why == item else item
                elif kind in FEEDBACK_KINDS and item:
                    service.feedback(sid_value, item, kind, caller)
                elif kind == "remove" and value:
                    service.remove(sid_value, value, caller)
            except RateLimited as exc:
                gr.Warning(rate_limit_text(exc.retry_after))
            except NotYours:
                gr.Warning(NOT_YOURS)
            except Exception as exc:  # noqa: BLE001 - one failed click must not break the page
                logger.exception("action %s on %s failed", kind, item or value)
                gr.Warning(f"That did not work: {exc}")
            return _only(page(sid_value, choice, caller, why), click_outputs)

        click_outputs = [forget_btn, *[o for o in page_outputs if o not in (who, trace)]]
        for source in (cards, profile):
            source.click(on_click, [sid, user, why_item], click_outputs, api_visibility="private",
                         show_progress="hidden")

        # ---------------------------------------------------------------- identity and data
        def on_who(choice: str, sid_value: str, current: str, request: gr.Request):
            choice = choice or ""
            caller = service.caller(request)
            new_sid = service.switch_user(sid_value, service.persona(current), service.persona(choice))
            out = _only(page(new_sid, choice, caller), who_outputs)
            out.update({sid: new_sid, user: choice, bridge: _bridge(new_sid, choice),
                        data_json: gr.JSON(visible=False), data_file: gr.File(visible=False)})
            return out

        who_outputs = [sid, user, bridge, forget_btn, data_json, data_file,
                       *[o for o in page_outputs if o is not who]]
        who.input(on_who, [who, sid, user], who_outputs, api_visibility="private")

        def on_reset(sid_value: str, choice: str, request: gr.Request):
            caller = service.caller(request)
            try:
                service.reset(sid_value, caller)
            except NotYours:
                gr.Warning(NOT_YOURS)
            return _only(page(sid_value, choice, caller), reset_outputs)

        reset_outputs = [forget_btn, *[o for o in page_outputs if o is not who]]
        reset_btn.click(on_reset, [sid, user], reset_outputs, api_visibility="private")
        chatbot.clear(on_reset, [sid, user], reset_outputs, api_visibility="private")

        def on_data(sid_value: str, request: gr.Request):
            # Served from memory as a data: link: no export file is ever written on the server.
            data = service.export(sid_value, service.caller(request))
            return gr.JSON(value=data, visible=True), gr.HTML(value=_download_link(data), visible=True)

        data_btn.click(on_data, [sid], [data_json, data_file], api_visibility="private")

        def on_forget(sid_value: str, choice: str, request: gr.Request):
            caller = service.caller(request)
            deleted = service.forget(sid_value, caller)
            gr.Info(f"Deleted what chatrec stored about {service.who_label(caller.user_id).lower()} "
                    f"({sum(len(v) for v in deleted.values() if isinstance(v, list))} records).")
            out = _only(page(sid_value, choice, caller), forget_outputs)
            out.update({data_json: gr.JSON(visible=False), data_file: gr.File(visible=False)})
            return out

        forget_outputs = [forget_btn, data_json, data_file, *[o for o in page_outputs if o is not who]]
        forget_btn.click(on_forget, [sid, user], forget_outputs, api_visibility="private")

        register_api(service, concurrency_id=AGENT_QUEUE)

    demo.queue(default_concurrency_limit=concurrency, max_size=512)
    _GATES[demo] = gate_middleware(service.identities.keys, login_limiter)
    return demo


def _header(service: ChatService, tagline: str) -> str:
    status = service.loader.status()
    label, on = service.llm_label()
    message = status.message if status.state != "loading" else f"{status.message} {status.elapsed_s:.0f}s"
    return header_html(service.catalog_label(), label, on, status.state, message, tagline)


def _choices_with(choices: list[tuple[str, str]], value: str) -> list[tuple[str, str]]:
    """The dropdown's choices, with ``value`` in them even before the catalog's users are known
    (a reload while the agent is still loading)."""
    if value and value not in {v for _, v in choices}:
        return [*choices, (value, value)]
    return choices


def _only(values: dict, outputs: list) -> dict:
    """The part of a page update that an event declared as its outputs."""
    wanted = {id(o) for o in outputs}
    return {k: v for k, v in values.items() if id(k) in wanted}


def _bridge(sid_value: str, choice: str) -> str:
    return json.dumps({"sid": sid_value, "user": choice or ""})


def _download_link(data: dict) -> str:
    payload = base64.b64encode(json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")).decode()
    return (f'<a class="download" download="chatrec-my-data.json" '
            f'href="data:application/json;charset=utf-8;base64,{payload}">Download as JSON</a>')
