"""The words of the closed world: what an LLM sentence may contain besides verified claims.

``PLAIN`` holds words that claim nothing about a film: function words, recommending talk ("you
might enjoy", "worth a look") and bare praise ("great", "gripping"). Everything else must be
part of a claim the guard verifies (a title, a person in a role, a genre, a keyword, a year), or
the sentence is rejected. So the list is kept free of words that state facts the knowledge graph
does not hold: negations and contrasts ("anything but", "rather than", "instead of"), numbers
and number words, awards and reception ("won", "acclaimed", "hit"), comparisons, superlatives
and rankings ("than", "best", "first", "only"), provenance ("based", "novel", "remake",
"sequel"), production ("produced", "filmed") and plot ("plays", "hero").

``ROLE_CUES`` are the phrases that say in which role a person is credited: "directed by X",
"starring X" (the person follows: passive), "X directed", "X stars in" (the person precedes:
active). Some cues are also ordinary words ("with", "by", "from", "in", "film") and count as
plain words when no person is next to them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg.models import DIRECTED_BY, MADE_BY, STARS, WRITTEN_BY

PLAIN = frozenset("""
a an the and or but so if then also too as like just even still yet
of to in on at for with by from about into onto through over under between among within
this that these those it its it's itself they them their theirs there there's here here's
you your yours you'll you're you've you'd yourself we we'll we're our us i i'd i'm i've i'll me my
is are was were be been being am has have had having do does did will would could should
can may might must shall
who whom whose which what whatever whichever when where while whether how why
one ones some any each every all both either another such something different
very really quite pretty truly simply fairly rightly surely certainly definitely
probably perhaps maybe possibly absolutely genuinely especially particularly
well more much lot lots bit little
film films movie movies picture pictures flick flicks title titles pick picks choice choices
option options recommendation recommendations suggestion suggestions watch watching watched
rewatch viewing view treat gem gems story stories tale tales ride journey experience
night tonight evening afternoon weekend mood taste tastes vibe time times
fan fans viewer viewers audience
enjoy enjoys enjoyed enjoying love loves loved loving liked likes liking want wants wanted
try trying tried see seeing check consider give take grab put pair add keep
recommend recommended suggest suggested appreciate appreciated fancy prefer preferred
look looking looks worth worthwhile
fit fits fitting match matches matching suit suits suited request requested asked asking wish
great good fine nice solid strong excellent wonderful fantastic terrific superb brilliant
lovely delightful charming enjoyable entertaining engaging gripping compelling memorable
clever smart stylish thoughtful fun perfect ideal cool awesome amazing exciting thrilling
moving touching heartfelt heartwarming satisfying absorbing captivating riveting rewarding
beautiful beautifully wonderfully strongly highly
sure happy glad hope hoping think thought feel
next then now came comes coming released release
finally lastly additionally plus alternatively meanwhile
offers offer brings bring delivers deliver provides provide gives combines blends
screen list pace change role roles standout
out up down off away back along around together
""".split())

# Words that negate or restrict a claim: a closed world can only verify positive facts.
NEGATIONS = frozenset("""
not no never nor neither none nobody nothing nowhere without lacks lack lacking hardly barely
scarcely isn't aren't wasn't weren't doesn't don't didn't won't wouldn't can't cannot couldn't
shouldn't hasn't haven't hadn't ain't non unlike except other others
""".split())

# A person the sentence describes may be named with their title; the rest of a name is a claim.
HONORIFICS = frozenset({"mr", "mrs", "ms", "dr", "sir", "dame"})

D, S, W, M = DIRECTED_BY, STARS, WRITTEN_BY, MADE_BY
# A role is a list of requirements; each is met by any one relation in it.
Role = tuple[frozenset[str], ...]
DIRECTOR: Role = (frozenset({D}),)
STAR: Role = (frozenset({S}),)
WRITER: Role = (frozenset({W}),)
CREATOR: Role = (frozenset({D, W, M}),)
WRITER_DIRECTOR: Role = (frozenset({D}), frozenset({W}))
ANY_ROLE: Role = (frozenset({D, S, W, M}),)


@dataclass(frozen=True)
class Cue:
    """A role phrase. ``passive``: the role of a person right after it ("directed by" X);
    ``active``: of a person right before it (X "directed"); ``noun``: it can also name the
    role of a person given by "of TITLE" ("the director of Heat"); ``plain``: without a person
    next to it, it is an ordinary word ("with", "by", "from", "in", "film")."""

    phrase: str
    passive: Role | None = None
    active: Role | None = None
    noun: bool = False
    plain: bool = False


ROLE_CUES: tuple[Cue, ...] = (
    Cue(r"written\s+and\s+directed\s+by", passive=WRITER_DIRECTOR),
    Cue(r"directed\s+and\s+written\s+by", passive=WRITER_DIRECTOR),
    Cue(r"directed\s+by", passive=DIRECTOR),
    Cue(r"direction\s+(?:by|of)", passive=DIRECTOR),
    Cue(r"helmed\s+by", passive=DIRECTOR),
    Cue(r"dir\.", passive=DIRECTOR),
    Cue(r"directors?", passive=DIRECTOR, noun=True),
    Cue(r"filmmakers?", passive=DIRECTOR, noun=True),
    Cue(r"directs|directed|helms|helmed", active=DIRECTOR),
    Cue(r"(?:co-)?star(?:s|red)?\s+in", active=STAR),
    Cue(r"(?:appears|appeared|acts|acted|plays|played)\s+in", active=STAR),
    Cue(r"(?:co-)?starring|featuring|led\s+by", passive=STAR),
    Cue(r"performances?\s+(?:by|from)", passive=STAR),
    Cue(r"actors?|actress(?:es)?", passive=STAR, noun=True),
    Cue(r"cast", passive=STAR, noun=True, plain=True),
    Cue(r"(?:co-)?stars?", passive=STAR, active=STAR, noun=True),
    Cue(r"starred", active=STAR),
    Cue(r"features?", passive=STAR, plain=True),
    Cue(r"with", passive=STAR, plain=True),
    Cue(r"in", active=STAR, plain=True),
    Cue(r"(?:written|scripted|penned)\s+by|(?:screenplay|script)\s+by", passive=WRITER),
    Cue(r"(?:screen)?writers?", passive=WRITER, noun=True),
    Cue(r"wrote|writes|co-wrote|penned|scripted", active=WRITER),
    Cue(r"(?:made|created)\s+by", passive=CREATOR),
    Cue(r"made|makes|created|creates", active=CREATOR),
    Cue(r"by|from", passive=CREATOR, plain=True),
    Cue(r"film|movie|picture|flick", active=CREATOR, plain=True),
)
CUE_PATTERN = re.compile("|".join(f"(?P<c{i}>\\b(?:{cue.phrase})(?![\\w-]))" for i, cue in enumerate(ROLE_CUES)),
                         re.IGNORECASE)
# What may stand between a role phrase and the people it credits ("starring A, B and C").
GLUE_BEFORE_PERSON = frozenset({",", "and", "&", "the", "also", "both"})
# What may stand between a person and the role phrase after them ("A, who also directed").
GLUE_AFTER_PERSON = frozenset({",", "and", "&", "who", "also", "has", "have", "had", "is", "was", "both"})
# What may stand between an active role phrase and the title it names ("stars in both A and B").
GLUE_BEFORE_TITLE = frozenset({"the", "both", "also", "in"})
# A title after "so is" / "as does", or before ("does") "too" / "as well", takes the sentence's
# claims ("Heat is a thriller, and so is Up"); with none in its sentence it restates another's,
# which cannot be verified there. After a verb of liking, "too" is about the liking ("you'll
# love Up too").
ELLIPSIS_VERBS = frozenset({"is", "are", "was", "were", "does", "do", "did"})
LIKING_VERBS = frozenset({"like", "love", "enjoy", "try", "watch", "see", "consider", "check", "recommend",
                          "suggest", "add", "pick", "give"})
# What joins titles into one subject ("A and B", "A, B and also C", "A as well as B").
TITLE_JOINERS = frozenset({"and", "or", "&", "plus", "well"})
TITLE_GAP = frozenset({",", "both", "also", "as", *TITLE_JOINERS})
# "like" is a comparison ("a thriller, like Heat") unless it is the verb ("you'd like Heat").
LIKE_AS_VERB_AFTER = frozenset({"you", "you'll", "you'd", "i", "we", "they", "would", "will", "might",
                                "may", "could", "should", "to", "also", "really", "probably",
                                "definitely", "surely", "certainly"})
