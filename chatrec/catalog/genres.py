"""The canonical genre vocabulary shared by every movie source.

MovieLens spells genres "Sci-Fi", "Children", "Film-Noir"; the ReDial facts (IMDb genres) spell
them "sci-fi", "family", "film-noir". Both map onto one vocabulary: IMDb's genre names, lowercase,
hyphenated (``GENRES``). MovieLens' "Children" becomes "family" (IMDb's name for the same shelf);
"IMAX" is a projection format, not a genre, and "(no genres listed)" means none, so both map to
nothing. Labels outside the vocabulary (a custom catalog's "pour-over" category) pass through
lowercased, so custom catalogs keep their own categories.
"""

from __future__ import annotations

import re

from chatrec.catalog.normalize import label_key

#: The canonical movie genres (IMDb's list, lowercase). Every movie item's genres come from here.
GENRES: tuple[str, ...] = (
    "action", "adventure", "animation", "biography", "comedy", "crime", "documentary", "drama",
    "family", "fantasy", "film-noir", "game-show", "history", "horror", "music", "musical",
    "mystery", "news", "reality-tv", "romance", "sci-fi", "short", "sport", "talk-show",
    "thriller", "war", "western",
)

# Source spellings and common synonyms → canonical label. Keys are ``label_key`` forms.
_SYNONYMS: dict[str, str] = {
    "children": "family", "childrens": "family", "children s": "family", "kids": "family",
    "science fiction": "sci-fi", "scifi": "sci-fi", "sf": "sci-fi",
    "film noir": "film-noir", "noir": "film-noir",
    "sports": "sport",
    "biopic": "biography",
    "game show": "game-show", "reality tv": "reality-tv", "reality": "reality-tv",
    "talk show": "talk-show",
    "short film": "short",
    "documentaries": "documentary",
    "animated": "animation",
}
_CANONICAL_BY_KEY = {label_key(g): g for g in GENRES}
#: A genre asked for also accepts these labels: the same shelf under another name. IMDb files some
#: musicals under "music" only (La La Land) and many kids' films under "animation" only (Frozen).
GENRE_ALTERNATIVES: dict[str, tuple[str, ...]] = {"musical": ("music",), "music": ("musical",),
                                                   "family": ("animation",)}
# Markers that are not genres at all.
_NOT_GENRES = {"imax", "no genres listed", ""}
_SPACES = re.compile(r"\s+")


def canonical_genre(label: str) -> str | None:
    """The canonical label of one genre or category, or ``None`` when it is not a genre.

    >>> canonical_genre("Sci-Fi"), canonical_genre("Children"), canonical_genre("IMAX")
    ('sci-fi', 'family', None)
    >>> canonical_genre("Pour-over  Coffee")
    'pour-over coffee'
    """
    key = label_key(label)
    if key in _NOT_GENRES:
        return None
    if key in _CANONICAL_BY_KEY:
        return _CANONICAL_BY_KEY[key]
    if key in _SYNONYMS:
        return _SYNONYMS[key]
    return _SPACES.sub(" ", label.strip().lower())


def canonical_genres(labels: list[str] | tuple[str, ...]) -> list[str]:
    """Canonical labels of ``labels``, order kept, duplicates and non-genres dropped."""
    seen: list[str] = []
    for label in labels:
        genre = canonical_genre(label)
        if genre is not None and genre not in seen:
            seen.append(genre)
    return seen
