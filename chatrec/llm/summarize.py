"""Knowledge augmentation (KAR, LLM-Rec): item and user-preference summaries, cached on disk.

The cache is an append-only JSONL file per model under ``settings.llm_cache_dir``; each record
is keyed by sha256(model id + prompt digest), so a changed template, item or model makes a new
key and nothing stale is reused. Writing one line per summary as soon as it exists makes a run
resumable: an interrupted ``chatrec augment`` continues where it stopped.

Each record keeps the model's raw answer, and every read checks it again (clean-up, garbage and
echo checks, plus the caller's own check, e.g. "names another title"). So a rejected answer is
cached too (a rerun does not pay for it again) and a changed rule applies to old answers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tqdm import tqdm

from chatrec.config import get_settings
from chatrec.llm.client import LLM
from chatrec.llm.phrase import echoes_prompt, tidy
from chatrec.llm.sentences import split_sentences
from chatrec.prompts.base import Prompt
from chatrec.prompts.summarize import item_summary_prompt, user_summary_prompt

logger = logging.getLogger(__name__)

MAX_SUMMARY_CHARS = 600
MIN_SUMMARY_WORDS = 3   # "A tense thriller." is short but fine; "Drama." is not a summary

#: A check of a cleaned summary: the reason to reject it, or None.
Check = Callable[[str], "str | None"]
Status = Literal["cached", "made", "rejected", "failed"]

# Labels small models put around the answer ("Summary: ...", "... The summary:").
_LABEL = re.compile(r"^\s*(?:the\s+)?(?:summary|description|answer)\s*:\s*|"
                    r"\s*(?:the\s+)?(?:summary|description|answer)\s*:\s*$", re.I)
# Field labels of a prompt's data ("Genres:", "Directed by:", "Liked:").
_FIELD = re.compile(r"^\s*([A-Z][A-Za-z ]{1,24}):", re.M)
_REFUSAL = re.compile(r"\b(?:as an ai|language model|i(?:'m| am) (?:sorry|unable|not able)|"
                      r"i can(?:not|'t) (?:help|provide|summari[sz]e|do)|no information (?:is )?"
                      r"(?:given|provided|available))\b", re.I)
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


@dataclass
class Outcome:
    """What asking for one summary came to.

    Attributes:
        status: "cached" (a valid summary from the cache), "made" (new and valid), "rejected"
            (the answer failed a check; cached, so not asked again), "failed" (no answer:
            server error, timeout; not cached, asked again next run).
        text: the summary ("cached"/"made"), else None.
        reason: why it was rejected or failed.
    """

    status: Status
    text: str | None = None
    reason: str = ""


class SummaryCache:
    """Append-only JSONL store of summaries: ``key → record``. A torn last line (a killed
    process) is skipped on load. Safe for threads of one process."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._records: dict[str, dict[str, Any]] = {}
        if path.exists():
            with path.open(encoding="utf-8") as handle:
                for line in handle:
                    try:
                        record = json.loads(line)
                        self._records[record["key"]] = record
                    except (json.JSONDecodeError, KeyError, TypeError):
                        continue

    def __len__(self) -> int:
        return len(self._records)

    def record(self, key: str) -> dict[str, Any] | None:
        return self._records.get(key)

    def get(self, key: str) -> str | None:
        record = self._records.get(key)
        return (record.get("text") or None) if record else None

    def put(self, key: str, record: dict[str, Any]) -> None:
        record = {"key": key, **record}
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._records[key] = record


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:80] or "model"


def garbage(text: str) -> str | None:
    """Why ``text`` (cleaned) is not a usable summary, or None: too short, not prose, a
    refusal, or a degenerate loop."""
    words = _WORD.findall(text)
    if len(re.findall(r"\w+", text)) < MIN_SUMMARY_WORDS:
        return "too short"
    letters = sum(ch.isalpha() for ch in text)
    if letters < 0.6 * len(text.replace(" ", "")) or text.lstrip()[:1] in "{[<":
        return "not prose"
    if "```" in text or "http://" in text or "https://" in text:
        return "not prose"
    if _REFUSAL.search(text):
        return "a refusal"
    lowered = [w.lower() for w in words]
    if len(lowered) >= 12:
        trigrams = Counter(zip(lowered, lowered[1:], lowered[2:], strict=False))
        if trigrams.most_common(1)[0][1] >= 3 or len(set(lowered)) < 0.35 * len(lowered):
            return "repetitive"
    return None


