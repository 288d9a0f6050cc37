"""What the vector index stores for an item: the text that is embedded and the metadata that
filters match.

The text leads with what carries meaning for a free-text request (genres, plot, keywords, tags)
and ends with people, so the rare item longer than the model's 256 tokens loses names, not plot.
Lists are capped: a 40-name cast or 200 user tags would drown the rest of the document and slow
embedding down without adding much meaning.

Metadata values are never ``None`` (Chroma rejects them) and lists are never empty (Chroma rejects
those too): an unknown year is 0, an empty list is ``[EMPTY]``.
"""

from __future__ import annotations

from typing import Any

from chatrec.catalog.models import Item
from chatrec.catalog.normalize import label_key
from chatrec.index.embedder import text_hash

#: Metadata value standing for "no genres"/"no people": Chroma rejects empty lists.
EMPTY = "-"
MAX_CAST = 5
MAX_WRITERS = 3
MAX_LABELS = 12


def _unique(values: list[str], seen: set[str], limit: int) -> list[str]:
    """``values`` without blanks and without labels already said elsewhere in the document."""
    kept: list[str] = []
    for value in values:
        key = label_key(value)
        if key and key not in seen:
            seen.add(key)
            kept.append(value.strip())
        if len(kept) == limit:
            break
    return kept


def document_text(item: Item, summary: str | None = None) -> str:
    """The embedded text of ``item``, e.g. "Interstellar (2014). Sci-fi, adventure, drama. A team
    of explorers travel through a wormhole... Keywords: space, astronauts. Tags: black hole.
    Directed by Christopher Nolan. Starring Matthew McConaughey, ...".

    ``summary``: an LLM-made description from ``chatrec augment`` (mood, themes, audience),
    placed after the plot and before the label lists so the 256-token window keeps it. It only
    shapes the item's vector: the index stores no document text, nothing shows it to users.
    """
    seen: set[str] = set()
    parts = [f"{item.display}."]
    genres = _unique(item.genres, seen, MAX_LABELS)
    if genres:
        parts.append(", ".join(genres).capitalize() + ".")
    if item.description.strip():
        description = item.description.strip()
        parts.append(description if description.endswith((".", "!", "?")) else description + ".")
    if summary and summary.strip():
        summary = " ".join(summary.split())
        ending = "" if summary.endswith((".", "!", "?")) else "."
        parts.append(f"Summary: {summary}{ending}")
    keywords = _unique(item.keywords, seen, MAX_LABELS)
    if keywords:
        parts.append("Keywords: " + ", ".join(keywords) + ".")
    tags = _unique(item.tags, seen, MAX_LABELS)
    if tags:
        parts.append("Tags: " + ", ".join(tags) + ".")
    people = (("Directed by", item.directors, MAX_LABELS), ("Starring", item.cast, MAX_CAST),
              ("Written by", item.writers, MAX_WRITERS), ("By", item.creators, MAX_WRITERS))
    for lead, names, limit in people:
        names = [n.strip() for n in names if n.strip()][:limit]
        if names:
            parts.append(f"{lead} {', '.join(names)}.")
    return " ".join(parts)


def _labels(values: list[str]) -> list[str]:
    keys = list(dict.fromkeys(k for k in (label_key(v) for v in values) if k))
    return keys or [EMPTY]


def document_metadata(item: Item, text: str | None = None) -> dict[str, Any]:
    """Filterable facts of ``item`` as Chroma metadata.

    Keys: ``title``; ``year`` and ``decade`` (0 = unknown); ``genres`` and ``people`` (label keys,
    for ``$contains``; every credited person, uncapped, so people filters are exact);
    ``popularity``; ``kind``; ``doc_hash`` (hash of the embedded text: an upsert re-embeds only
    when it changes).
    """
    text = document_text(item) if text is None else text
    return {
        "title": item.title,
        "year": int(item.year or 0),
        "decade": int(item.decade or 0),
        "genres": _labels(item.genres),
        "people": _labels([name for _, name in item.people]),
        "popularity": int(item.popularity),
        "kind": item.kind or "item",
        "doc_hash": text_hash(text),
    }
