"""Knowledge augmentation (KAR, LLM-Rec): the work behind ``chatrec augment``.

1. Item summaries, most popular items first (so ``limit`` covers what is asked for most).
2. Taste summaries of the catalog's users with a rating history (liked = rated 4+, disliked =
   rated 2 or less), for the reranker's profile.
3. Both saved under ``CHATREC_HOME/augment/<catalog>/<model>/`` (``chatrec.index.augmentations``)
   and the index synced, which re-embeds the items whose document now carries a summary.

Every answer is cached as soon as it arrives (``Summarizer``), so a rerun asks only for what is
missing, and an interrupted or failed run keeps what it did. Summaries are retrieval aids, never
facts for users: they shape vectors and the reranker's prompt only.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from chatrec.catalog.commands import build_command
from chatrec.catalog.models import Catalog, Item
from chatrec.catalog.normalize import label_key, title_key
from chatrec.config import Settings
from chatrec.index.augmentations import Augmentations
from chatrec.llm.client import LLM
from chatrec.llm.summarize import BatchResult, Check, Summarizer
from chatrec.prompts.summarize import item_summary_prompt

logger = logging.getLogger(__name__)

LIKED_RATING = 4.0
DISLIKED_RATING = 2.0
MIN_LIKED = 3          # fewer liked items say too little about a taste to summarise
MAX_LIKED = 25         # what the user prompt shows
MAX_DISLIKED = 10

_SMALL = r"(?:of|the|a|an|and|in|on|to|for|at|from|with|&)"
_CAP = r"[A-Z0-9][\w'’:&.-]*"
# Runs of capitalised words ("The Dark Knight", "Die Hard", "Night of the Living Dead").
_RUN = rf"{_CAP}(?:\s+(?:(?:{_SMALL}|[-–—])\s+)*{_CAP})*"
_TITLE_RUN = re.compile(rf"\b{_RUN}")
_QUOTED = re.compile(r"[\"“”«]([^\"“”«»]{2,80})[\"“”»]|‘([^‘’]{2,80})’")
_WITH_YEAR = re.compile(rf"({_RUN})\s*\(((?:18|19|20)\d\d)\)")
_YEAR_OF_FILM = re.compile(r"\b(?i:(?:an?|this|the) ((?:18|19|20)\d\d) "
                           r"(?:film|movie|picture|feature)|released in ((?:18|19|20)\d\d))")
# Words after which a capitalised word is almost surely a title ("fans of Alien").
_CUE = re.compile(r"\b(?i:like|fans of|lovers of|sequel to|prequel to|remake of|similar to|"
                  r"reminiscent of|in the vein of|inspired by|spin-off of|follow-up to)\s+"
                  rf"({_RUN})")
_CUE_AFTER = re.compile(rf"({_RUN})\s+(?:fans|lovers|admirers)\b")
_ARTICLE = re.compile(r"^(?:The|A|An)\s")


def item_line(item: Item) -> str:
    """One line describing an item in a user's history: "Heat (1995) | crime, thriller"."""
    genres = ", ".join(item.genres[:3])
    return f"{item.display} | {genres}" if genres else item.display


class SummaryCheck:
    """Rejects item summaries that name a title which is not the item's, or give the item
    another year.

    A span counts as a title when it is quoted, followed by a year in brackets, follows a cue
    ("fans of", "sequel to", "like"), or is a run of capitalised words mid-sentence starting
    with an article; or, for other runs of capitalised words, when it is a catalog title of two
    or more words. Spans the item's own prompt contains (its title, people, keywords) are
    grounded and allowed: "Star Wars" in the summary of a Star Wars film is fine. The item's
    year is wrong when the summary says "<its title> (YYYY)", "a YYYY film", "released in
    YYYY" with a year more than one off.
    """

    def __init__(self, catalog: Catalog):
        self._titles = {key for item in catalog
                        for key in (title_key(t) for t in (item.title, *item.aliases)) if key}

    def for_item(self, item: Item) -> Check:
        own = {title_key(t) for t in (item.title, *item.aliases)} - {""}
        given = item_summary_prompt(item).messages[-1].content
        grounded = f" {label_key(given)} "

        def check(text: str) -> str | None:
            return self.problem(text, own, grounded) or _wrong_year(text, own, item.year)

        return check

    def problem(self, text: str, own: set[str], grounded: str) -> str | None:
        for span, strong, dated in _spans(text):
            key = title_key(span)
            if not key or key in own or f" {label_key(span)} " in grounded:
                continue
            if dated:
                return f"names a title that is not the item's ({span!r})"
            if key in self._titles and (strong or len(key.split()) >= 2):
                return f"names another title ({span!r})"
        return None