def _copies_fields(text: str, prompt: Prompt) -> bool:
    """Whether ``text`` is the prompt's data listing copied back: it starts with one of the
    prompt's field labels ("Liked: ..."), repeats two of them ("Genres: ... Directed by: ..."),
    or has the " | " separators of listing lines."""
    data = "\n".join(m.content for m in prompt.messages if m.role == "user")
    labels = {label.strip().lower() for label in _FIELD.findall(data)}
    lowered = text.lower()
    if any(lowered.startswith(f"{label}:") for label in labels) or text.count(" | ") >= 2:
        return True
    return sum(f"{label}:" in lowered for label in labels) >= 2


@dataclass
class BatchResult:
    """A batch of summaries (``Summarizer.run``).

    Attributes:
        summaries: subject id → summary, for every subject with a valid one (cached or new).
        rejected: subjects whose answer (new or cached) failed a check.
        counts: outcomes by status ("made", "cached", "rejected", "failed").
        stopped: why the batch ended early ("interrupted", "5 failures in a row"), or None.
        seconds: wall time.
        prompt_tokens, completion_tokens: the server's reported usage of this batch's calls.
    """

    summaries: dict[str, str] = field(default_factory=dict)
    rejected: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    stopped: str | None = None
    seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class Summarizer:
    """Short LLM summaries of items and of user preferences, cached per model and prompt.

    Works outside a turn: each call then gets a budget of its own (``LLM.call_deadline``), and
    the circuit breaker still makes a dead server fail fast after a few calls.

    Args:
        llm: the LLM.
        cache_dir: where the cache lives (default: ``settings.llm_cache_dir``).
        max_tokens: completion limit per summary.

    Attributes:
        stats: hits (valid from cache), made (new valid summaries), rejected, failed,
            prompt/completion tokens of this object's calls.
    """

    purpose = "summarize"

    def __init__(self, llm: LLM, cache_dir: Path | None = None, *, max_tokens: int = 120):
        self.llm = llm
        directory = cache_dir or get_settings().llm_cache_dir
        self.cache = SummaryCache(Path(directory) / f"summaries-{_slug(llm.model_id)}.jsonl")
        self.max_tokens = max_tokens
        self.stats = {"hits": 0, "made": 0, "rejected": 0, "failed": 0, "prompt_tokens": 0,
                      "completion_tokens": 0}

    def key(self, prompt: Prompt) -> str:
        return hashlib.sha256(f"{self.llm.model_id}\n{prompt.digest()}".encode()).hexdigest()

    def outcome(self, prompt: Prompt, subject: str, check: Check | None = None) -> Outcome:
        """The summary for ``prompt``: from the cache, else from one LLM call (cached at once,
        whatever the checks say). Never raises."""
        key = self.key(prompt)
        record = self.cache.record(key)
        if record is not None:
            text, reason = self.accept(record.get("raw", record.get("text")), prompt, check)
            if text is None:
                self.stats["rejected"] += 1
                return Outcome("rejected", reason=reason)
            self.stats["hits"] += 1
            return Outcome("cached", text)
        try:
            raw, call = self.llm.complete(prompt, self.purpose, max_tokens=self.max_tokens,
                                          temperature=0.0)
        except Exception as exc:   # never raises: a missing summary just means no augmentation
            logger.exception("summary of %s failed", subject)
            raw, call, error = None, None, str(exc)
        else:
            error = call.error or ""
        if call is not None:
            self.stats["prompt_tokens"] += call.prompt_tokens
            self.stats["completion_tokens"] += call.completion_tokens
        if raw is None:
            self.stats["failed"] += 1
            return Outcome("failed", reason=error or "no answer")
        text, reason = self.accept(raw, prompt, check)
        self.cache.put(key, {"kind": prompt.name, "subject": subject, "model": self.llm.model_id,
                             "text": text or "", "raw": raw, "rejected": reason or None,
                             "at": time.time(),
                             "prompt_tokens": call.prompt_tokens if call else 0,
                             "completion_tokens": call.completion_tokens if call else 0})
        if text is None:
            self.stats["rejected"] += 1
            logger.info("summary of %s rejected (%s): %.120r", subject, reason, raw)
            return Outcome("rejected", reason=reason)
        self.stats["made"] += 1
        return Outcome("made", text)

    @staticmethod
    def accept(raw: str | None, prompt: Prompt, check: Check | None = None
               ) -> tuple[str | None, str]:
        """``(summary, "")`` when ``raw`` makes a usable summary, else ``(None, reason)``."""
        if not raw or not raw.strip():
            return None, "empty"
        text = _LABEL.sub("", tidy(raw))
        if echoes_prompt(text, prompt):
            return None, "echoes the prompt"
        if _copies_fields(text, prompt):
            return None, "copies the prompt's data listing"
        kept: list[str] = []
        for sentence in split_sentences(text):
            if sum(len(s) + 1 for s in kept) + len(sentence) > MAX_SUMMARY_CHARS:
                break
            kept.append(sentence)
        summary = " ".join(kept)
        reason = garbage(summary) if summary else "run-on text (no sentence end)"
        if reason is None and check is not None:
            reason = check(summary)
        return (None, reason) if reason else (summary, "")

    def item_outcome(self, item: Any, check: Check | None = None) -> Outcome:
        return self.outcome(item_summary_prompt(item), f"item:{getattr(item, 'id', '?')}", check)

    def item_summary(self, item: Any, check: Check | None = None) -> str | None:
        """A two-sentence description of ``item`` (an ``Item``) for the search index, or None."""
        return self.item_outcome(item, check).text

    def user_outcome(self, liked: Sequence[str], disliked: Sequence[str] = (), notes: str = "",
                     *, subject: str = "user", check: Check | None = None) -> Outcome:
        if not liked and not disliked and not notes:
            return Outcome("failed", reason="no history")
        return self.outcome(user_summary_prompt(liked, disliked, notes), subject, check)

    def user_summary(self, liked: Sequence[str], disliked: Sequence[str] = (), notes: str = "",
                     *, subject: str = "user") -> str | None:
        """A one-to-two-sentence taste summary (the reranker's profile), or None. Cached by
        content, so it is recomputed only when the history it is built from changes.

        Args:
            liked: one-line descriptions of liked items, best first.
            disliked: the same for disliked items.
            notes: what the user said about their taste.
            subject: a label for the cache record and logs (e.g. the user id).
        """
        return self.user_outcome(liked, disliked, notes, subject=subject).text

    def run(self, jobs: Iterable[tuple[str, Callable[[], Outcome]]], *, total: int | None = None,
            progress: bool = True, desc: str = "summaries", stop_after_failures: int = 5,
            price_per_1k: float | None = None) -> BatchResult:
        """Run summary jobs (``(subject id, job)``) with a progress bar showing outcomes, tokens
        and (with ``price_per_1k``, per 1,000 prompt + completion tokens) the cost so far.

        Stops early after ``stop_after_failures`` failures in a row (a dead server must not
        cost one timeout per item) or on Ctrl-C; what was done is cached either way, and the
        result says why it stopped. Rejections are not failures: a weak model does not stop it.
        """
        result = BatchResult()
        started = time.perf_counter()
        tokens_before = (self.stats["prompt_tokens"], self.stats["completion_tokens"])
        failures_in_row = 0
        bar = tqdm(total=total, disable=not progress, desc=desc, unit="it")
        try:
            for subject, job in jobs:
                outcome = job()
                result.counts[outcome.status] += 1
                if outcome.text is not None:
                    result.summaries[subject] = outcome.text
                elif outcome.status == "rejected":
                    result.rejected.append(subject)
                failures_in_row = failures_in_row + 1 if outcome.status == "failed" else 0
                bar.update(1)
                result.prompt_tokens = self.stats["prompt_tokens"] - tokens_before[0]
                result.completion_tokens = self.stats["completion_tokens"] - tokens_before[1]
                postfix: dict[str, object] = {"new": result.counts["made"], "cached": result.counts["cached"],
                           "rejected": result.counts["rejected"],
                           "failed": result.counts["failed"], "tokens": result.tokens}
                if price_per_1k is not None:
                    postfix["cost"] = f"{result.tokens / 1000 * price_per_1k:.4f}"
                bar.set_postfix(postfix, refresh=False)
                if failures_in_row >= stop_after_failures:
                    result.stopped = f"{failures_in_row} failures in a row ({outcome.reason})"
                    logger.warning("stopping after %d failed summaries in a row; run again to "
                                   "continue (cached summaries are kept)", failures_in_row)
                    break
        except KeyboardInterrupt:
            result.stopped = "interrupted"
        finally:
            bar.close()
            result.seconds = time.perf_counter() - started
        return result

    def summarize_items(self, items: Iterable[Any], *, progress: bool = True,
                        total: int | None = None, stop_after_failures: int = 5,
                        check: Callable[[Any], Check] | None = None) -> dict[str, str]:
        """Summaries of many items (``{item_id: summary}``), cached ones without a call.

        Resumable: what an earlier run cached is reused. Stops early after
        ``stop_after_failures`` failures in a row; run again to continue.

        Args:
            check: ``item → Check`` for item-specific rejection rules (see ``Check``).
        """
        jobs = ((str(getattr(item, "id", n)),
                 (lambda item=item: self.item_outcome(item, check(item) if check else None)))
                for n, item in enumerate(items))
        result = self.run(jobs, total=total, progress=progress,
                          stop_after_failures=stop_after_failures)
        if result.stopped == "interrupted":
            raise KeyboardInterrupt   # what was done is cached; ``run`` returns it instead
        return result.summaries
