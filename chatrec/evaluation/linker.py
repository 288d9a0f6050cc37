"""Measure the entity linker on real ReDial dialogues: ``chatrec eval linker``.

ReDial users named movies through an autocomplete, so the texts hold ``@movieId`` instead of
titles. To measure linking *on text*, each ``@id`` is replaced by the movie's title **as a person
would type it**, drawn with a fixed seed per message:

- ``plain`` (40%): the title without year, as the catalog spells it ("The Shining");
- ``lower`` (25%): lowercased ("the shining");
- ``year`` (15%): with its year ("The Shining (1980)");
- ``no_article`` (10%): lowercased, leading article dropped ("shining");
- ``typo`` (10%): lowercased with one edit (drop, swap or double a letter) in its longest word
  of five letters or more ("the shinnig").

Gold is the mentioned movie (for the MovieLens catalog, mapped through
``redial/redial_to_movielens.csv``; movies absent from the catalog are left out, and so is any link
over their span). Movie precision/recall/F1 are computed on these substituted spans.

Links elsewhere in the text are *free-text* links: titles users typed themselves (no gold) or
false positives. A free-text link is counted as *verified* when the movie is one of the
dialogue's own ``movieMentions`` (the same movie named with ``@`` elsewhere in the dialogue); the
rest are reported as unverified (an upper bound on false positives).

People and genres are scored per message against iEvaLM's ``entity`` annotations (string matches
of the 28 IMDb genres and of credited people), with "scary" read as horror. The annotations only
know those exact spellings, so synonyms the linker understands ("funny", "rom-com", "cartoon")
count as false positives here: a pessimistic number for genres.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import random
import re
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, Field

from chatrec.catalog.models import Catalog
from chatrec.catalog.normalize import label_key, parse_title, title_key
from kg.graph import KnowledgeGraph
from kg.linker import EntityLinker, LinkerConfig, Mention
from kg.models import GENRE, ITEM, PERSON

logger = logging.getLogger(__name__)

VARIANTS = (("plain", 0.40), ("lower", 0.25), ("year", 0.15), ("no_article", 0.10), ("typo", 0.10))
_AT_ID = re.compile(r"@(\d+)")


class Scores(BaseModel):
    """Counts and rates of one comparison."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def row(self) -> str:
        return (f"P={self.precision:.3f} R={self.recall:.3f} F1={self.f1:.3f} "
                f"(tp={self.tp} fp={self.fp} fn={self.fn})")


class LinkerReport(BaseModel):
    """What ``evaluate_linker`` measured.

    Attributes:
        movies: substituted movie mentions, all variants together.
        movies_by_variant: the same per way of typing (plain, lower, year, no_article, typo).
        free_text_links: item links outside substituted spans.
        free_text_verified: of those, links to a movie of the same dialogue.
        people, genres: against iEvaLM's per-message entity annotations.
        genres_shared_words: genres again, counting only linked spans written as one of the
            words iEvaLM annotates ("comedy", "scary"; not "funny", "rom-com").
        latency_ms: per-message linking time: p50, p95, max.
        examples: a few free-text links that could not be verified, for reading.
    """

    catalog: str
    dialogues: int = 0
    messages: int = 0
    config: LinkerConfig
    movies: Scores = Field(default_factory=Scores)
    movies_by_variant: dict[str, Scores] = Field(default_factory=dict)
    free_text_links: int = 0
    free_text_verified: int = 0
    people: Scores = Field(default_factory=Scores)
    genres: Scores = Field(default_factory=Scores)
    genres_shared_words: Scores = Field(default_factory=Scores)
    latency_ms: dict[str, float] = Field(default_factory=dict)
    examples: list[str] = Field(default_factory=list)

    def summary(self) -> str:
        lines = [f"catalog={self.catalog} dialogues={self.dialogues} messages={self.messages}",
                 f"movies (substituted @ids)  {self.movies.row()}"]
        for variant, scores in self.movies_by_variant.items():
            lines.append(f"  {variant:<11} {scores.row()}")
        lines.append(f"free-text item links {self.free_text_links}, of which movies of the same "
                     f"dialogue {self.free_text_verified}")
        lines.append(f"people vs iEvaLM            {self.people.row()}")
        lines.append(f"genres vs iEvaLM            {self.genres.row()}")
        lines.append(f"  same words only           {self.genres_shared_words.row()}")
        lat = self.latency_ms
        lines.append(f"latency per message: p50={lat.get('p50', 0):.2f} ms "
                     f"p95={lat.get('p95', 0):.2f} ms max={lat.get('max', 0):.2f} ms")
        return "\n".join(lines)


