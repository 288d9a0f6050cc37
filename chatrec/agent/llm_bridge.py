"""The agent's side of the LLM: when to call it, and how little to trust it.

Three optional tasks per turn, within a budget (default at most 2 calls and ~2,500 prompt tokens):

- **understand** — only when the rule reading is weak (no entities, unknown titles, chit-chat that
  may be a request). Every title, person, genre and keyword the LLM returns is re-resolved against
  the catalog/KG; what does not resolve is dropped and logged; it can add to the rule reading,
  never remove from it.
- **rerank** — the top fused candidates (ids + one line each) go to the LLM with a template
  profile summary; ids outside the list are discarded; the fused order fills in.
- **phrase** — the LLM writes the reply from the chosen items and their KG facts only; the guard
  verifies the text (sentence by sentence when streaming) and the template reply is used when it
  fails. The trace says which text was used and why.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from rapidfuzz import fuzz

from chatrec.agent.models import Constraints, DialogueAct, Trace
from chatrec.catalog.constraints import ConstraintOrigin
from chatrec.catalog.normalize import label_key
from kg.models import GENRE, ITEM, KEYWORD, PERSON, item_node, node_value

if TYPE_CHECKING:  # pragma: no cover
    from chatrec.agent.query import UserContext
    from chatrec.agent.retrieve import Candidate
    from chatrec.agent.state import SessionState
    from chatrec.catalog.models import Catalog
    from chatrec.protocols import Graph, Linker

logger = logging.getLogger(__name__)

TASKS = ("understand", "rerank", "phrase")
RERANK_CANDIDATES = 15
MIN_YEAR = 1880
LLM_CERTAINTY = 0.5   # a constraint only the LLM's reading holds (the rules' readings are 0.6–0.9)


class AgentLLM:
    """LLM components bound to one agent's policy.

    Args:
        llm: a ``chatrec.llm.LLM`` (deadlines, retries, breaker, accounting).
        tasks: which of understand / rerank / phrase to use.
        max_calls: LLM calls per turn.
        max_prompt_tokens: prompt tokens per turn (server-reported).
        turn_deadline_s: wall-clock budget of all LLM work in one turn.
    """

    def __init__(self, llm, tasks: tuple[str, ...] = TASKS, max_calls: int = 2,
                 max_prompt_tokens: int = 2500, turn_deadline_s: float = 15.0):
        from chatrec.llm import LLMPhraser, LLMReranker, LLMUnderstander

        self.llm = llm
        self.tasks = tuple(t for t in tasks if t in TASKS)
        self.max_calls = max_calls
        self.max_prompt_tokens = max_prompt_tokens
        self.turn_deadline_s = turn_deadline_s
        self.understander = LLMUnderstander(llm)
        self.reranker = LLMReranker(llm)
        self.phraser = LLMPhraser(llm)

    @property
    def name(self) -> str:
        return self.llm.model_id

    def new_turn(self):
        """A fresh budget for one turn (make it current with ``use``)."""
        return self.llm.new_turn(deadline_s=self.turn_deadline_s, max_calls=self.max_calls,
                                 max_prompt_tokens=self.max_prompt_tokens)

    def use(self, budget):
        return self.llm.use(budget)

    # ------------------------------------------------------------------ understand
    @staticmethod
    def rules_are_weak(act: DialogueAct, message: str) -> bool:
        """Worth an LLM reading: the rules found nothing to act on in a message that says
        something, or named a title we could not find."""
        if act.unknown_titles:
            return True
        if act.intent in ("greeting", "thanks", "reset", "rate", "ask_about"):
            return False
        found = (act.liked_items or act.disliked_items or act.seen_items or act.liked_attributes
                 or act.disliked_attributes or act.refinements or act.target_item
                 or not act.constraints.is_empty())
        return not found and len(message.split()) >= 3

    def understand(self, act: DialogueAct, message: str, state: SessionState, linker: Linker, kg: Graph,
                   trace: Trace) -> DialogueAct:
        if "understand" not in self.tasks or not self.rules_are_weak(act, message):
            return act
        reading = self.understander.read(state.turns[:-1] if state.turns else [], message)
        if reading is None:
            trace.notes.append("LLM understanding unavailable: rule reading used")
            return act
        said = " ".join([*(t.text for t in state.turns[-6:]), message])
        return merge_reading(act, reading, linker, kg, trace, said=said, message=message,
                             current=state.constraints)

    # ------------------------------------------------------------------ rerank
    def rerank(self, chosen: list[Candidate], candidates: list[Candidate], context: UserContext, catalog: Catalog,
               trace: Trace, taste: str | None = None) -> list[Candidate]:
        """``chosen`` reordered by the LLM from the top fused ``candidates``; ``taste``: a summary
        of the user's ratings written by ``chatrec augment``."""
        if "rerank" not in self.tasks or len(candidates) <= 1:
            return chosen
        pool = candidates[:RERANK_CANDIDATES]
        lines = [(c.item_id, _candidate_line(catalog[c.item_id])) for c in pool]
        summary = profile_summary(context, catalog, taste)
        picks = self.reranker.rerank(summary, context.state.turns, lines, len(chosen))
        if not picks:
            trace.notes.append("LLM rerank unavailable: fused order used")
            return chosen
        by_id = {c.item_id: c for c in pool}
        ordered = [by_id[item_id] for item_id, _ in picks if item_id in by_id]
        for cand in chosen:  # fill from the fused (diversified) order
            if len(ordered) >= len(chosen):
                break
            if cand not in ordered:
                ordered.append(cand)
        trace.notes.append(f"LLM rerank used ({len(picks)} picks)")
        return ordered[: len(chosen)]

    # ------------------------------------------------------------------ phrase
    def wants_to_phrase(self, recommendations: list) -> bool:
        """Phrase only when there is something to say and the turn's budget has room left."""
        from chatrec.llm.client import current_turn

        budget = current_turn()
        return ("phrase" in self.tasks and bool(recommendations)
                and (budget is None or budget.skip_reason() is None))

    def phrase(self, recommendations: list, state: SessionState) -> str | None:
        return self.phraser.phrase(_items_with_own_facts(recommendations), state.turns[:-1])

    def stream_phrase(self, recommendations: list, state: SessionState):
        return self.phraser.stream_sentences(_items_with_own_facts(recommendations), state.turns[:-1])