def _wrong_year(text: str, own: set[str], year: int | None) -> str | None:
    if not year:
        return None
    said = [int(m.group(1) or m.group(2)) for m in _YEAR_OF_FILM.finditer(text)]
    said += [int(m.group(2)) for m in _WITH_YEAR.finditer(text) if title_key(m.group(1)) in own]
    wrong = [y for y in said if abs(y - year) > 1]
    return f"gives the item another year ({wrong[0]}, not {year})" if wrong else None


def _spans(text: str) -> Iterator[tuple[str, bool, bool]]:
    """Title-like spans of ``text``: ``(span, strong, dated)``."""
    for match in _WITH_YEAR.finditer(text):
        yield _trim(match.group(1)), True, True
    for match in _QUOTED.finditer(text):
        yield (match.group(1) or match.group(2)).strip(" .,;:!?"), True, False
    for pattern in (_CUE, _CUE_AFTER):
        for match in pattern.finditer(text):
            yield _trim(match.group(1)), True, False
    for match in _TITLE_RUN.finditer(text):
        before = text[: match.start()].rstrip()
        mid_sentence = bool(before) and before[-1] not in ".!?:;\"“"
        span = _trim(match.group(0))
        yield span, mid_sentence and bool(_ARTICLE.match(span)), False


def _trim(span: str) -> str:
    words = span.strip(" .,;:!?").split()
    while words and (re.fullmatch(_SMALL, words[-1], re.I) or words[-1] in "-–—"):
        words.pop()
    return " ".join(words)


@dataclass
class UserHistory:
    """What a user's taste summary is made from."""

    user_id: str
    liked: list[str]
    disliked: list[str]


def user_histories(catalog: Catalog, limit: int | None = None) -> Iterator[UserHistory]:
    """Users with at least ``MIN_LIKED`` liked items, by id (numeric ids in numeric order), with
    their liked items best-rated and most recent first and their disliked ones worst first."""
    if catalog.interactions is None or limit == 0:
        return
    frame = catalog.interactions.frame
    users = sorted(frame["user_id"].unique(), key=_user_order)
    done = 0
    for user in users:
        history = catalog.interactions.history(user)
        liked = history[history["rating"] >= LIKED_RATING].sort_values(
            ["rating", "timestamp"], ascending=False, kind="stable")
        disliked = history[history["rating"] <= DISLIKED_RATING].sort_values(
            ["rating", "timestamp"], ascending=[True, False], kind="stable")
        liked_lines = [item_line(catalog[i]) for i in liked["item_id"] if i in catalog][:MAX_LIKED]
        if len(liked_lines) < MIN_LIKED:
            continue
        disliked_lines = [item_line(catalog[i]) for i in disliked["item_id"]
                          if i in catalog][:MAX_DISLIKED]
        yield UserHistory(user, liked_lines, disliked_lines)
        done += 1
        if limit is not None and done >= limit:
            return


def _user_order(user: str) -> tuple[bool, int, str]:
    return (not user.isdigit(), int(user) if user.isdigit() else 0, user)


def count_users(catalog: Catalog, limit: int | None = None) -> int:
    """How many users ``user_histories`` will yield (for the progress bar)."""
    if catalog.interactions is None or limit == 0:
        return 0
    frame = catalog.interactions.frame
    liked = frame[frame["rating"] >= LIKED_RATING]
    liked = liked[liked["item_id"].isin(set(catalog.ids))]
    eligible = int((liked.groupby("user_id").size() >= MIN_LIKED).sum())
    return eligible if limit is None else min(limit, eligible)


@dataclass
class AugmentReport:
    """What one ``augment`` run did.

    Attributes:
        catalog, model: whose summaries, made by which model.
        items, users: the two batches (``users`` is None when skipped).
        stopped: why the run ended early (Ctrl-C, a dead server), or None.
        index: what re-indexing did ("12 re-embedded", "skipped (--no-reindex)", ...).
        stored_items, stored_users: summaries on disk for this catalog and model after the run.
        seconds: wall time.
    """

    catalog: str
    model: str
    items: BatchResult = field(default_factory=BatchResult)
    users: BatchResult | None = None
    stopped: str | None = None
    index: str = ""
    stored_items: int = 0
    stored_users: int = 0
    seconds: float = 0.0

    @property
    def prompt_tokens(self) -> int:
        return self.items.prompt_tokens + (self.users.prompt_tokens if self.users else 0)

    @property
    def completion_tokens(self) -> int:
        return self.items.completion_tokens + (self.users.completion_tokens if self.users else 0)

    def line(self, price_per_1k: float | None = None) -> str:
        """The one-line summary the CLI prints."""
        def counts(batch: BatchResult) -> str:
            c = batch.counts
            return (f"{c['made']} new, {c['cached']} cached, {c['rejected']} rejected, "
                    f"{c['failed']} failed")

        parts = [f"items: {counts(self.items)}"]
        if self.users is not None:
            parts.append(f"users: {counts(self.users)}")
        tokens = f"tokens: {self.prompt_tokens:,} prompt + {self.completion_tokens:,} completion"
        if price_per_1k is not None:
            cost = (self.prompt_tokens + self.completion_tokens) / 1000 * price_per_1k
            tokens += f" (cost ≈ {cost:.4f})"
        parts += [tokens, f"{self.seconds:.1f} s"]
        if self.index:
            parts.append(f"index: {self.index}")
        if self.stopped:
            parts.append(f"stopped: {self.stopped} (run again to continue)")
        return "; ".join(parts)