# ---------------------------------------------------------------- substitution
def typed_title(name: str, rng: random.Random) -> tuple[str, str]:
    """(variant, text): a ReDial movie name ("The Shining  (1980)") as a user might type it."""
    parsed = parse_title(name)
    roll = rng.random()
    cumulative = 0.0
    variant = VARIANTS[0][0]
    for label, share in VARIANTS:
        cumulative += share
        if roll < cumulative:
            variant = label
            break
    title = parsed.title
    if variant == "plain":
        return variant, title
    if variant == "year":
        return variant, f"{title} ({parsed.year})" if parsed.year else title
    lowered = title.lower()
    if variant == "lower":
        return variant, lowered
    if variant == "no_article":
        return variant, re.sub(r"^(the|a|an)\s+", "", lowered)
    return variant, _with_typo(lowered, rng)


def _with_typo(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    candidates = [k for k, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not candidates:
        return text
    k = max(candidates, key=lambda c: len(words[c]))
    word = words[k]
    pos = rng.randrange(1, len(word) - 1)
    edit = rng.choice(("drop", "swap", "double"))
    if edit == "drop":
        word = word[:pos] + word[pos + 1:]
    elif edit == "swap":
        word = word[:pos] + word[pos + 1] + word[pos] + word[pos + 2:]
    else:
        word = word[:pos] + word[pos] + word[pos:]
    words[k] = word
    return " ".join(words)


def redial_to_catalog_ids(catalog: Catalog, data_dir: Path) -> dict[str, str]:
    """ReDial movie id → catalog item id (for the ReDial catalog: the id itself, or the item a
    duplicate id was merged into)."""
    if catalog.name == "redial":
        return {i: i for i in catalog.ids} | dict(catalog.id_aliases)
    mapping: dict[str, str] = {}
    path = data_dir / "redial" / "redial_to_movielens.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["ml_movieId"] and row["year_check"] != "MISMATCH" and row["ml_movieId"] in catalog:
                mapping[row["redial_movieId"]] = row["ml_movieId"]
    return mapping


def _dialogues(path: Path, limit: int | None, offset: int = 0) -> Iterator[dict]:
    with path.open(encoding="utf-8") as handle:
        for n, line in enumerate(handle):
            if n < offset:
                continue
            if limit is not None and n >= offset + limit:
                return
            yield json.loads(line)


# ---------------------------------------------------------------- evaluation
def evaluate_linker(catalog: Catalog, kg: KnowledgeGraph, dialogues_path: Path | str,
                    limit: int | None = None, linker: EntityLinker | None = None,
                    seed: int = 13, data_dir: Path | None = None, offset: int = 0) -> LinkerReport:
    """Precision/recall of the linker on ReDial dialogues (see the module docstring).

    Args:
        catalog: the catalog to link against ("movielens" or "redial").
        kg: its knowledge graph.
        dialogues_path: ``redial/dev/dialogues.jsonl``.
        limit: evaluate the first ``limit`` dialogues only.
        linker: a linker to reuse (e.g. with another config); default: a new one.
        seed: seed of the title substitution.
        data_dir: the shared data folder (for ``redial_to_movielens.csv``); default: two levels
            above ``dialogues_path``.
        offset: skip the first ``offset`` dialogues (tune on one half, report on the other).
    """
    dialogues_path = Path(dialogues_path)
    data_dir = data_dir or dialogues_path.parent.parent.parent
    linker = linker or EntityLinker(kg, catalog)
    to_catalog = redial_to_catalog_ids(catalog, data_dir)
    report = LinkerReport(catalog=catalog.name, config=linker.config)
    by_variant: dict[str, Scores] = {label: Scores() for label, _ in VARIANTS}
    timings: list[float] = []
    unverified: list[str] = []

    for dialogue in _dialogues(dialogues_path, limit, offset):
        report.dialogues += 1
        names: dict[str, str] = dialogue.get("movieMentions") or {}
        if isinstance(names, list):  # some ReDial dumps store [] for "none"
            names = {}
        dialogue_items = {to_catalog[r] for r in names if r in to_catalog}
        for message in dialogue["messages"]:
            report.messages += 1
            rng = random.Random(f"{seed}:{dialogue['conversationId']}:{message.get('turn_id')}")
            text, gold_spans = _substitute(message["text"], names, rng)
            started = time.perf_counter()
            mentions = linker.link(text)
            timings.append((time.perf_counter() - started) * 1000)
            _score_movies(text, mentions, gold_spans, to_catalog, catalog, report, by_variant,
                          dialogue_items, unverified)
            _score_entities(message.get("entity") or [], mentions, linker, report)

    report.movies_by_variant = by_variant
    if timings:
        ordered = sorted(timings)
        report.latency_ms = {"p50": statistics.median(ordered),
                             "p95": ordered[int(0.95 * (len(ordered) - 1))], "max": ordered[-1]}
    report.examples = unverified[:40]
    return report


def _substitute(text: str, names: dict[str, str], rng: random.Random
                ) -> tuple[str, list[tuple[int, int, str, str]]]:
    """Replace each @id by a typed title. Returns the text and (start, end, redial_id, variant)."""
    out: list[str] = []
    spans: list[tuple[int, int, str, str]] = []
    position = 0
    length = 0
    for match in _AT_ID.finditer(text):
        redial_id = match.group(1)
        chunk = text[position:match.start()]
        out.append(chunk)
        length += len(chunk)
        name = names.get(redial_id)
        if name:
            variant, typed = typed_title(name, rng)
            spans.append((length, length + len(typed), redial_id, variant))
        else:  # an @id the dialogue does not name: keep the raw token, it is no title
            variant, typed = "", match.group(0)
        out.append(typed)
        length += len(typed)
        position = match.end()
    out.append(text[position:])
    return "".join(out), spans


def _same_movie(catalog: Catalog, a: str, b: str) -> bool:
    """Two catalog ids for one film (ReDial lists a few films twice)."""
    if a == b:
        return True
    x, y = catalog.get(a), catalog.get(b)
    return bool(x and y and x.year == y.year and title_key(x.title) == title_key(y.title))


def _score_movies(text: str, mentions: list[Mention], gold_spans, to_catalog: dict[str, str],
                  catalog: Catalog, report: LinkerReport, by_variant: dict[str, Scores],
                  dialogue_items: set[str], unverified: list[str]) -> None:
    items = [m for m in mentions if m.kind == ITEM]
    used: set[int] = set()
    for start, end, redial_id, variant in gold_spans:
        overlapping = [k for k, m in enumerate(items) if m.start < end and start < m.end]
        used.update(overlapping)
        gold = to_catalog.get(redial_id)
        if gold is None:
            continue  # not in this catalog: neither gold nor a false positive
        hit = any(_same_movie(catalog, items[k].item_id or "", gold) for k in overlapping)
        wrong = sum(1 for k in overlapping if not _same_movie(catalog, items[k].item_id or "", gold))
        for scores in (report.movies, by_variant[variant]):
            scores.tp += int(hit)
            scores.fn += int(not hit)
            scores.fp += wrong
    for k, mention in enumerate(items):
        if k in used:
            continue
        report.free_text_links += 1
        if mention.item_id in dialogue_items:
            report.free_text_verified += 1
        elif len(unverified) < 200 and mention.item_id is not None:
            unverified.append(f"{mention.text!r} → {catalog[mention.item_id].display} | {text[:120]}")


def _score_entities(annotations: list[str], mentions: list[Mention], linker: EntityLinker,
                    report: LinkerReport) -> None:
    gold_people: set[str] = set()
    gold_genres: set[str] = set()
    for name in annotations:
        genre = linker.resolve(name, kind=GENRE)
        if genre and (label_key(name) in _IMDB_GENRES or name == "scary"):
            gold_genres.add(genre[0])
        elif name[:1].isupper():
            gold_people.add(f"person:{label_key(name)}")
    found_people = {m.node for m in mentions if m.kind == PERSON}
    found_genres = {m.node for m in mentions if m.kind == GENRE}
    shared = {m.node for m in mentions if m.kind == GENRE
              and (label_key(m.text) in _IMDB_GENRES or label_key(m.text) == "scary")}
    for gold, found, scores in ((gold_people, found_people, report.people),
                                (gold_genres, found_genres, report.genres),
                                (gold_genres, shared, report.genres_shared_words)):
        scores.tp += len(gold & found)
        scores.fp += len(found - gold)
        scores.fn += len(gold - found)


_IMDB_GENRES = {label_key(g) for g in (
    "drama", "romance", "comedy", "adventure", "sci-fi", "action", "crime", "thriller",
    "animation", "family", "documentary", "biography", "fantasy", "musical", "history", "war",
    "sport", "horror", "mystery", "short", "music", "western", "news", "film-noir", "talk-show",
    "game-show", "reality-tv")}


def sweep(catalog: Catalog, kg: KnowledgeGraph, dialogues_path: Path, thresholds: list[float],
          limit: int | None = None) -> list[tuple[float, LinkerReport]]:
    """The precision/recall trade-off: one report per title threshold, one lexicon for all."""
    linker = EntityLinker(kg, catalog)
    results = []
    for threshold in thresholds:
        linker.config = linker.config.model_copy(update={"title_threshold": threshold})
        results.append((threshold, evaluate_linker(catalog, kg, dialogues_path, limit, linker)))
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--catalog", default="movielens", help="movielens, redial or a path")
    parser.add_argument("--dialogues", type=Path, default=None,
                        help="default: $CHATREC_DATA_DIR/redial/dev/dialogues.jsonl")
    parser.add_argument("--limit", type=int, default=None, help="first N dialogues only")
    parser.add_argument("--sweep", action="store_true", help="print the title-threshold trade-off")
    parser.add_argument("--examples", type=int, default=0, help="print N unverified links")
    args = parser.parse_args(argv)

    from chatrec.catalog.loader import load_catalog
    from chatrec.config import get_settings

    settings = get_settings()
    catalog = load_catalog(args.catalog, settings)
    kg = KnowledgeGraph.load_or_build(catalog, settings)
    dialogues = args.dialogues
    if dialogues is None:
        if settings.data_dir is None:
            parser.error("set CHATREC_DATA_DIR or pass --dialogues")
        dialogues = settings.data_dir / "redial" / "dev" / "dialogues.jsonl"
    if args.sweep:
        print("threshold  movie P / R / F1        free-text links (verified)")
        for threshold, rep in sweep(catalog, kg, dialogues, [-3.5, -4.0, -4.5, -5.0, -5.5, -6.0],
                                    args.limit):
            print(f"{threshold:>9}  {rep.movies.precision:.3f} / {rep.movies.recall:.3f} / "
                  f"{rep.movies.f1:.3f}   {rep.free_text_links} ({rep.free_text_verified})")
        return
    report = evaluate_linker(catalog, kg, dialogues, args.limit)
    print(report.summary())
    for line in report.examples[: args.examples]:
        print("  ", line)


if __name__ == "__main__":
    main()
