"""Knowledge augmentation (KAR, LLM-Rec): item and user-preference summaries, cached on disk.

The cache is an append-only JSONL file per model under ``settings.llm_cache_dir``; each record
is keyed by sha256(model id + prompt digest), so a changed template, item or model makes a new
key and nothing stale is reused. Writing one line per summary as soon as it exists makes a run
resumable: an interrupted ``chatrec augment`` continues where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from chatrec.config import get_settings
from chatrec.llm.client import LLM
from chatrec.llm.phrase import echoes_prompt, tidy
from chatrec.llm.sentences import split_sentences
from chatrec.prompts.base import Prompt
from chatrec.prompts.summarize import item_summary_prompt, user_summary_prompt

logger = logging.getLogger(__name__)

MAX_SUMMARY_CHARS = 600


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

    def get(self, key: str) -> str | None:
        record = self._records.get(key)
        return record["text"] if record else None

    def put(self, key: str, record: dict[str, Any]) -> None:
        record = {"key": key, **record}
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._records[key] = record


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:80] or "model"


class Summarizer:
    """Short LLM summaries of items and of user preferences, cached per model and prompt.

    Args:
        llm: the LLM.
        cache_dir: where the cache lives (default: ``settings.llm_cache_dir``).
        max_tokens: completion limit per summary.

    Attributes:
        stats: hits (from cache), made (new summaries), failed, prompt/completion tokens of
            this object's calls.
    """

    purpose = "summarize"

    def __init__(self, llm: LLM, cache_dir: Path | None = None, *, max_tokens: int = 120):
        self.llm = llm
        directory = cache_dir or get_settings().llm_cache_dir
        self.cache = SummaryCache(Path(directory) / f"summaries-{_slug(llm.model_id)}.jsonl")
        self.max_tokens = max_tokens
        self.stats = {"hits": 0, "made": 0, "failed": 0, "prompt_tokens": 0,
                      "completion_tokens": 0}

    def key(self, prompt: Prompt) -> str:
        return hashlib.sha256(f"{self.llm.model_id}\n{prompt.digest()}".encode()).hexdigest()

    def _summary(self, prompt: Prompt, subject: str) -> str | None:
        key = self.key(prompt)
        cached = self.cache.get(key)
        if cached is not None:
            self.stats["hits"] += 1
            return cached
        try:
            text, call = self.llm.complete(prompt, self.purpose, max_tokens=self.max_tokens,
                                           temperature=0.0)
        except Exception:   # never raises: a missing summary just means no augmentation
            logger.exception("summary of %s failed", subject)
            text, call = None, None
        if call is not None:
            self.stats["prompt_tokens"] += call.prompt_tokens
            self.stats["completion_tokens"] += call.completion_tokens
        summary = self._clean(text, prompt)
        if summary is None:
            self.stats["failed"] += 1
            return None
        self.stats["made"] += 1
        self.cache.put(key, {"kind": prompt.name, "subject": subject, "model": self.llm.model_id,
                             "text": summary, "at": time.time(),
                             "prompt_tokens": call.prompt_tokens if call else 0,
                             "completion_tokens": call.completion_tokens if call else 0})
        return summary

    @staticmethod
    def _clean(text: str | None, prompt: Prompt) -> str | None:
        if not text:
            return None
        text = tidy(text)
        if echoes_prompt(text, prompt):
            return None
        kept: list[str] = []
        for sentence in split_sentences(text):
            if sum(len(s) + 1 for s in kept) + len(sentence) > MAX_SUMMARY_CHARS:
                break
            kept.append(sentence)
        return " ".join(kept) or None

    def item_summary(self, item: Any) -> str | None:
        """A two-sentence description of ``item`` (an ``Item``) for the search index, or None."""
        return self._summary(item_summary_prompt(item), f"item:{getattr(item, 'id', '?')}")

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
        if not liked and not disliked and not notes:
            return None
        return self._summary(user_summary_prompt(liked, disliked, notes), subject)

    def summarize_items(self, items: Iterable[Any], *, progress: bool = True,
                        total: int | None = None,
                        stop_after_failures: int = 5) -> dict[str, str]:
        """Summaries of many items (``{item_id: summary}``), cached ones without a call.

        Resumable: what an earlier run cached is reused. Stops early after
        ``stop_after_failures`` failures in a row (a dead server must not cost one timeout per
        item); run again to continue.
        """
        out: dict[str, str] = {}
        failures_in_row = 0
        bar = tqdm(items, total=total, disable=not progress, desc="summaries", unit="item")
        for item in bar:
            summary = self.item_summary(item)
            if summary is None:
                failures_in_row += 1
                if failures_in_row >= stop_after_failures:
                    logger.warning("stopping after %d failed summaries in a row; run again to "
                                   "continue (cached summaries are kept)", failures_in_row)
                    break
                continue
            failures_in_row = 0
            out[str(getattr(item, "id", len(out)))] = summary
            bar.set_postfix(cached=self.stats["hits"], new=self.stats["made"],
                            tokens=self.stats["prompt_tokens"] + self.stats["completion_tokens"])
        bar.close()
        return out
