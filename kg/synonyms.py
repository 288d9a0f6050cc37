"""How people name genres in conversation, and the words that make a span look like a title.

Genre targets are tuples of spellings tried in order against the catalog's own genres, so one
table serves MovieLens ("children", "sci-fi"), ReDial ("family", "sci-fi") and any custom catalog
(whose genres simply do not match and are linked by their own labels).
"""

from __future__ import annotations

# surface phrase → the genres it means (each genre: spellings tried in order).
_SCIFI = ("sci-fi", "science fiction", "scifi")
_HORROR = ("horror",)
_COMEDY = ("comedy",)
_ROMANCE = ("romance",)
_KIDS = ("children", "family", "kids")
_ANIMATION = ("animation",)
_THRILLER = ("thriller",)
_DOC = ("documentary",)
_WESTERN = ("western",)
_MUSICAL = ("musical",)
_NOIR = ("film-noir", "film noir", "noir")
_MYSTERY = ("mystery",)
_ACTION = ("action",)
_DRAMA = ("drama",)
_BIO = ("biography",)
_FANTASY = ("fantasy",)
_ADVENTURE = ("adventure",)
_SPORT = ("sport", "sports")
_HISTORY = ("history",)
_WAR = ("war",)
_CRIME = ("crime",)

GENRE_SYNONYMS: dict[str, tuple[tuple[str, ...], ...]] = {
    "sci fi": (_SCIFI,), "scifi": (_SCIFI,), "science fiction": (_SCIFI,), "sf": (_SCIFI,),
    "horror": (_HORROR,), "horrors": (_HORROR,), "scary": (_HORROR,), "scarey": (_HORROR,),
    "spooky": (_HORROR,), "frightening": (_HORROR,), "slasher": (_HORROR,),
    "slashers": (_HORROR,), "terrifying": (_HORROR,), "scare": (_HORROR,), "scares": (_HORROR,),
    "rom com": (_ROMANCE, _COMEDY), "romcom": (_ROMANCE, _COMEDY), "rom coms": (_ROMANCE, _COMEDY),
    "romcoms": (_ROMANCE, _COMEDY), "romantic comedy": (_ROMANCE, _COMEDY),
    "romantic comedies": (_ROMANCE, _COMEDY),
    "funny": (_COMEDY,), "comedic": (_COMEDY,), "comedies": (_COMEDY,), "comedy": (_COMEDY,),
    "humorous": (_COMEDY,), "hilarious": (_COMEDY,), "laugh": (_COMEDY,), "laughs": (_COMEDY,),
    "laugh out loud": (_COMEDY,),
    "romantic": (_ROMANCE,), "romance": (_ROMANCE,), "romances": (_ROMANCE,),
    "love story": (_ROMANCE,), "love stories": (_ROMANCE,),
    "cartoon": (_ANIMATION,), "cartoons": (_ANIMATION,), "animated": (_ANIMATION,),
    "animation": (_ANIMATION,), "anime": (_ANIMATION,),
    "kids": (_KIDS,), "kid": (_KIDS,), "children": (_KIDS,), "childrens": (_KIDS,),
    "family": (_KIDS,), "family friendly": (_KIDS,), "kid friendly": (_KIDS,),
    "thriller": (_THRILLER,), "thrillers": (_THRILLER,), "suspense": (_THRILLER,),
    "suspenseful": (_THRILLER,),
    "documentary": (_DOC,), "documentaries": (_DOC,), "docs": (_DOC,), "docu": (_DOC,),
    "western": (_WESTERN,), "westerns": (_WESTERN,), "cowboy": (_WESTERN,),
    "musical": (_MUSICAL,), "musicals": (_MUSICAL,),
    "noir": (_NOIR,), "film noir": (_NOIR,),
    "mystery": (_MYSTERY,), "mysteries": (_MYSTERY,), "whodunit": (_MYSTERY,),
    "whodunnit": (_MYSTERY,),
    "action": (_ACTION,), "action packed": (_ACTION,),
    "drama": (_DRAMA,), "dramas": (_DRAMA,), "dramatic": (_DRAMA,),
    "biography": (_BIO,), "biopic": (_BIO,), "biopics": (_BIO,), "biographical": (_BIO,),
    "fantasy": (_FANTASY,), "fantasies": (_FANTASY,),
    "adventure": (_ADVENTURE,), "adventures": (_ADVENTURE,),
    "sport": (_SPORT,), "sports": (_SPORT,),
    "history": (_HISTORY,), "historical": (_HISTORY,),
    "war": (_WAR,), "crime": (_CRIME,),
}

