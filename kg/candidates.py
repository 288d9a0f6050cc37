"""Candidate spans for entity linking: every run of tokens that may name a node of the
knowledge graph — exact phrases of the lexicon, phrases written without spaces ("spiderman"),
phrases through typo-corrected words, and a known first name followed by a near miss of a
surname. The linker (``kg.linker``) then judges each one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rapidfuzz.distance import OSA

from kg.lexicon import Entry, Lexicon, Phrase
from kg.models import PERSON
from kg.text import Token, zipf

if TYPE_CHECKING:
    from kg.linker import LinkerConfig, Mention


@dataclass(slots=True)
class Span:
    """A candidate: tokens [i, j) read as ``phrase`` (after typo correction when fuzzy)."""

    i: int
    j: int
    phrase: Phrase
    entries: list[Entry]
    similarity: float = 1.0
    typed: Phrase = ()  # the tokens as written, when they differ from ``phrase``
    mentions: list[Mention] = field(default_factory=list)   # filled in by the judging


class CandidateFinder:
    """Finds candidate spans in tokenised text.

    Args:
        lexicon: the phrase index of the catalog's graph.
    """

    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon

    def __call__(self, tokens: list[Token], config: LinkerConfig) -> list[Span]:
        """Every span of ``tokens`` that may name a node, before any judging (typo-corrected
        ones when ``config.fuzzy``)."""
        lex = self.lexicon
        norms = [t.norm for t in tokens]
        n = len(norms)
        spans: list[Span] = []
        for i in range(n):
            first = norms[i]
            if len(first) >= 5 and first in lex.compact and not lex.get((first,)):
                # "spiderman" → "spider man" (but "Deadpool" is Deadpool, not The Dead Pool)
                phrase = lex.compact[first]
                spans.append(Span(i, i + 1, phrase, lex.get(phrase), typed=(first,)))
            for j in range(i + 1, min(n, i + lex.max_len) + 1):
                phrase = tuple(norms[i:j])
                if tokens[j - 1].raw[-2:].lower() in ("'s", "’s"):  # "Will Smith's movie"
                    bare = (*phrase[:-1], phrase[-1][:-1])
                    entries = [e for e in lex.get(bare) if e.kind == PERSON or len(bare) > 1]
                    if entries and not lex.get(phrase):
                        spans.append(Span(i, j, bare, entries, typed=phrase))
                if phrase not in lex.prefixes:
                    break  # no phrase goes on like this
                entries = lex.get(phrase)
                if entries:
                    spans.append(Span(i, j, phrase, entries, typed=phrase))
        if config.fuzzy:
            spans.extend(self._fuzzy_candidates(norms, config.fuzzy_max_zipf))
            spans.extend(self._name_candidates(tokens))
        return spans

    def _name_candidates(self, tokens: list[Token]) -> list[Span]:
        """"Brad Pit", "Kurt Russel": a known first name followed by a near miss of the surname
        of someone with that first name (two edits for surnames of five letters or more)."""
        lex = self.lexicon
        spans = []
        for k in range(len(tokens) - 1):
            people = lex.first_names.get(tokens[k].norm)
            if not people:
                continue
            # What follows the first name depends only on how many words a surname has: read it
            # once per length, not once per person (a common first name has thousands of people).
            following: dict[int, tuple[tuple[str, ...], str] | None] = {}
            for rest, node in people:
                if k + 1 + len(rest) > len(tokens):
                    continue
                if len(rest) not in following:
                    typed = tuple(t.norm for t in tokens[k + 1:k + 1 + len(rest)])
                    # "I will check it out" is no Will Speck: a common word needs a capital name
                    common = max(zipf(tok) for tok in typed)
                    skip = common >= 5.0 or (common >= 3.0 and not tokens[k].raw[0].isupper())
                    following[len(rest)] = None if skip else (typed, " ".join(typed))
                found = following[len(rest)]
                if found is None:
                    continue
                typed, typed_str = found
                if typed == rest:
                    continue  # exact: found by the n-gram pass
                rest_str = " ".join(rest)
                max_edits = 2 if len(rest_str) >= 5 else 1
                distance = OSA.distance(typed_str, rest_str, score_cutoff=max_edits)
                if distance <= max_edits:
                    phrase = (tokens[k].norm, *rest)
                    entries = [e for e in lex.get(phrase) if e.node == node]
                    similarity = 1.0 - distance / max(len(typed_str), len(rest_str))
                    spans.append(Span(k, k + 1 + len(rest), phrase, entries, similarity))
        return spans

    def _fuzzy_candidates(self, norms: list[str], max_zipf: float) -> list[Span]:
        """Phrases through typo-corrected tokens: every reading (the token as written or one of
        its corrections) is extended only while it is the prefix of a known phrase."""
        lex = self.lexicon
        options: dict[int, list[tuple[str, float]]] = {}
        for k, tok in enumerate(norms):
            if (len(tok) >= 5 and tok.isalpha() and tok not in lex.vocab
                    and zipf(tok) < max_zipf):
                found = lex.corrections(tok)
                if found:
                    options[k] = found
        if not options:
            return []
        spans = []
        n = len(norms)
        last = max(options)
        for i in range(max(0, min(options) - lex.max_len + 1), last + 1):
            # (phrase so far, similarity, corrected anything?)
            frontier: list[tuple[Phrase, float, bool]] = [((), 1.0, False)]
            for j in range(i, min(n, i + lex.max_len)):
                readings = [(norms[j], 1.0, False)]
                readings += [(word, sim, True) for word, sim in options.get(j, ())]
                frontier = [(phrase + (word,), similarity * sim, fixed or corrected)
                            for phrase, similarity, fixed in frontier
                            for word, sim, corrected in readings
                            if phrase + (word,) in lex.prefixes][:9]
                if not frontier:
                    break
                for phrase, similarity, fixed in frontier:
                    if fixed and (entries := lex.get(phrase)):
                        spans.append(Span(i, j + 1, phrase, entries, similarity,
                                           typed=tuple(norms[i:j + 1])))
        return spans
