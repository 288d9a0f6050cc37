"""One film, one item: ReDial ids of the same film merged at catalog build time.

ReDial lists some films under two or three ids ("Police Academy" 81006 and 151656; "Percy
Jackson" and "Percy Jackson & the Olympians: The Lightning Thief"). Left apart, the film the
seeker just named comes back as a recommendation under its other id, and one film fills two
places of a ranking. Ids are merged when they are the same film by one of two tests:

* the same IMDb id (``id2info.json``) **and** compatible titles. id2info's IMDb ids were looked
  up by name and some are wrong ("Halloweentown" carries Halloween 6's id, "Mean Girls 2" and
  "It (2004)" carry Mean Girls'), so a shared IMDb id alone is not enough;
* the same normalised title and the same year.

Titles are compatible when their keys are equal, equal without spaces ("Slapshot"), one or two
typing edits apart ("Killer Klowns"/"Killer Clowns"), the same words in another order, or one is
the other's head followed by a subtitle ("Kill Bill" / "Kill Bill: Volume 1"). A sequel number
that differs ("Home Alone" / "Home Alone 4") always keeps films apart.

The merged item keeps the id of the best-documented member (facts, a MovieLens link, a dated
name, then the smallest id); the others become id aliases, so every ReDial id still resolves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence, Set
from dataclasses import dataclass

from rapidfuzz.distance import OSA

from chatrec.catalog.enrich import merge_unique
from chatrec.catalog.models import Item
from chatrec.catalog.normalize import title_key

_SEQUEL = re.compile(r"^(?:\d+|ii|iii|iv|v|vi|vii|viii|ix|x|part|chapter|volume|vol)$")
# What may follow a short title when the longer one is the same film with its subtitle.
_SUBTITLE = re.compile(r"^\s*(?::|-|–|—|&|'s\b|’s\b|and the\b)", re.IGNORECASE)


def _sequel_marks(key: str) -> frozenset[str]:
    return frozenset(word for word in key.split() if _SEQUEL.match(word))


def _subtitled(short: Item, long: Item) -> bool:
    """``long`` is ``short`` with a subtitle ("Kill Bill" + ": Volume 1")."""
    if not long.title.lower().startswith(short.title.lower()):
        return False
    return bool(_SUBTITLE.match(long.title[len(short.title):]))


def compatible_titles(a: Item, b: Item) -> bool:
    """Whether two titles can name the same film (see the module docstring). Anything looser
    than equal keys needs a known year on both sides ("CinderElmo" is not "Cinderella")."""
    ka, kb = title_key(a.title), title_key(b.title)
    if not ka or not kb:
        return False
    if ka == kb or ka.replace(" ", "") == kb.replace(" ", ""):
        return True
    if a.year is None or b.year is None or _sequel_marks(ka) != _sequel_marks(kb):
        return False
    if _subtitled(a, b) or _subtitled(b, a):
        return True
    if sorted(ka.split()) == sorted(kb.split()):
        return True
    edits = 1 if min(len(ka), len(kb)) < 12 else 2
    return min(len(ka), len(kb)) >= 8 and OSA.distance(ka, kb, score_cutoff=edits) <= edits


def same_film(a: Item, b: Item) -> bool:
    """Whether two catalog entries are one film."""
    if a.year is not None and b.year is not None and a.year != b.year:
        return False
    imdb_a, imdb_b = a.external_ids.get("imdb"), b.external_ids.get("imdb")
    if imdb_a and imdb_a == imdb_b:
        return compatible_titles(a, b)
    return (a.year is not None and a.year == b.year and title_key(a.title) == title_key(b.title))


def _canonical_rank(item: Item, preferred: Set[str], dated_names: Set[str]) -> tuple:
    documented = bool(item.directors or item.cast or item.description)
    return (not documented, "movielens" not in item.external_ids, item.id not in preferred,
            item.id not in dated_names, -len(item.title), int(item.id) if item.id.isdigit() else 0,
            item.id)


@dataclass
class MergeResult:
    items: list[Item]
    id_aliases: dict[str, str]   # merged-away id → the id it now resolves to


def merge_duplicates(items: Sequence[Item], preferred: Set[str] = frozenset(),
                     dated_names: Set[str] = frozenset()) -> MergeResult:
    """Merge items that are the same film.

    Args:
        items: the catalog's items, in catalog order.
        preferred: ids whose title is the title of the film their facts describe (it equals
            the linked MovieLens title): "Prisoners", not the "The Prisoner" sharing its IMDb id.
        dated_names: ids whose ReDial name carries a year ("Home Alone (1990)"): the entry people
            picked from ReDial's autocomplete, preferred next.
    """
    parent = list(range(len(items)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # Candidates share an IMDb id or a title key; comparing only those keeps this linear.
    buckets: dict[tuple[str, str], list[int]] = {}
    for index, item in enumerate(items):
        if item.external_ids.get("imdb"):
            buckets.setdefault(("imdb", item.external_ids["imdb"]), []).append(index)
        buckets.setdefault(("title", title_key(item.title)), []).append(index)
    for members in buckets.values():
        for x, i in enumerate(members):
            for j in members[x + 1:]:
                if find(i) != find(j) and same_film(items[i], items[j]):
                    parent[find(j)] = find(i)

    groups: dict[int, list[Item]] = {}
    for index, item in enumerate(items):
        groups.setdefault(find(index), []).append(item)
    merged_by_id: dict[str, Item] = {}
    aliases: dict[str, str] = {}
    for members in groups.values():
        if len(members) == 1:
            merged_by_id[members[0].id] = members[0]
            continue
        keep = min(members, key=lambda it: _canonical_rank(it, preferred, dated_names))
        merged_by_id[keep.id] = _merge_items(keep, [m for m in members if m is not keep])
        for other in members:
            if other is not keep:
                aliases[other.id] = keep.id
    ordered = [merged_by_id[it.id] for it in items if it.id in merged_by_id]
    return MergeResult(ordered, aliases)


def _merge_items(keep: Item, others: list[Item]) -> Item:
    """``keep`` with what the others add: their titles as aliases, and facts it lacks (facts are
    never mixed: a title+year merge may join entries whose facts describe different films)."""
    titles = [o.title for o in others if title_key(o.title) != title_key(keep.title)]
    external = {**{k: v for o in others for k, v in o.external_ids.items()}, **keep.external_ids}
    return keep.model_copy(update={
        "year": keep.year if keep.year is not None else next((o.year for o in others if o.year), None),
        "genres": keep.genres or next((o.genres for o in others if o.genres), []),
        "directors": keep.directors or next((o.directors for o in others if o.directors), []),
        "cast": keep.cast or next((o.cast for o in others if o.cast), []),
        "writers": keep.writers or next((o.writers for o in others if o.writers), []),
        "keywords": keep.keywords or next((o.keywords for o in others if o.keywords), []),
        "tags": keep.tags or next((o.tags for o in others if o.tags), []),
        "description": keep.description or next((o.description for o in others if o.description), ""),
        "popularity": max([keep.popularity, *(o.popularity for o in others)]),
        "mean_rating": keep.mean_rating if keep.mean_rating is not None
        else next((o.mean_rating for o in others if o.mean_rating is not None), None),
        "aliases": merge_unique([*keep.aliases, *titles, *(a for o in others for a in o.aliases)]),
        "external_ids": external,
    })