# Genre words that are ordinary words too ("my family", "the war", "short"): linked only next to
# a film word ("family movie", "a war film") or a determiner that asks for a kind ("some war").
CONTEXT_GENRE_WORDS = frozenset({
    "family", "war", "short", "news", "music", "history", "sport", "sports", "reality",
    "kid", "docs", "sf",
})

# Words naming the kind of thing; right after a genre word they confirm it.
FILM_WORDS = frozenset({
    "movie", "movies", "film", "films", "flick", "flicks", "show", "shows", "genre", "genres",
    "stuff", "ones", "one", "kind", "type", "series", "cinema", "documentary", "documentaries",
    "comedy", "comedies", "drama", "dramas", "thriller", "thrillers",
})
GENRE_DETERMINERS = frozenset({"some", "any", "more", "no", "less", "good", "great", "a", "an"})

# Words that, right before a span, suggest it names a title ("have you seen Heat").
TITLE_CUES = frozenset({
    "seen", "see", "saw", "watched", "watch", "watching", "rewatched", "loved", "love", "liked",
    "enjoyed", "enjoy", "hated", "disliked", "movie", "film", "called", "titled",
    "recommend", "recommended", "suggest", "suggested", "try", "than", "remember", "remake",
    "sequel", "original", "prefer", "adore",
})

# Chat words that are also titles ("LOL", "OK", "Hello"): read as titles only when quoted, given
# with a year, or already under discussion.
CHAT_WORDS = frozenset(tuple(w.split()) for w in (
    "lol", "lmao", "omg", "ok", "okay", "hi", "hello", "hey", "yes", "yeah", "yep", "no", "nope",
    "bye", "goodbye", "thanks", "thank you", "sure", "cool", "nice", "great", "awesome", "good",
    "wow", "haha", "hmm", "maybe", "whatever", "fun", "super", "right", "exactly", "same",
    "perfect", "sure thing", "anything else", "something else", "what else", "last night",
    "real life", "true story", "date night", "movie night", "please give", "good night",
    "good luck", "no problem", "of course", "never mind", "take care", "you too", "me too",
    "same here", "good one", "the end", "big fan", "for real", "my bad", "merry christmas",
    "happy holidays", "all good", "no way", "not really", "in general", "any time", "anytime",
    "night", "nite", "oh god", "oh boy", "oh my god", "dad", "mom", "special", "later",
))

# "like" is a cue only after these ("something like Heat"; "I like cars" is no title).
LIKE_CUE_HEADS = frozenset({
    "something", "anything", "movies", "movie", "films", "film", "stuff", "similar", "more",
    "one", "ones", "just", "kinda", "sort", "kind", "much",
})

# Words that are common in talk about films whatever the message: inside a multi-word title
# they are no evidence that the span is the title ("Scary Movie" vs "a scary movie").
DOMAIN_COMMON_WORDS = frozenset({
    "movie", "movies", "film", "films", "flick", "show", "watch", "good", "great", "best", "bad",
    "scary", "funny", "comedy", "action", "horror", "romantic", "love", "drama", "kids", "family",
    "epic", "classic", "old", "new",
})

# Words never corrected into by the fuzzy matcher: chat words whose typos are frequent and whose
# correction would turn chat into titles ("scary moive" is not "Scary Movie").
NO_FUZZY_TARGETS = frozenset({
    "movie", "movies", "film", "films", "flick", "show", "watch", "good", "great", "best", "bad",
    "love", "think", "thanks", "old", "new", "classic",
})
