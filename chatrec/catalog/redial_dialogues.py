"""ReDial dialogues for replay: the raw release schema, iEvaLM's preprocessed dialogues and
iEvaLM's processed turns, turned into one shape (``Dialogue`` of merged ``Message``s) and scored
turns with their gold movies.

**Leakage.** Readers keep only what the protocol allows: ``conversationId``, the worker ids and
each message's ``senderWorkerId`` and ``text``. ``movieMentions``, the initiator/respondent
questionnaires and iEvaLM's per-message ``item``/``entity``/``thread`` fields list movies of the
whole dialogue (future ones included) and are dropped at parse time, so nothing downstream can
read them. Movie names come from the catalog's ``id2info.json``, never from ``movieMentions``.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from chatrec.errors import CatalogFormatError

Role = Literal["seeker", "recommender"]
MENTION = re.compile(r"@(\d+)")
_SPACES = re.compile(r"\s+")


@dataclass
class Message:
    """One merged turn: consecutive messages of one sender joined with a space.

    Attributes:
        role: "seeker" (the initiator) or "recommender" (the respondent).
        text: the raw text with ``@id`` mentions (processed turns: titles already inlined).
        ids: distinct ReDial ids mentioned, in order of first mention.
    """

    role: Role
    text: str
    ids: list[str] = field(default_factory=list)


@dataclass
class Dialogue:
    conversation_id: str
    messages: list[Message]


@dataclass
class ScoredTurn:
    """A recommender turn to score: ``context`` is every earlier message; gold the turn's movies.

    Attributes:
        key: a unique, stable key ("<conversationId>:<message index>").
        gold: the turn's distinct movies; each an id group (a title several ids share).
        gold_new: the subset not mentioned earlier in the dialogue (the primary protocol).
        unmatched: gold titles of processed turns that match no catalog name (counted as misses).
    """

    key: str
    conversation_id: str
    index: int
    context: list[Message]
    gold: list[frozenset[str]]
    gold_new: list[frozenset[str]]
    response: str = ""
    unmatched: list[str] = field(default_factory=list)
    unmatched_new: list[str] = field(default_factory=list)

    @property
    def n_gold(self) -> int:
        return len(self.gold) + len(self.unmatched)

    @property
    def n_gold_new(self) -> int:
        return len(self.gold_new) + len(self.unmatched_new)


def normalise_name(name: str) -> str:
    """Whitespace-normalised, case-folded movie name ("Heat  (1995)" → "heat (1995)")."""
    return _SPACES.sub(" ", name).strip().casefold()


def fold_of(conversation_id: str, folds: int = 5) -> int:
    """A stable fold for a dialogue (crc32 of its id): the same split on every machine."""
    return zlib.crc32(str(conversation_id).encode()) % folds


def mentions(text: str) -> list[str]:
    return list(dict.fromkeys(MENTION.findall(text)))


# ---------------------------------------------------------------------------- files
def read_records(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, record) of a JSONL file or a JSON array."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    stripped = text.lstrip()
    if stripped.startswith("["):
        for number, record in enumerate(json.loads(stripped), 1):
            yield number, record
        return
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                raise CatalogFormatError(f"{path}:{number}: not JSON ({exc.msg})") from exc


def detect_format(path: Path) -> Literal["dialogues", "turns"]:
    """Which kind of file: "dialogues" (raw release or iEvaLM dialogues: ``messages``) or "turns" (iEvaLM processed
    turns: ``context`` + ``rec``)."""
    for number, record in read_records(Path(path)):
        if "messages" in record:
            return "dialogues"
        if "context" in record and "rec" in record:
            return "turns"
        raise CatalogFormatError(
            f"{path}:{number}: neither a ReDial dialogue (messages) nor a "
            "processed turn (context, rec)"
        )
    raise CatalogFormatError(f"{path}: no dialogues in the file")


def read_dialogues(path: Path) -> list[Dialogue]:
    """Dialogues of the raw release (unmerged messages) or of iEvaLM (already merged), merged.

    Only ``conversationId``, ``initiatorWorkerId``, ``respondentWorkerId`` and each message's
    ``senderWorkerId`` and ``text`` are read (see the module docstring)."""
    out: list[Dialogue] = []
    for number, record in read_records(Path(path)):
        try:
            cid = str(record["conversationId"])
            initiator = record["initiatorWorkerId"]
            messages = [(m["senderWorkerId"], str(m.get("text") or "")) for m in record["messages"]]
        except (KeyError, TypeError) as exc:
            raise CatalogFormatError(
                f"{path}:{number}: a ReDial dialogue needs conversationId, "
                f"initiatorWorkerId and messages[senderWorkerId, text] ({exc})"
            ) from exc
        out.append(Dialogue(cid, merge(messages, initiator)))
    return out


def merge(messages: Iterable[tuple[object, str]], initiator: object) -> list[Message]:
    """Join consecutive messages of one sender; the initiator is the seeker."""
    merged: list[Message] = []
    last_sender = object()
    for sender, text in messages:
        text = text.strip()
        role: Role = "seeker" if sender == initiator else "recommender"
        if merged and sender == last_sender:
            merged[-1].text = f"{merged[-1].text} {text}".strip()
        else:
            merged.append(Message(role, text))
        last_sender = sender
    for message in merged:
        message.ids = mentions(message.text)
    return [m for m in merged if m.text]


def scored_turns(dialogue: Dialogue) -> list[ScoredTurn]:
    """The recommender turns with at least one ``@id``, each with its context and gold."""
    turns: list[ScoredTurn] = []
    earlier: set[str] = set()
    for index, message in enumerate(dialogue.messages):
        if message.role == "recommender" and message.ids:
            gold = [frozenset({i}) for i in message.ids]
            turns.append(
                ScoredTurn(
                    key=f"{dialogue.conversation_id}:{index}",
                    conversation_id=dialogue.conversation_id,
                    index=index,
                    context=dialogue.messages[:index],
                    gold=gold,
                    gold_new=[g for g in gold if not g & earlier],
                    response=message.text,
                )
            )
        earlier.update(message.ids)
    return turns


def read_processed_turns(path: Path, names: dict[str, str]) -> list[ScoredTurn]:
    """iEvaLM's processed turns (``context`` list with titles inlined, ``rec`` titles).

    Roles alternate counted back from the scored turn (the last context entry is the seeker's);
    empty entries are placeholders. Gold titles are matched to catalog ids by whitespace-normalised
    name; several ids with one name form a group; titles matching none are ``unmatched``.

    Args:
        path: the JSONL file.
        names: ReDial id → name (``id2info.json``).
    """
    by_name: dict[str, set[str]] = {}
    for item_id, name in names.items():
        by_name.setdefault(normalise_name(name), set()).add(item_id)
    turns: list[ScoredTurn] = []
    for number, record in read_records(Path(path)):
        try:
            cid = str(record["dialog_id"])
            context_texts = [str(t or "") for t in record["context"]]
            rec = [str(t) for t in record["rec"]]
            turn_id = record.get("turn_id", number)
        except (KeyError, TypeError) as exc:
            raise CatalogFormatError(
                f"{path}:{number}: a processed turn needs dialog_id, context and rec ({exc})"
            ) from exc
        context: list[Message] = []
        for back, text in enumerate(reversed(context_texts)):
            role: Role = "seeker" if back % 2 == 0 else "recommender"
            if text.strip():
                context.append(Message(role, text.strip()))
        context.reverse()
        earlier = normalise_name(" \n ".join(m.text for m in context))
        gold, new, unmatched, unmatched_new = [], [], [], []
        for title in dict.fromkeys(rec):
            is_new = normalise_name(title) not in earlier
            ids = by_name.get(normalise_name(title))
            if not ids:
                unmatched.append(title)
                if is_new:
                    unmatched_new.append(title)
                continue
            group = frozenset(ids)
            gold.append(group)
            if is_new:
                new.append(group)
        turns.append(
            ScoredTurn(
                key=f"{cid}:{turn_id}:{number}",
                conversation_id=cid,
                index=int(turn_id),
                context=context,
                gold=gold,
                gold_new=new,
                response=str(record.get("resp", "")),
                unmatched=unmatched,
                unmatched_new=unmatched_new,
            )
        )
    return turns


def render(text: str, names: dict[str, str]) -> str:
    """Replace each ``@id`` by its movie name (unknown ids are dropped: the agent sees text only)."""

    def name(match: re.Match) -> str:
        found = names.get(match.group(1))
        return _SPACES.sub(" ", found).strip() if found else ""

    return _SPACES.sub(" ", MENTION.sub(name, text)).strip()


class NameFinder:
    """Finds movie names written out in text ("... like The Babadook (2014)"): for each "(year)"
    the longest run of preceding words that is a known name. Used to give the baselines the
    movies of a processed turn's context, where titles are inlined instead of ``@id``s.

    Args:
        names: ReDial id → name.
        max_words: longest name tried, in words.
    """

    _YEAR = re.compile(r"\(\s*\d{4}\s*\)")

    def __init__(self, names: dict[str, str], max_words: int = 14):
        self.by_name: dict[str, list[str]] = {}
        for item_id, name in names.items():
            self.by_name.setdefault(normalise_name(name), []).append(item_id)
        self.max_words = max_words

    def find(self, text: str) -> list[str]:
        found: list[str] = []
        for match in self._YEAR.finditer(text):
            words = text[: match.start()].split()
            year = match.group(0).replace(" ", "")
            for n in range(min(self.max_words, len(words)), 0, -1):
                ids = self.by_name.get(normalise_name(" ".join(words[-n:]) + " " + year))
                if ids:
                    found.extend(i for i in sorted(ids) if i not in found)
                    break
        return found


_IARD_NAME = re.compile(r"(@\d+)(?:\s*<[^<>]*>)+")


def read_iard(
    path: Path, exclude: frozenset[str] | set[str] = frozenset(), max_id: int | None = None
) -> list[Dialogue]:
    """ReDial dialogues of the IARD release (Cai & Chen 2020), for *tuning*: only roles and texts
    are read (not the intent labels), and the ``<Title (year)>`` IARD writes after each ``@id`` is
    dropped so the text is in the raw release's form.

    Args:
        path: ``umap2020_IARD_Cai.json``.
        exclude: conversation ids to leave out (the dialogues that are reported on).
        max_id: keep only conversation ids up to this (the training split's id range).
    """
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    out: list[Dialogue] = []
    for cid, record in data.items():
        if cid in exclude or (max_id is not None and int(cid) > max_id):
            continue
        utterances = sorted(record["dialogue_info"].values(), key=lambda u: u["utterance_pos"])
        seeker = next((u["worker_id"] for u in utterances if u["role"] == "seeker"), None)
        messages = [
            (u["worker_id"], _IARD_NAME.sub(r"\1", u["utterance_text"])) for u in utterances
        ]
        out.append(Dialogue(str(cid), merge(messages, seeker)))
    return out