def augment(catalog: Catalog, llm: LLM, settings: Settings, *, limit: int | None = None,
            users: int | None = None, reindex: bool = True, progress: bool = True,
            price_per_1k: float | None = None, embedder: Any = None, cache: Any = None,
            stop_after_failures: int = 5) -> AugmentReport:
    """Summarise items and users of ``catalog`` with ``llm``, save them, re-index.

    Args:
        catalog: the catalog (its name keys the stored summaries and the index).
        llm: the LLM (its ``model_id`` keys the cache and the stored summaries).
        settings: ``home`` (stored summaries, LLM cache) and the index's settings.
        limit: how many items, most popular first (None: all).
        users: how many users with a history, by id (None: all; 0: none).
        reindex: sync the catalog's index afterwards (when one was built).
        progress: progress bars.
        price_per_1k: shows a running cost at this price per 1,000 tokens.
        embedder, cache: for the index (defaults: the shared MiniLM embedder and its cache).
        stop_after_failures: failed calls in a row that end the run (a dead server).
    """
    started = time.perf_counter()
    report = AugmentReport(catalog.name, llm.model_id)
    summarizer = Summarizer(llm, settings.llm_cache_dir)
    stored = Augmentations.load(settings, catalog.name, llm.model_id)
    checks = SummaryCheck(catalog)
    items = catalog.popular(limit)
    try:
        report.items = summarizer.run(
            ((item.id, lambda item=item: summarizer.item_outcome(item, checks.for_item(item)))
             for item in items),
            total=len(items), progress=progress, desc="item summaries",
            stop_after_failures=stop_after_failures, price_per_1k=price_per_1k)
        _merge(stored.items, report.items)
        report.stopped = report.items.stopped
        if report.stopped is None and users != 0 and catalog.interactions is not None:
            report.users = summarizer.run(
                ((h.user_id, lambda h=h: summarizer.user_outcome(h.liked, h.disliked,
                                                                 subject=f"user:{h.user_id}"))
                 for h in user_histories(catalog, users)),
                total=count_users(catalog, users), progress=progress, desc="user summaries",
                stop_after_failures=stop_after_failures, price_per_1k=price_per_1k)
            _merge(stored.users, report.users)
            report.stopped = report.users.stopped
    finally:
        # Whatever happened, what was made is on disk (the cache has it too; this is the map
        # the index and the reranker read).
        stored.save(settings)
        report.stored_items, report.stored_users = len(stored.items), len(stored.users)
    if not reindex:
        report.index = f"skipped (--no-reindex; `{build_command(catalog)}` will embed the summaries)"
    elif report.stopped == "interrupted":
        report.index = f"skipped (interrupted; `{build_command(catalog)}` will embed the summaries)"
    else:
        report.index = _reindex(catalog, settings, progress, embedder, cache)
    report.seconds = time.perf_counter() - started
    return report


def _merge(target: dict[str, str], batch: BatchResult) -> None:
    target.update(batch.summaries)
    for subject in batch.rejected:   # a summary that no longer passes the checks goes away
        target.pop(subject, None)


def _reindex(catalog: Catalog, settings: Settings, progress: bool, embedder: Any,
             cache: Any) -> str:
    from chatrec.errors import IndexMissingError
    from chatrec.index import ItemIndex

    try:
        index = ItemIndex.open(catalog, settings, embedder)
    except IndexMissingError:
        return f"no index yet (`{build_command(catalog)}` will embed the summaries)"
    try:
        done = index.sync(catalog, progress=progress, cache=cache)
    finally:
        index.close()
    return f"{done.reembedded + done.added} re-embedded, {done.unchanged} unchanged"


__all__ = ["AugmentReport", "SummaryCheck", "UserHistory", "augment", "item_line",
           "user_histories"]