def _items_with_own_facts(recommendations: list) -> list[tuple]:
    """Each item with the evidence edges whose subject it is. An explanation's path also holds
    edges of the item it connects to ("written by X, who directed Toy Story"), and the prompt lists
    facts under their title: an edge of another item there reads as a fact of this one, which an
    honest model then states and the guard rightly rejects."""
    return [(r.item, [f for f in r.evidence if f.subject == item_node(r.item.id)]) for r in recommendations]


def _candidate_line(item) -> str:
    parts = [item.display]
    if item.genres:
        parts.append(", ".join(item.genres[:3]))
    if item.directors:
        parts.append("dir. " + item.directors[0])
    if item.cast:
        parts.append("with " + ", ".join(item.cast[:2]))
    return " — ".join(parts)


def profile_summary(context: UserContext, catalog: Catalog, taste: str | None = None) -> str:
    """A short summary of what we know (no LLM call: it has to be cheap). A taste summary that
    ``chatrec augment`` wrote for a user with a rating history comes first (the prompt cuts the
    profile at its end); it only informs the reranker, whose output is checked ids."""
    parts = []
    state = context.state
    if taste:
        parts.append("Taste (from their ratings): " + taste.rstrip("."))
    liked = context.liked[:6]
    liked += [i for i in context.history.favourites[:6] if i not in liked]
    if liked:
        parts.append("Liked: " + "; ".join(catalog[i].display for i in liked[:8]))
    disliked = [catalog[i].display for i in state.disliked_items[-5:] if i in catalog]
    if disliked:
        parts.append("Disliked: " + "; ".join(disliked))
    from chatrec.agent.templates import constraint_summary

    wants = constraint_summary(state.constraints)
    if wants:
        parts.append("Wants: " + wants)
    return ". ".join(parts)


def _resolve(linker: Linker, name: str, kind: str) -> str | None:
    """The node a name from the LLM refers to, or None. Items must resolve by title."""
    try:
        nodes = linker.resolve(name, kind)
    except Exception:  # noqa: BLE001
        logger.exception("resolving %r failed", name)
        return None
    return nodes[0] if nodes else None


def _said(name: str, text: str) -> bool:
    """Whether ``name`` was (nearly) written in ``text``: a title or person the LLM reports must
    come from the conversation, not from its prompt's example or its imagination."""
    name_key, text_key = label_key(name), label_key(text)
    return bool(name_key) and (name_key in text_key or fuzz.partial_ratio(name_key, text_key) >= 88)


_NEGATION = re.compile(r"\b(?:no|not|without|never|nothing|except|avoid|hate|dislike|don'?t|doesn'?t|"
                       r"can'?t stand|rather not|skip)\b", re.IGNORECASE)
_TIME_WORDS = re.compile(r"\d|\b(?:decade|century|recent|new|newer|old|older|classic|modern|"
                         r"twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties|"
                         r"noughties|aughts)\b", re.IGNORECASE)


