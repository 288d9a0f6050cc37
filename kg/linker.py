"""Entity linking: free text → knowledge-graph nodes (items, people, genres, keywords, decades).

How a message is linked:

1. Tokens are normalised like catalog titles; every n-gram is looked up in the :class:`Lexicon`
   (one dict access each), also written without spaces ("spiderman"). Unknown, non-English words
   of five letters or more are corrected against the vocabulary (rapidfuzz, one or two edits), and
   the n-grams through them are looked up again ("Incepton", "Cristopher Nolan", "horroe").
2. Each candidate span is judged. Many titles are ordinary words ("It", "Up", "Her", "Heat",
   "Signs", "About Time"), so a title must be *distinctive enough*: the log-chance that its words
   occur by accident (English word frequencies) minus the evidence that the span names a title
   must fall below a threshold. Evidence: a year after it ("Heat (1995)"), quotes, Title Case
   that is not just the start of a sentence, a cue before it ("seen", "loved", "the movie"), the
   span being the whole message, or the item being already under discussion (``context``).
   "Inception" passes bare; "heat" needs a cue ("have you seen heat"); "it" needs quotes or a
   year. The threshold and bonuses were chosen by measurement (``chatrec eval linker
   --sweep``: 1,000 ReDial dev dialogues, MovieLens catalog). From a threshold of -4.0 to -5.0,
   recall on typed titles falls 0.932 → 0.908 while links in free text fall 966 → 481, only 18
   of them movies of the dialogue (read: the rest were mostly words, "anything else", "alien").
   At -5.5 recall falls to 0.887 for 70 fewer free-text links, a few of them real
   ("inception", "the matrix", "psycho" typed in lowercase).
3. Overlapping accepted spans are resolved longest first; a span that names several items
   (Titanic 1953 and 1997) is resolved by year, then context, then popularity, and the others are
   reported as ``alternatives``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from typing import TYPE_CHECKING, Literal, cast

from pydantic import BaseModel, ConfigDict, Field

from chatrec.catalog.models import Catalog
from kg.candidates import CandidateFinder, Span
from kg.graph import KnowledgeGraph
from kg.lexicon import (
    FRANCHISE,
    GENRE_SYNONYM,
    SURNAME,
    Entry,
    Lexicon,
    Phrase,
)
from kg.models import DECADE, GENRE, ITEM, KEYWORD, PERSON, decade_node, item_node, node_value
from kg.synonyms import (
    CHAT_WORDS,
    CONTEXT_GENRE_WORDS,
    DOMAIN_COMMON_WORDS,
    FILM_WORDS,
    GENRE_DETERMINERS,
    LIKE_CUE_HEADS,
    TITLE_CUES,
)
from kg.text import Token, find_decades, tokenize, zipf

if TYPE_CHECKING:
    from chatrec.config import Settings
    from kg.columnar import ColumnarGraph

logger = logging.getLogger(__name__)

MentionKind = Literal["item", "person", "genre", "keyword", "decade"]

_YEAR_AFTER = re.compile(r"\s*[(\[]?\s*((?:18|19|20)\d\d)\s*[)\]]?")
_QUOTES = "\"'“”‘’«»*_`"
_ARTICLES = ("the", "a", "an")
_MINOR_WORDS = frozenset({"of", "the", "a", "an", "and", "in", "on", "to", "for", "at", "by",
                          "with", "from", "or", "is", "vs", "de", "la", "le"})
_SENTENCE_END = re.compile(r"[.!?\n:;]")
_DETERMINERS = frozenset({"a", "an", "the", "my", "your", "his", "her", "our", "their", "this",
                          "that", "these", "those", "some", "every", "any", "no", "each"})


class Mention(BaseModel):
    """One linked span of a message.

    Attributes:
        start, end: character offsets in the message (``message[start:end] == text``).
        text: the span as written ("the matrix", "Heat (1995)", "Cristopher Nolan").
        node: the KG node it names ("item:2571", "person:christopher nolan", "decade:1990").
        kind: item, person, genre, keyword or decade.
        score: confidence in (0, 1].
        alternatives: other nodes the same words could name, most likely first (Titanic 1953
            when 1997 was chosen); empty when unambiguous.
        source: how it was found: title, alias, franchise, name, surname, genre, synonym,
            keyword, decade; with "+fuzzy" when a typo was corrected.
    """

    model_config = ConfigDict(frozen=True)

    start: int
    end: int
    text: str
    node: str
    kind: MentionKind
    score: float
    alternatives: list[str] = Field(default_factory=list)
    source: str = "title"

    @property
    def item_id(self) -> str | None:
        """The catalog item id for item mentions, else None."""
        return node_value(self.node) if self.kind == ITEM else None

    @property
    def ambiguous(self) -> bool:
        return bool(self.alternatives)


class LinkerConfig(BaseModel):
    """The linker's decision thresholds (log10 chance units; see the module docstring).

    Attributes:
        title_threshold: an item (or lone surname / keyword) span is linked when
            ``chance - evidence <= title_threshold``.
        function_word_zipf, function_word_weight: inside a multi-word phrase, a word at least
            this frequent (or common in any talk about films: "movie", "scary") counts
            ``-function_word_weight`` instead of its log-frequency.
        name_threshold: the same for a person's full name (names are rarely accidental).
        keyword_threshold: the same for keyword nodes.
        bonus_*: evidence, subtracted from the chance.
        genre_word_penalty: extra evidence a title needs when its words are a genre word
            ("Adventure", "Western"): in chat they nearly always mean the genre.
        determiner_penalty: extra evidence a title needs after a determiner that is not its
            own article ("a zombie spoof", "the film crew", "my kids").
        fuzzy: correct typos of unknown words.
        fuzzy_max_zipf: only words rarer than this in English are typo candidates ("cristopher"
            1.5 is, "brainless" 2.8 is not). A surname after a known first name is corrected
            whatever its frequency ("Brad Pit", "Halle barry"), among that first name's people.
        max_alternatives: how many alternatives a mention lists at most.
    """

    title_threshold: float = -5.0
    function_word_zipf: float = 6.0
    function_word_weight: float = 1.0
    name_threshold: float = -3.0
    keyword_threshold: float = -4.0
    bonus_year: float = 10.0
    bonus_quotes: float = 3.0
    bonus_whole_message: float = 3.0
    bonus_caps_single: float = 1.5
    bonus_caps_multi: float = 3.5
    bonus_cue: float = 1.5
    bonus_context: float = 3.0
    bonus_article: float = 0.5
    bonus_typo: float = 2.0
    determiner_penalty: float = 1.5
    genre_word_penalty: float = 2.0
    fuzzy: bool = True
    fuzzy_max_zipf: float = 2.0
    max_alternatives: int = 5


class EntityLinker:
    """Finds catalog items and KG entities in free text.

    Args:
        kg: the knowledge graph of ``catalog``.
        catalog: the items (titles, aliases, popularity, years).
        config: thresholds; the defaults are the measured operating point.
        lexicon: a prebuilt phrase index; default: from the cache under ``CHATREC_HOME``, built
            and cached when absent.
        settings: where that cache lives; default ``get_settings()``.

    Example:
        >>> linker = EntityLinker(kg, catalog)
        >>> [m.node for m in linker.link("I loved Inception, something from the 90s?")]
        ['item:79132', 'decade:1990']
    """

    def __init__(self, kg: KnowledgeGraph | ColumnarGraph, catalog: Catalog, config: LinkerConfig | None = None,
                 lexicon: Lexicon | None = None, settings: Settings | None = None):
        self.kg = kg
        self.catalog = catalog
        self.config = config or LinkerConfig()
        self.lexicon = lexicon or Lexicon.load_or_build(kg, catalog, settings)
        zipf("the")  # load the word table now, not during the first user's message
        self.candidates = CandidateFinder(self.lexicon)
        self._chance: dict[Phrase, float] = {}
        self._chance_config: LinkerConfig | None = None

    # ---------------------------------------------------------------- public API
    def link(self, text: str, context: Collection[str] = ()) -> list[Mention]:
        """Mentions in ``text``, in text order, non-overlapping (except that a phrase naming two
        genres, "rom-com", gives one mention per genre over the same span).

        Args:
            text: a user message.
            context: item ids already in the conversation (shown, liked, discussed): they need
                less evidence ("I've seen Up" after Up was suggested) and win ambiguities.
        """
        if not text or not text.strip():
            return []
        tokens = tokenize(text)
        context_nodes = {item_node(i) for i in context}
        spans = self.candidates(tokens, self.config)
        caps_ratio = _caps_ratio(text, tokens)
        accepted: list[Span] = []
        for span in spans:
            span.mentions = self._judge(text, tokens, span, context_nodes, caps_ratio)
            if span.mentions:
                accepted.append(span)
        chosen = _select(accepted)
        mentions = [m for span in chosen for m in span.mentions]
        for dec in find_decades(text):
            overlapping = [m for m in mentions if m.start < dec.end and dec.start < m.end]
            # a decade beats the keyword "80s"; a title containing "90s" keeps its span
            if all(m.kind == KEYWORD for m in overlapping):
                mentions = [m for m in mentions if m not in overlapping]
                mentions.append(Mention(start=dec.start, end=dec.end,
                                        text=text[dec.start:dec.end],
                                        node=decade_node(dec.decade), kind=DECADE, score=0.95,
                                        source="decade"))
        mentions.sort(key=lambda m: (m.start, -m.score))
        return mentions

    def resolve(self, name: str, kind: str | None = None) -> list[str]:
        """Nodes a name refers to when the caller already knows it is a name (an LLM's output,
        a button label): exact phrase first, else typo-corrected; no evidence needed. Most likely
        first; empty when nothing matches."""
        items = self.catalog.find_title(name)  # "Matrix, The (1999)", "Heat (1995)"
        if items and kind in (None, ITEM):
            return [item_node(item.id) for item in items]
        tokens = tokenize(name)
        year = None
        if tokens and tokens[-1].norm.isdigit() and len(tokens[-1].norm) == 4 and len(tokens) > 1:
            year = int(tokens[-1].norm)
            tokens = tokens[:-1]
        phrase = tuple(t.norm for t in tokens)
        if phrase and phrase[0] in _ARTICLES and len(phrase) > 1 and not self.lexicon.get(phrase):
            phrase = phrase[1:]
        entries = self.lexicon.get(phrase)
        if not entries and self.config.fuzzy:
            fixed = tuple(next(iter(self.lexicon.corrections(tok, limit=1)), (tok, 1.0))[0]
                          if tok not in self.lexicon.vocab and len(tok) >= 4 else tok
                          for tok in phrase)
            entries = self.lexicon.get(fixed)
        if kind is not None:
            entries = [e for e in entries if e.kind == kind]
        ranked = self._rank_items(entries, year, set())
        return list(dict.fromkeys(e.node for e in ranked))

    def chance(self, phrase: Phrase) -> float:
        """log10 of the chance that this phrase occurs in ordinary English by accident, from
        word frequencies. Lower = more distinctive ("inception" -5.4; "heat" -4.1; "it" -2.1).

        In a multi-word phrase, grammar words and words common in any talk about films count
        (almost) nothing: "what if", "about time" and "scary movie" are ordinary phrases whatever
        their product of word frequencies says."""
        if self._chance_config is not self.config:
            self._chance = {}
            self._chance_config = self.config
        value = self._chance.get(phrase)
        if value is None:
            if len(phrase) == 1:
                value = zipf(phrase[0]) - 9.0
            else:
                cfg = self.config
                value = 0.0
                for tok in phrase:
                    z = zipf(tok)
                    common = z >= cfg.function_word_zipf or tok in DOMAIN_COMMON_WORDS
                    value += -cfg.function_word_weight if common else z - 9.0
            self._chance[phrase] = value
        return value

    # ---------------------------------------------------------------- judging
    def _judge(self, text: str, tokens: list[Token], span: Span, context: set[str],
               caps_ratio: float) -> list[Mention]:
        cfg = self.config
        start, end = tokens[span.i].start, tokens[span.j - 1].end
        fuzzy = span.similarity < 1.0
        year, year_end = _year_after(text, end)
        evidence, cue = self._evidence(text, tokens, span, caps_ratio)
        # judged on what was written: "we" is not the distinctive "w e" of "W.E."
        chance = self.chance(span.typed if span.typed and not fuzzy else span.phrase)
        title_chance = chance
        if fuzzy:
            if len(span.phrase) == 1:
                # "incepton" is Inception, but "trailor" is no Traitor: a one-word title is
                # corrected into only when the word is rare in English
                rare = zipf(span.phrase[0]) < 4.0 and len(span.typed[0]) >= 6
                title_chance = self.chance(span.typed) if rare else chance
            else:  # "back to the futue": the misspelling itself says "a name was meant"
                title_chance = chance - cfg.bonus_typo

        items = [e for e in span.entries if e.kind == ITEM]
        people = [e for e in span.entries if e.kind == PERSON]
        genres = [e for e in span.entries if e.kind == GENRE]
        keywords = [e for e in span.entries if e.kind == KEYWORD]
        scored: list[tuple[float, str, Entry]] = []

        if items:
            ranked = self._rank_items(items, year, context)
            best = ranked[0]
            bonus = evidence + (cfg.bonus_context if best.node in context else 0.0)
            if genres:
                bonus -= cfg.genre_word_penalty
            before = tokens[span.i - 1].norm if span.i > 0 else ""
            if before and _title_starts_with(self.catalog, best.node, before):
                bonus += cfg.bonus_article  # "the matrix": the title's own article written out
            elif before in _DETERMINERS:
                bonus -= cfg.determiner_penalty  # "a zombie spoof", "the film crew"
            dated = year is not None and _year_matches(self.catalog, best.node, year)
            if dated:
                bonus += cfg.bonus_year
            margin = cfg.title_threshold - (title_chance - bonus)
            if span.phrase in CHAT_WORDS or len(span.phrase) == 1 == len(span.phrase[0]):
                # "lol", "anything else", "O": a title only when quoted, dated or discussed
                if not (dated or best.node in context or _quoted(text, tokens, span)):
                    margin = -1.0
            if margin >= 0:
                # a franchise name ("Star Wars", "Robin Williams: Live...") is a weaker reading
                penalty = 0.85 if best.source == FRANCHISE else 1.0
                scored.append((_confidence(margin) * penalty, best.source, best))
                items = ranked
        for entry in people:
            if entry.source == SURNAME:
                if fuzzy:
                    continue  # "honks" is no Hanks: a lone surname must be spelled right
                threshold, name_evidence = cfg.title_threshold, evidence - cue
            else:
                threshold, name_evidence = cfg.name_threshold, evidence
            margin = threshold - (chance - name_evidence)
            if margin >= 0:
                penalty = 0.9 if entry.source == SURNAME else 1.0
                scored.append((_confidence(margin) * penalty, entry.source, entry))
                break  # entries are sorted by weight: the first accepted person is the one
        if genres and self._genre_context_ok(tokens, span):
            for entry in genres:
                conf = 0.85 if entry.source == GENRE_SYNONYM else 0.9
                scored.append((conf, entry.source, entry))
        for entry in keywords[:1]:
            margin = cfg.keyword_threshold - (chance - evidence)
            if margin >= 0:
                scored.append((0.7 * _confidence(margin), entry.source, entry))
        if not scored:
            return []

        scored.sort(key=lambda s: -s[0])
        top_score, _, top = scored[0]
        if year is not None and top.kind == ITEM and _year_matches(self.catalog, top.node, year):
            end = year_end
        if top.kind == ITEM and span.i > 0 and tokens[span.i - 1].norm in _ARTICLES \
                and _title_starts_with(self.catalog, top.node, tokens[span.i - 1].norm):
            start = tokens[span.i - 1].start
        source = top.source + ("+fuzzy" if fuzzy else "")
        factor = span.similarity
        if top.kind == GENRE and top.source == GENRE_SYNONYM:
            # one phrase, several genres ("rom-com"): a mention per genre, same span
            same = [e for s, _, e in scored if e.kind == GENRE]
            return [Mention(start=start, end=end, text=text[start:end], node=e.node,
                            kind=GENRE, score=round(top_score * factor, 3), source=source)
                    for e in dict.fromkeys(same)]
        alternatives = [e.node for e in items if e.node != top.node] if top.kind == ITEM else []
        alternatives += [e.node for _, _, e in scored[1:] if e.node not in alternatives]
        return [Mention(start=start, end=end, text=text[start:end], node=top.node,
                        kind=cast(MentionKind, top.kind), score=round(top_score * factor, 3),
                        alternatives=alternatives[: cfg.max_alternatives], source=source)]

    def _evidence(self, text: str, tokens: list[Token], span: Span, caps_ratio: float
                  ) -> tuple[float, float]:
        """How strongly the form of the text says "this span is a name" (log10 units), and the
        part of it owed to a cue word ("seen", "loved"), which says "title", not "person"."""
        cfg = self.config
        bonus = 0.0
        i, j = span.i, span.j
        first = i
        if i > 0 and tokens[i - 1].norm in _ARTICLES:
            first = i - 1
        if _quoted(text, tokens, span):
            bonus += cfg.bonus_quotes
        if first == 0 and j == len(tokens):
            bonus += cfg.bonus_whole_message
        if caps_ratio < 0.5:
            major = [t.raw for t in tokens[i:j] if t.norm not in _MINOR_WORDS and t.raw.isalpha()]
            if major and all(w[0].isupper() for w in major) and not all(w.isupper() and len(w) > 1
                                                                          for w in major):
                sentence_start = first == 0 or bool(
                    _SENTENCE_END.search(text[tokens[first - 1].end:tokens[first].start]))
                if len(major) >= 2:
                    bonus += cfg.bonus_caps_multi
                elif not sentence_start and zipf(span.phrase[0]) < cfg.function_word_zipf:
                    # a capital "It"/"Up" says nothing: merged chat turns lose their full stops
                    bonus += cfg.bonus_caps_single
        cue = 0.0
        if first > 0 and tokens[first - 1].norm in TITLE_CUES:
            cue = cfg.bonus_cue
        elif first > 1 and tokens[first - 1].norm == "like" \
                and tokens[first - 2].norm in LIKE_CUE_HEADS:
            cue = cfg.bonus_cue  # "something like mean girls"
        elif first > 1 and tokens[first - 1].norm == "about" \
                and tokens[first - 2].norm in ("what", "how"):
            cue = cfg.bonus_cue  # "what about Heat?"
        return bonus + cue, cue

    def _genre_context_ok(self, tokens: list[Token], span: Span) -> bool:
        """A genre word that is also an everyday word needs a film word or determiner beside it."""
        if len(span.phrase) != 1 or span.phrase[0] not in CONTEXT_GENRE_WORDS:
            return True
        after = tokens[span.j].norm if span.j < len(tokens) else ""
        before = tokens[span.i - 1].norm if span.i > 0 else ""
        return after in FILM_WORDS or before in GENRE_DETERMINERS

    def _rank_items(self, entries: list[Entry], year: int | None, context: set[str]) -> list[Entry]:
        """Most likely first: matching year, then under discussion, then stronger source, then
        popularity."""
        def key(entry: Entry) -> tuple:
            year_ok = year is not None and _year_matches(self.catalog, entry.node, year)
            return (not year_ok, entry.node not in context, entry.source == FRANCHISE,
                    -entry.weight)

        return sorted(entries, key=key)


# ---------------------------------------------------------------- helpers
def _confidence(margin: float) -> float:
    """Map how far below the threshold a span is to a score in [0.6, 1.0]."""
    return round(0.6 + 0.4 * min(1.0, margin / 4.0), 3)


def _caps_ratio(text: str, tokens: list[Token]) -> float:
    """Share of capitalised words, not counting sentence starts: near 1 for Title Case Or ALL
    CAPS writers, whose capitals say nothing about names."""
    words = 0
    caps = 0
    for k, tok in enumerate(tokens):
        if not tok.raw[0].isalpha() or tok.norm in _MINOR_WORDS or tok.norm == "i":
            continue
        if k == 0 or _SENTENCE_END.search(text[tokens[k - 1].end:tok.start]):
            continue
        words += 1
        caps += tok.raw[0].isupper()
    return caps / words if words >= 4 else 0.0


def _quoted(text: str, tokens: list[Token], span: Span) -> bool:
    first = span.i - 1 if span.i > 0 and tokens[span.i - 1].norm in _ARTICLES else span.i
    before = text[:tokens[first].start].rstrip()
    after = text[tokens[span.j - 1].end:].lstrip()
    return bool(before and after and before[-1] in _QUOTES and after[0] in _QUOTES)


def _year_after(text: str, end: int) -> tuple[int | None, int]:
    match = _YEAR_AFTER.match(text, end)
    if not match:
        return None, end
    return int(match.group(1)), match.end()


def _year_matches(catalog: Catalog, node: str, year: int) -> bool:
    item = catalog.get(node_value(node))
    return item is not None and item.year is not None and abs(item.year - year) <= 1


def _title_starts_with(catalog: Catalog, node: str, article: str) -> bool:
    item = catalog.get(node_value(node))
    return item is not None and item.title.lower().startswith(article + " ")


def _select(spans: list[Span]) -> list[Span]:
    """Non-overlapping spans, longest first, then most confident."""
    ranked = sorted(spans, key=lambda s: (-(s.mentions[0].end - s.mentions[0].start),
                                          -s.mentions[0].score))
    chosen: list[Span] = []
    for span in ranked:
        s, e = span.mentions[0].start, span.mentions[0].end
        if all(e <= c.mentions[0].start or s >= c.mentions[0].end for c in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda sp: sp.mentions[0].start)


__all__ = ["EntityLinker", "LinkerConfig", "Mention"]
