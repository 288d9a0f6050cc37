"""Lexical retrieval of what a request is about: its aspects (themes, moods, settings — "space
exploration", "time travel", "make me cry") matched by BM25 against what films are about (tags,
keywords, genres, plot), never against titles.

A request is cut into aspects at conjunctions and punctuation, after dropping request words
("a good movie for tonight" has no aspect at all), and a few moods are said in the words that
tags use ("make me cry" → sad, tearjerker, emotional). Each aspect is scored on its own and
normalised to [0, 1] over the catalog, so a film covering two aspects ranks above a film that
matches one aspect twice as well; ``coverage`` counts the aspects a film matches.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chatrec.catalog.models import Catalog

logger = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG

#: Words that say "I want a recommendation", not what it should be about.
REQUEST_WORDS = frozenset("""
a about after an and any anything are around as at be before best but by can could do does else
every film films flick flicks for from get give good great have i i'd i'm id im in interesting into is it
its just kind kinds know let like looking lot make makes me mind more most movie movies my need new nice night
of on one ones or other please really recommend recommendation recommendations see seen series show
shows so some someone something sort suggest suggestion suggestions than that the them then there
these thing things this those to today tomorrow tonight too very want wanna watch watched watching
we weekend what whats which will with would you your yours year years old older newer recent
""".split())

#: Moods said the way tags say them. Patterns are matched on the lower-cased request.
MOODS: tuple[tuple[str, str], ...] = (
    (r"\bmake (?:me|us) cry\b|\btear ?jerker|\bweep|\bsob\b|\bsad\b", "sad tearjerker emotional"),
    (r"\bmake (?:me|us) laugh\b|\bfunny\b|\bhilarious\b|\blaugh", "funny comedy hilarious"),
    (r"\bscary\b|\bscare (?:me|us)\b|\bterrifying\b|\bfrightening\b", "scary horror creepy"),
    (r"\bfeel[- ]good\b|\bcheer (?:me|us) up\b|\buplifting\b|\bheart ?warming\b",
     "feel-good uplifting heartwarming"),
    (r"\bmind[- ]?(?:bending|blowing|fuck)|\bmakes? (?:me|you) think\b|\bthought[- ]provoking\b",
     "mindfuck thought-provoking philosophical"),
    (r"\bromantic\b|\blove stor", "romance romantic love"),
    (r"\btwist", "twist ending plot twist"),
    (r"\bbased on a true story\b|\btrue story\b", "true story based on a true story"),
)
_SPLIT = re.compile(r"\s*(?:,|;|\.|!|\?|\band\b|\bor\b|\bwith\b|\bwithout\b|\babout\b|\bbut\b|"
                    r"\bwhere\b|\bthat\b|\bwhich\b|\blike\b|\bset in\b|\bin\b)\s*")
_WORD = re.compile(r"[a-z0-9][a-z0-9'-]*")


@dataclass(frozen=True)
class Aspect:
    """One thing the request asks a film to be about.

    Attributes:
        label: the words of the request ("space exploration").
        terms: what is searched for (the label, or a mood's tag words).
    """

    label: str
    terms: str


def request_aspects(text: str, max_aspects: int = 6) -> list[Aspect]:
    """The aspects of a request, in the order said. Request words and negated phrases are
    dropped: "not gory" asks for no aspect (negation is the understanding's job)."""
    lowered = " " + text.lower() + " "
    aspects: list[Aspect] = []
    for pattern, terms in MOODS:
        match = re.search(pattern, lowered)
        if match:
            aspects.append(Aspect(match.group(0).strip(), terms))
            lowered = re.sub(pattern, " , ", lowered)
    lowered = re.sub(r"\b(?:no|not|without|nothing|isn't|isnt|aren't|don't|dont|never|less)\b[^,.;!?]*",
                     " , ", lowered)
    for chunk in _SPLIT.split(lowered):
        words = [re.sub(r"'s$", "", w).strip("'-") for w in _WORD.findall(chunk)]
        words = [w for w in words if w and w not in REQUEST_WORDS and not w.isdigit() and len(w) > 1
                 and not re.fullmatch(r"\d+s", w)]
        if words:
            label = " ".join(words)
            aspects.append(Aspect(label, label))
    unique = list({a.label: a for a in aspects}.values())
    return unique[:max_aspects]


def aspect_text(text: str) -> str:
    """The request reduced to its aspects ("" when it has none): what a text search should
    look for."""
    return ", ".join(a.label for a in request_aspects(text))


def _mapped_folder(catalog: Catalog, cache_dir: Path | None) -> Path | None:
    """Where the BM25 index of a columnar catalog lives (None: a small catalog, indexed in RAM)."""
    folder = getattr(catalog, "folder", None)
    if cache_dir is None or folder is None:
        return None
    return cache_dir / "aspects" / f"bm25-{Path(folder).name}"


def item_document(item) -> str:
    """What a film is about, for BM25: keywords and tags twice (they are chosen words), genres,
    the plot. Never the title: a title word alone is not evidence."""
    labels = [*item.keywords, *item.tags]
    return " ".join([*labels, *labels, *item.genres, item.description])


class AspectIndex:
    """BM25 over what each catalog item is about.

    Args:
        catalog: the items, in the order of the agent's ``ItemTable`` (``catalog.ids``).
        threshold: an aspect counts as covered by a film scoring at least this share of the
            aspect's best score.
    """

    name = "aspects"

    def __init__(self, catalog: Catalog, threshold: float = 0.35, cache_dir: Path | None = None):
        import bm25s
        import Stemmer

        self.threshold = threshold
        self.stemmer = Stemmer.Stemmer("english")
        self.n = len(catalog)
        self._last: tuple[str, np.ndarray, np.ndarray, int] | None = None
        folder = _mapped_folder(catalog, cache_dir)
        if folder is not None and (folder / "params.index.json").is_file():
            # A large catalog's index is built once and memory-mapped by every worker.
            self.bm25 = bm25s.BM25.load(folder, mmap=True, show_progress=False)
            self.vocab: dict[str, int] = self.bm25.vocab_dict
            return
        corpus = [item_document(item) for item in catalog]
        tokens = bm25s.tokenize(corpus, stopwords="en", stemmer=self.stemmer.stemWords,
                                show_progress=False)
        del corpus
        self.vocab = tokens.vocab  # type: ignore[union-attr]  # a Tokenized with ids
        self.bm25 = bm25s.BM25()
        self.bm25.index(tokens, show_progress=False)
        del tokens
        if folder is not None:
            staging = folder.with_name(f".{folder.name}.{os.getpid()}")
            self.bm25.save(staging, show_progress=False)
            shutil.rmtree(folder, ignore_errors=True)
            os.replace(staging, folder)
            self.bm25 = bm25s.BM25.load(folder, mmap=True, show_progress=False)
            self.vocab = self.bm25.vocab_dict

    def _terms(self, text: str) -> list[str]:
        import bm25s

        tokens = bm25s.tokenize([text], stopwords="en", stemmer=self.stemmer.stemWords,
                                return_ids=False, show_progress=False)[0]
        return [t for t in tokens if isinstance(t, str) and t in self.vocab]

    def match(self, text: str) -> tuple[np.ndarray, np.ndarray, int]:
        """(score, coverage, number of aspects) for every item: score is the sum over aspects of
        each aspect's BM25 score normalised by its best, coverage how many aspects an item
        covers. Cached for the last text (the ranker asks again for the same query)."""
        if self._last is not None and self._last[0] == text:
            return self._last[1], self._last[2], self._last[3]
        total = np.zeros(self.n, dtype=np.float32)
        coverage = np.zeros(self.n, dtype=np.float32)
        aspects = request_aspects(text) if text else []
        used = 0
        for aspect in aspects:
            terms = self._terms(aspect.terms)
            if not terms:
                continue
            scores = np.asarray(self.bm25.get_scores(terms), dtype=np.float32)
            best = float(scores.max())
            if best <= 0:
                continue
            used += 1
            normed = scores / best
            total += normed
            coverage += normed >= self.threshold
        self._last = (text, total, coverage, used)
        return total, coverage, used

    def __call__(self, query) -> np.ndarray | dict[str, float]:
        total, _, used = self.match(query.text)
        return total if used else {}