def merge_reading(act: DialogueAct, reading, linker: Linker, kg: Graph, trace: Trace, *, said: str | None = None,
                  message: str | None = None, current: Constraints | None = None) -> DialogueAct:
    """Add what the LLM understood to the rule reading, after resolving every name.

    A weak model echoes its prompt's example or invents; so, when the conversation is given:
    titles and people must have been written in it (``said``), excluded genres need a negation
    and years a number or time word in the ``message``, and inferred genres never replace the
    session's ``current`` genre constraints (they only fill an empty request).
    """
    merged = act.model_copy(deep=True)
    dropped: list[str] = []
    unsaid: list[str] = []

    def items(names: list[str]) -> list[str]:
        out = []
        for name in names:
            if said is not None and not _said(name, said):
                unsaid.append(name)
                continue
            node = _resolve(linker, name, ITEM)
            if node is None:
                dropped.append(name)
            else:
                out.append(node_value(node))
        return out

    def nodes(names: list[str], kind: str) -> list[str]:
        out = []
        for name in names:
            if said is not None and kind == PERSON and not _said(name, said):
                unsaid.append(name)
                continue
            node = _resolve(linker, name, kind)
            if node is None:
                dropped.append(name)
            else:
                out.append(node)
        return out

    def add(target: list[str], values: list[str]) -> None:
        for value in values:
            if value not in target:
                target.append(value)

    add(merged.liked_items, items(reading.liked_titles))
    add(merged.disliked_items, items(reading.disliked_titles))
    add(merged.seen_items, items(reading.seen_titles))
    liked_people = nodes(reading.liked_people, PERSON)
    add(merged.liked_attributes, liked_people)
    disliked_people = nodes(reading.disliked_people, PERSON)
    add(merged.disliked_attributes, disliked_people)
    c = merged.constraints
    add(c.people_none, [kg.label(n) for n in disliked_people])
    genres = [kg.label(n) for n in nodes(reading.genres, GENRE)]
    excluded = [kg.label(n) for n in nodes(reading.excluded_genres, GENRE)]
    if excluded and message is not None and not _NEGATION.search(message):
        unsaid.extend(f"no {g}" for g in excluded)
        excluded = []
    requested = current is not None and bool(current.genres_all or current.genres_any)
    if genres and not (c.genres_all or c.genres_any) and not requested:
        c.genres_any = [g for g in genres if g not in c.genres_none]
    add(c.genres_none, excluded)
    add(merged.liked_attributes, nodes(reading.keywords, KEYWORD))
    years_said = message is None or bool(_TIME_WORDS.search(message))
    if c.year_min is None and c.year_max is None and years_said:
        import datetime

        latest = datetime.date.today().year
        low = reading.year_min if reading.year_min and MIN_YEAR <= reading.year_min <= latest else None
        high = reading.year_max if reading.year_max and MIN_YEAR <= reading.year_max <= latest + 3 else None
        if low is not None and high is not None and high < low:
            low = high = None
        c.year_min, c.year_max = low, high
    if reading.about_title and merged.target_item is None:
        target = items([reading.about_title])
        if target:
            merged.target_item = target[0]
            if reading.item_question and merged.item_question is None:
                merged.item_question = reading.item_question
    if not merged.query_text and reading.query_text and act.intent in ("recommend", "refine", "chitchat"):
        merged.query_text = reading.query_text
    # The intent: the rules win unless they saw nothing but chit-chat/feedback and the LLM
    # found a request with something resolvable in it.
    has_content = bool(merged.liked_items or merged.liked_attributes or genres
                       or c.year_min or c.year_max or merged.query_text)
    if act.intent in ("chitchat", "feedback") and reading.intent in ("recommend", "refine") and has_content:
        merged.intent = "recommend"
    elif act.intent == "chitchat" and reading.intent in ("ask_about", "rate") and merged.target_item:
        merged.intent = reading.intent
        merged.liked_items = [i for i in merged.liked_items if i != merged.target_item]
    merged.source = "merged"
    # What only the LLM read is an inference: relaxed before anything the rules read.
    for unit in set(merged.constraints.units()) - set(act.constraints.units()):
        merged.constraints.origins[unit] = ConstraintOrigin(source="inference", certainty=LLM_CERTAINTY,
                                                            said="read by the LLM")
    if unsaid:
        logger.info("LLM reading: ignored what the conversation does not say: %s", unsaid)
        trace.notes.append(f"LLM reading ignored (not in the conversation): {', '.join(u[:40] for u in unsaid[:5])}")
    if dropped:
        logger.info("LLM reading: dropped names that resolve to nothing: %s", dropped)
        trace.notes.append(f"LLM names dropped (not in catalog/KG): {', '.join(d[:40] for d in dropped[:5])}")
    return merged


def make_agent_llm(llm=None, settings=None) -> AgentLLM | None:
    """The agent's LLM from an argument or the settings.

    ``llm``: None reads ``CHATREC_LLM`` (no LLM when unset); a ``chatrec.llm.LLM`` is used as is;
    any LangChain ``BaseChatModel`` is wrapped with chatrec's deadlines, retries and breaker.
    """
    from chatrec.config import get_settings
    from chatrec.llm import LLM

    settings = settings or get_settings()
    if llm is None:
        wrapped = LLM.from_settings(settings)
    elif isinstance(llm, LLM):
        wrapped = llm
    else:
        wrapped = LLM(llm, timeout=settings.llm_timeout, max_retries=settings.llm_max_retries)
    if wrapped is None:
        return None
    tasks = tuple(t.strip() for t in settings.llm_tasks.split(",") if t.strip())
    return AgentLLM(wrapped, tasks=tasks, max_calls=settings.llm_max_calls,
                    max_prompt_tokens=settings.llm_max_prompt_tokens,
                    turn_deadline_s=settings.llm_turn_deadline)
