"""An LLM simulated user in the iEvaLM style (Wang et al., 2023, "Rethinking the evaluation for
conversational recommendation in the era of large language models").

The LLM plays a seeker who wants one hidden movie. It is told the movie's attributes (the scripted
user's plan: genres, the decade, keywords, at most one person), never its title, and it writes
each message itself, reacting to what the recommender actually answered.

What stays the scripted protocol's, and why:

- **Pace.** A scripted ``SimulatedUser`` with the same seed runs in the LLM's shadow and decides
  what is *new* in each message (at most one attribute, the reason to turn a list down); the LLM
  is asked to say that in its own words. So both simulators reveal the same things at the same
  turns, and what differs is the language, which is what an LLM simulator is there to test.
- **Acceptance** is judged by code (the target among the top k shown), never by the LLM.
- **Leakage and garbage.** Every LLM message is vetted: one naming the target's title (normalised
  match), empty, garbage (too few words, symbols, loops, echoed instructions, talking as the
  recommender) or too long is replaced by the shadow's scripted message for that turn, and the
  reason is recorded, so the report can say how many were replaced.
- **Reproducibility.** Temperature 0, the run's seed sent to the server, and every raw response
  cached on disk (JSONL, keyed by model + prompt digest + seed + generation settings): a rerun
  makes no LLM call and reproduces the results exactly. Failed calls are not cached (a rerun
  tries them again).

The simulator's calls run in their own ``LLM.turn()`` budgets on their own ``LLM`` object, so
they never spend the agent's per-turn LLM budget (in ``eval sim`` the agent runs without one).
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatrec.catalog.normalize import label_key, strip_accents, title_key
from chatrec.config import Settings
from chatrec.errors import ConfigError
from chatrec.evaluation import phrases as P
from chatrec.evaluation.user import Attribute, SimulatedUser, SystemTurn, Utterance
from chatrec.llm.phrase import tidy
from chatrec.llm.summarize import SummaryCache
from chatrec.prompts.base import Message, Prompt

PROMPT_NAME = "sim_user"
PROMPT_VERSION = "2"  # part of every cache key: bump when the prompt or request changes
MAX_TOKENS = 80
MAX_CHARS = 300  # a seeker's chat message; longer is a model rambling
MIN_WORDS = 2
HISTORY_TURNS = 2  # earlier exchanges shown to the LLM (small models lose the thread beyond)
RECOMMENDER_CHARS = 500
GREETING = "Hi! What kind of movie are you looking for?"
# Failed calls in a row after which the run stops (none ok yet: the server is not there at all).
FAIL_FIRST, FAIL_LATER = 3, 10

NOT_CONFIGURED = (
    "--simulator llm needs an LLM: set CHATREC_LLM=<model> and CHATREC_LLM_BASE_URL=<url of an "
    "OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1>, or CHATREC_LLM=openai:<model> "
    "with OPENAI_API_KEY"
)

SYSTEM_PROMPT = """You are a person chatting with a movie recommender to find a movie to watch.
You have one particular movie in mind, but you do not know its title and you never guess one.
What you know about the movie you want:
{profile}
How to talk:
- Write only your own next message: one or two short sentences, plain words.
- Never name a movie title.
- Each message adds the one new detail you are asked to mention, nothing else.
- If the recommender shows movies, none of them is the one you want: say no, and why.
- If the recommender asks a question, answer it."""

# A seeker does not recommend: these are a model playing the wrong side of the chat.
_RECOMMENDER_TALK = re.compile(
    r"\b(i (would |'d |can )?recommend|you (might|may|would|will) (like|enjoy|love)|here are "
    r"(some|a few)|how about (watching|trying)|i suggest|happy to (help|recommend)|sorry for the "
    r"confusion)\b",
    re.IGNORECASE,
)
_ROLE_LABEL = re.compile(
    r"^\s*(recommender|assistant|system|bot|ai|seeker|user|me|you)\s*:\s*", re.IGNORECASE
)
_TEMPLATE_MARKUP = re.compile(r"[{}<>|#\[\]]|\bnote\s*:", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z']+")
_LISTING = re.compile(r"\(\d{4}[;)]|^\s*movie\s*\d+\s*:", re.IGNORECASE)
ECHO_WINDOW = 6


# ---------------------------------------------------------------- the LLM and its cache


@dataclass
class SimulatorLLM:
    """The simulator's LLM calls: cached, seeded, counted.

    Attributes:
        llm: a ``chatrec.llm.LLM`` of its own (not the agent's).
        seed: sent to the server with every request; part of the cache key.
        cache: raw responses on disk (the summaries' append-only JSONL store).
        stats: this process's calls (made, ok, failed, from cache, tokens of the calls made).
    """

    llm: Any
    seed: int
    cache: SummaryCache
    max_tokens: int = MAX_TOKENS
    stats: dict[str, int] = field(
        default_factory=lambda: {
            "calls": 0,
            "ok": 0,
            "failed": 0,
            "cache_hits": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
        }
    )
    _failures_in_row: int = 0

    @property
    def model_id(self) -> str:
        return self.llm.model_id

    def key(self, prompt: Prompt) -> str:
        payload = f"{self.model_id}\n{prompt.digest()}\n{self.seed}\n{self.max_tokens}\n0.0"
        return hashlib.sha256(payload.encode()).hexdigest()

    def ask(self, prompt: Prompt) -> tuple[str | None, dict[str, Any]]:
        """The raw answer to ``prompt`` (None when the call failed) and its cache entry's
        accounting (key, tokens). Raises ``ConfigError`` when the server keeps failing."""
        key = self.key(prompt)
        cached = self.cache.record(key)
        if cached is not None:
            self.stats["cache_hits"] += 1
            return cached["text"], _usage(cached)
        # A turn of its own: the simulator never spends an agent turn's budget.
        with self.llm.turn(deadline_s=self.llm.call_deadline, max_calls=1):
            text, call = self.llm.complete(
                prompt, "simulate_user", max_tokens=self.max_tokens, temperature=0.0
            )
        self.stats["calls"] += 1
        self.stats["prompt_tokens"] += call.prompt_tokens
        self.stats["completion_tokens"] += call.completion_tokens
        # An empty answer is the model's real (deterministic) answer, not a failure: cache it.
        empty = call.error is not None and call.error.startswith("unusable output")
        if text is None and not empty:
            self.stats["failed"] += 1
            self._failures_in_row += 1
            limit = FAIL_LATER if self.stats["ok"] else FAIL_FIRST
            if self._failures_in_row >= limit:
                raise ConfigError(
                    f"the simulator LLM ({self.model_id}) failed {self._failures_in_row} calls "
                    f"in a row ({call.error}); is the server at CHATREC_LLM_BASE_URL running? "
                    "Run again to resume (finished users and cached answers are kept)."
                )
            return None, {"key": key, "prompt_tokens": 0, "completion_tokens": 0}
        self.stats["ok"] += 1
        self._failures_in_row = 0
        record = {
            "model": self.model_id,
            "seed": self.seed,
            "text": text or "",
            "prompt_tokens": call.prompt_tokens,
            "completion_tokens": call.completion_tokens,
            "at": time.time(),
        }
        self.cache.put(key, record)
        return record["text"], _usage({"key": key, **record})


def _usage(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": entry["key"],
        "prompt_tokens": int(entry.get("prompt_tokens", 0)),
        "completion_tokens": int(entry.get("completion_tokens", 0)),
    }


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:80] or "model"


def make_simulator_llm(
    settings: Settings, seed: int, cache_dir: Path | None = None, llm: Any = None
) -> SimulatorLLM:
    """The simulator's LLM from the settings (``CHATREC_LLM``...), seeded.

    Args:
        settings: chatrec settings.
        seed: the run's seed (sent to the server with every request).
        cache_dir: where responses are cached (default ``$CHATREC_HOME/llm-cache``).
        llm: an ``LLM`` to use instead of the configured one.

    Raises:
        ConfigError: no LLM is configured (or its settings are invalid).
    """
    if llm is None:
        from chatrec.llm.client import LLM

        llm = LLM.from_settings(settings)
        if llm is None:
            raise ConfigError(NOT_CONFIGURED)
    # The seed goes into every request body (OpenAI-compatible servers honour it; llama.cpp
    # seeds its sampler with it). A copy, so a model shared with anything else is untouched.
    if "seed" in getattr(type(llm.model), "model_fields", {}):
        llm.model = llm.model.model_copy(update={"seed": seed})
    directory = Path(cache_dir) if cache_dir is not None else settings.llm_cache_dir
    cache = SummaryCache(directory / f"sim-user-{_slug(llm.model_id)}.jsonl")
    return SimulatorLLM(llm=llm, seed=seed, cache=cache)


# ---------------------------------------------------------------- vetting


def leaks_title(text: str, titles: list[str]) -> bool:
    """Does ``text`` name one of ``titles``? Normalised (case, accents, punctuation, a leading
    article, "&"); a one-word title only capitalised ("Heat", "HEAT"), since "heat" or "up" in
    a sentence is no title."""
    said = f" {label_key(text.replace('&', ' and '))} "
    for title in titles:
        key = title_key(title)
        # The key ("matrix") and the title as displayed ("the matrix"): several words are a
        # title wherever they appear.
        for phrase in (key, label_key(title.replace("&", " and "))):
            if " " in phrase and f" {phrase} " in said:
                return True
        if not key or " " in key:
            continue
        word = strip_accents(title.split()[-1]).strip(".,:;!?")
        pattern = rf"(?<!\w){re.escape(word)}(?!\w)"
        for found in re.finditer(pattern, strip_accents(text), re.IGNORECASE) if word else ():
            if found.group(0)[0].isupper() or not word[0].isalpha():
                return True
    return False


def _shingles(text: str, n: int = ECHO_WINDOW) -> set[tuple[str, ...]]:
    words = [w.lower() for w in _WORD.findall(text)]
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def clean(raw: str) -> str:
    """The seeker's message out of a raw answer: up to where the model starts writing the other
    side of the chat (a role label on a new line) or a second paragraph; no leading role label,
    markdown or wrapping quotes."""
    first = re.split(r"\n\s*\n", raw.strip(), maxsplit=1)[0]
    kept: list[str] = []
    for n, line in enumerate(first.splitlines()):
        if n and _ROLE_LABEL.match(line):
            break
        kept.append(line)
    return tidy(_ROLE_LABEL.sub("", tidy(" ".join(kept)), count=1))


def vet(raw: str, titles: list[str], prompt: Prompt) -> tuple[str | None, str | None]:
    """``(message, None)`` when the raw answer can be sent, else ``(None, reason)`` with reason
    one of empty, title, too_long, garbage, echo (of the instructions or the recommender),
    repeat (the seeker's own earlier message again: a loop), role (talks as the recommender)."""
    text = clean(raw)
    if not text:
        return None, "empty"
    if leaks_title(text, titles):
        return None, "title"
    if len(text) > MAX_CHARS:
        return None, "too_long"
    words = _WORD.findall(text)
    letters = sum(ch.isalpha() for ch in text)
    if len(words) < MIN_WORDS or letters < 0.6 * len(text.replace(" ", "")):
        return None, "garbage"
    if _TEMPLATE_MARKUP.search(text):
        return None, "garbage"
    lowered = [w.lower() for w in words]
    if len(words) >= 8 and max(lowered.count(w) for w in set(lowered)) > 0.4 * len(words):
        return None, "garbage"  # a loop: "movie movie movie ..."
    # The persona and the recommender's messages, not the seeker's own earlier ones: saying
    # "from the 90s" twice is no echo. "Title (1995; drama)" is the listing's format copied.
    theirs = [m for m in prompt.messages if m.role != "assistant"]
    if _LISTING.search(text) or any(_shingles(text) & _shingles(m.content) for m in theirs):
        return None, "echo"
    own = {label_key(m.content) for m in prompt.messages if m.role == "assistant"}
    if label_key(text) in own:
        return None, "repeat"
    if _RECOMMENDER_TALK.search(text):
        return None, "role"
    return text, None


# ---------------------------------------------------------------- what to say


def describe(attribute: Attribute) -> str:
    """One attribute in plain words, for the profile and the per-turn instruction."""
    if attribute.kind == "genre":
        return f"it is {P.with_article(P.GENRE_NOUN.get(attribute.value, attribute.value))}"
    if attribute.kind == "decade":
        return f"it is from the {P.decade_forms(int(attribute.value))['long']}"
    if attribute.kind == "keyword":
        return f"it is about or known for: {attribute.value}"
    if attribute.kind == "director":
        return f"it is directed by {attribute.value}"
    return f"{attribute.value} acts in it"


def instruction(scripted: Utterance, shadow: SimulatedUser) -> str:
    """What the next message must convey: the new content of the shadow's scripted message."""
    meaning = scripted.meaning
    parts: list[str] = []
    if meaning.rejects:
        why = ""
        if meaning.newer_than is not None:
            why = ": they are all too old, you want a newer one"
        elif meaning.older_than is not None:
            why = ": they are all too recent, you want an older one"
        elif meaning.excludes_genres:
            noun = P.GENRE_PLURAL.get(meaning.excludes_genres[0], meaning.excludes_genres[0])
            why = f": you do not want {noun}"
        elif any(t.startswith("want_genre") for t in scripted.templates):
            said = [a.value for a in shadow.told.reveals if a.kind == "genre"]
            wanted = [g for g in said if P.GENRE_NOUN.get(g, g) in scripted.text] or said
            if wanted:
                why = f": you really want {P.with_article(P.GENRE_NOUN.get(wanted[0], wanted[0]))}"
        parts.append("none of those movies is the one" + why)
    parts += [describe(a) for a in meaning.reveals]
    if not parts:
        return "you have nothing new to add: ask them to pick something that fits what you said"
    return "; ".join(parts)


def render_system(system: SystemTurn, catalog) -> str:
    """The recommender's turn as the seeker sees it: its text and the movies it showed (year and
    genres, so the seeker can say what is wrong with them)."""
    text = " ".join((system.text or "").split())[:RECOMMENDER_CHARS]
    shown = []
    for item_id in system.items[:10]:
        if item_id in catalog:
            item = catalog[item_id]
            facts = [str(item.year)] if item.year else []
            facts += [", ".join(item.genres[:3])] if item.genres else []
            shown.append(item.title + (f" ({'; '.join(facts)})" if facts else ""))
    if not text:
        text = "Here are some movies for you." if shown else "Tell me more."
    lines = [f"Recommender: {text}"]
    if shown:
        lines.append("Movies shown: " + "; ".join(shown))
    return "\n".join(lines)


def build_prompt(
    plan: list[Attribute], history: list[tuple[str, str]], recommender: str, todo: str
) -> Prompt:
    """System persona with the profile, the last exchanges, and the recommender's message with
    what to say next. The LLM is the seeker: the recommender speaks as "user", it as
    "assistant"."""
    profile = "\n".join(f"- {describe(a)}" for a in plan) or "- nothing in particular"
    messages = [Message(role="system", content=SYSTEM_PROMPT.format(profile=profile))]
    for role, text in history[-2 * HISTORY_TURNS :]:
        messages.append(Message(role=role, content=text))  # type: ignore[arg-type]
    messages.append(
        Message(
            role="user",
            content=f"{recommender}\n\n(Write your reply. Mention this: {todo}.)",
        )
    )
    return Prompt(name=PROMPT_NAME, version=PROMPT_VERSION, messages=tuple(messages))


# ---------------------------------------------------------------- the user


@dataclass
class LLMUtterance(Utterance):
    """An utterance with its LLM record: used or replaced (and why), the scripted text, tokens."""

    llm: dict[str, Any] = field(default_factory=dict)


class LLMSimulatedUser:
    """The LLM seeker, with the scripted user of the same seed in its shadow.

    Same interface as ``SimulatedUser`` for the harness: ``opening()``, ``reply(system)``,
    ``target``, ``told`` (what the scripted shadow has conveyed: the consistency counter's
    input), ``plan``.
    """

    def __init__(self, shadow: SimulatedUser, llm: SimulatorLLM):
        self.shadow = shadow
        self.llm = llm
        self.titles = [shadow.target.title, *shadow.target.aliases]
        self.history: list[tuple[str, str]] = []

    @property
    def target(self):
        return self.shadow.target

    @property
    def told(self):
        return self.shadow.told

    @property
    def plan(self) -> list[Attribute]:
        return self.shadow.plan

    def opening(self) -> Utterance:
        scripted = self.shadow.opening()
        return self._speak(f"Recommender: {GREETING}", scripted)

    def reply(self, system: SystemTurn) -> Utterance:
        scripted = self.shadow.reply(system)
        if scripted.meaning.accepted:
            return scripted  # accepting is the harness's decision, never the LLM's
        return self._speak(render_system(system, self.shadow.catalog), scripted)

    def _speak(self, recommender: str, scripted: Utterance) -> Utterance:
        prompt = build_prompt(
            self.plan, self.history, recommender, instruction(scripted, self.shadow)
        )
        raw, usage = self.llm.ask(prompt)
        text, reason = vet(raw, self.titles, prompt) if raw is not None else (None, "failed")
        record = {"used": text is not None, "reason": reason, "scripted": scripted.text, **usage}
        if text is None:
            record["raw"] = (raw or "")[:MAX_CHARS]
            utterance: Utterance = LLMUtterance(
                scripted.text, scripted.meaning, scripted.templates, llm=record
            )
        else:
            utterance = LLMUtterance(text, scripted.meaning, ["llm"], llm=record)
        self.history += [("user", recommender), ("assistant", utterance.text)]
        return utterance


# ---------------------------------------------------------------- results


def llm_summary(records: list[dict], systems: list[str]) -> dict[str, Any]:
    """What the LLM simulator did, from the run's records (so it is the same on a rerun or a
    resumed run): utterances asked of the LLM, used, replaced by reason, and the distinct calls
    and tokens it takes to make them from an empty cache."""
    out: dict[str, Any] = {"systems": {}}
    calls: dict[str, tuple[int, int]] = {}
    total = {"utterances": 0, "used": 0, "replaced": 0, "by_reason": {}}
    for name in systems:
        mine = {"utterances": 0, "used": 0, "replaced": 0, "by_reason": {}}
        for record in records:
            for turn in record["systems"].get(name, {}).get("turns", []):
                info = turn.get("llm")
                if not info:
                    continue
                for tally in (mine, total):
                    tally["utterances"] += 1
                    tally["used" if info["used"] else "replaced"] += 1
                    if info["reason"]:
                        tally["by_reason"][info["reason"]] = (
                            tally["by_reason"].get(info["reason"], 0) + 1
                        )
                if info.get("key") and info["reason"] != "failed":
                    calls[info["key"]] = (info["prompt_tokens"], info["completion_tokens"])
        out["systems"][name] = mine
    out.update(total)
    out["distinct_calls"] = len(calls)
    out["prompt_tokens"] = sum(p for p, _ in calls.values())
    out["completion_tokens"] = sum(c for _, c in calls.values())
    return out
