"""Word patterns for the rule-based understander: intents, polarity cues, time constraints,
refinements and constraints the catalog cannot check. Kept apart from the logic so they can be read
(and extended) as a vocabulary."""

from __future__ import annotations

import re

_I = re.IGNORECASE


def _words(*alternatives: str) -> str:
    return r"(?:" + "|".join(alternatives) + r")"


RESET = re.compile(r"^\s*(?:please\s+)?(?:reset|start (?:over|again|afresh)|new (?:conversation|chat|session)|"
                   r"clear (?:everything|all|the chat)|forget (?:it all|everything)|restart)\b", _I)
GREETING = re.compile(r"^\s*(?:hi+|hello+|hey+|heya|hiya|good (?:morning|afternoon|evening|day)|yo|howdy|"
                      r"greetings|sup|what'?s up)\b[\s!.,:)]*", _I)
THANKS = re.compile(r"\b(?:thanks|thank you|thx|ty|cheers|much appreciated|appreciate it)\b", _I)
# "No, thanks." declines; it is not gratitude for a recommendation.
DECLINE = re.compile(r"^\s*(?:no|nah|nope|not now|i'?m good|i'?m fine)[\s,!.]*(?:thanks|thank you|thx|ty)?"
                     r"[\s,!.]*(?:(?:i'?m|that'?s) (?:good|fine|ok(?:ay)?))?[\s!.]*$", _I)
BYE = re.compile(r"\b(?:bye|goodbye|see you|good night|that'?s all|i'?m done)\b", _I)

RATE = re.compile(
    r"\b(?:(?:what|how) (?:would|will|might|do you think) i (?:rate|score)|how (?:would|will|much) i (?:like|enjoy)|"
    r"(?<!what )(?<!what else )would i (?:like|enjoy|love)|(?<!what )(?<!what else )will i (?:like|enjoy|love)|predict my rating|"
    r"what (?:rating|score) would i give|how many stars would i give|my (?:predicted|expected) rating)\b", _I)

# Questions about an item: the named group says which fact is asked for.
ITEM_QUESTIONS: list[tuple[str, re.Pattern[str]]] = [
    ("why", re.compile(r"\bwhy (?:did|do|would) you (?:suggest|recommend|pick|choose|say)|"
                       r"\bwhy (?:this|that|these|it|him|her)\b|\bwhy\s*\?|^\s*why\b|\bhow (?:is|was) (?:it|this|that) "
                       r"(?:related|similar|connected)|\bwhat makes (?:it|this|that) (?:similar|a match)", _I)),
    ("director", re.compile(r"\bwho (?:directed|made|helmed)\b|\bwho(?:'s| is| was) (?:the )?director\b|"
                            r"\b(?:the |its )?director of\b|\bdirected by whom\b|\bwho was it directed by\b", _I)),
    ("writer", re.compile(r"\bwho (?:wrote|penned|scripted)\b|\bwho(?:'s| is| was) (?:the )?(?:writer|screenwriter)\b|"
                          r"\bwritten by whom\b", _I)),
    ("cast", re.compile(r"\bwho(?:'s| is| are| was| were) (?:in|starring in|acting in|the (?:cast|actors|stars))\b|"
                        r"\bwho (?:stars|starred|acts|acted|plays|played)\b|\b(?:the )?cast of\b|\bwho(?:'s| is) in it\b|"
                        r"\bwhich actors?\b|\bwho are the actors\b", _I)),
    # "what's it about?" asks; "what's a good movie about AI?" asks for films
    ("plot", re.compile(r"\bwhat(?:'s| is| was)\b(?!\s+(?:a|an|some|any|one)\b).{0,60}?\babout\b|\bwhat (?:happens|is the story)\b|\bplot\b(?!\s+(?:twists?|holes?))|"
                        r"\bstory ?line\b|\bsynopsis\b|\bsummary\b|\bwhat(?:'s| is) the story\b|"
                        r"\btell me (?:more )?about\b|\bdescribe\b", _I)),
    ("year", re.compile(r"\bwhen (?:was|did) .{0,60}?(?:made|released|come out|filmed)\b|\bwhat year\b|"
                        r"\bhow old is\b|\brelease (?:date|year)\b", _I)),
    ("genre", re.compile(r"\bwhat (?:genre|kind of (?:movie|film))\b|\bwhich genre\b|\bgenre of\b|"
                         r"\bis (?:it|that|this) (?:a|an) \w+ (?:movie|film)\s*\?", _I)),
]

REQUEST = re.compile(
    r"\b(?:recommend\w*|suggest\w*|looking for|look for|searching for|want|wanna|need|in the mood|"
    r"something|anything|any (?:good )?(?:movies?|films?)|movies?|films?|flicks?|watch|show me|"
    r"give me|find me|what should|options|ideas|more|another|others?|similar|alternatives?|"
    r"got any|can you|could you|help me|what else|anything else|story|stories)\b", _I)

# Polarity of a mention is read from the words just before it (same clause) and just after it.
NEGATIVE_BEFORE = re.compile(
    r"\b(?:no|not|without|except|excluding|avoid|hate[ds]?|hated|dislike[ds]?|disliked|"
    r"didn'?t (?:like|enjoy|love|care for|get)|did not (?:like|enjoy|love)|don'?t (?:like|want|enjoy|love|care for)|"
    r"do not (?:like|want|enjoy)|not into|can'?t stand|cannot stand|nothing|anything but|none of|no more|"
    r"tired of|sick of|skip|other than|rather not|wasn'?t (?:a fan of|into)|not (?:a )?(?:big )?fan of|"
    r"not really into|never liked|less|fewer|instead of|rather than|but not|nor|"
    r"(?:isn'?t|aren'?t|not) (?:really )?(?:my|for me))\b[^.;!?]*$", _I)
NEGATIVE_AFTER = re.compile(
    r"^[^.;!?]{0,25}?\b(?:was|is|were|are)?\s*(?:so |really |pretty |too )?(?:bad|boring|terrible|awful|horrible|"
    r"overrated|meh|lame|dull|stupid|the worst|not good|not great|wasn'?t good|sucked|sucks|is not for me)\b", _I)
SEEN_BEFORE = re.compile(
    r"\b(?:(?:have|'ve|had|already|just|recently|once) (?:seen|watched|saw)|i (?:saw|watched)|seen|watched)\b"
    r"[^.;!?]*$", _I)
UNSEEN_BEFORE = re.compile(r"\b(?:haven'?t|have not|never|not yet|didn'?t|did not) (?:seen|see|watched|watch)\b"
                           r"[^.;!?]*$", _I)
SEEN_AFTER = re.compile(r"^[^.;!?]{0,20}?\b(?:i'?ve seen|seen (?:it|that)|already seen|watched (?:it|that))\b", _I)
POSITIVE_BEFORE = re.compile(
    r"\b(?:lov(?:e|ed|es|ing)|lik(?:e|ed|es)|enjoy(?:ed|s)?|adore[ds]?|favou?rite|fan of|into|dig|big on|"
    r"similar to|same as|along the lines of|reminds? me of|in the vein of|such as|kind of like|"
    r"a lot like|more like|great|amazing|awesome|fantastic|brilliant)\b[^.;!?]*$", _I)
POSITIVE_AFTER = re.compile(
    r"^[^.;!?]{0,30}?\b(?:was|is|were|are)?\s*(?:so |really |pretty |very |super )?(?:good|great|amazing|awesome|"
    r"fantastic|brilliant|excellent|funny|hilarious|fun|scary|creepy|cool|a classic|the best|"
    r"one of (?:my|the) (?:favou?rites?|best)|loved it|liked it|enjoyed it|wonderful|beautiful|perfect)\b", _I)
# A person named with one of these cues is a hard requirement ("movies with Tom Hanks").
PERSON_REQUIRED_BEFORE = re.compile(
    r"\b(?:with|starring|featuring|stars?|by|from|directed by|written by|directors?|actor|actress|"
    r"has|have|having|includes?)\s*$", _I)
PERSON_REQUIRED_AFTER = re.compile(r"^\s*(?:'s)?\s*(?:movies?|films?|flicks?|pictures?|in it|movie|starring)\b", _I)
# Liking verbs that describe the user's taste ("I love horror movies", "big fan of westerns").
TASTE_BEFORE = re.compile(r"\b(?:i|we)\s+(?:really\s+|also\s+|usually\s+|generally\s+|just\s+|mostly\s+|do\s+)?"
                          r"(?:love|like|enjoy|adore|dig|prefer)\b[^.;!?]*$|"
                          r"^\W*(?:really\s+)?(?:love|loved|adore)\s+[^.;!?]*$|"   # "Love Ryan Gosling."
                          r"\b(?:fan of|into|big on|partial to)\b[^.;!?]*$", _I)
ASKS_FOR = re.compile(r"\b(?:recommend\w*|suggest\w*|looking for|look for|searching for|in search of|hoping for|"
                      r"want|wanna|need|show me|give me|find me|tell me (?:a|some|about some)|got any|"
                      r"any (?:other|more|ideas|good|new|recs)|(?<!is )(?<!was )(?<!'s )more(?! than)|in the mood for|"
                      r"(?:do|would) you (?:know|have|recommend)|know (?:of )?any|can you|could you|how about|"
                      r"what about|i'?d (?:like|love)|i would (?:like|love)|something|anything|what else|"
                      r"(?:are|is) there any|^\W*any|any (?:\w+ )?(?:movies?|films?|flicks?|suggestions?|ones?)|"
                      r"what (?:should|can|could) (?:i|we) watch)\b", _I)
ALSO = re.compile(r"\b(?:also|too|as well|and also|plus|additionally)\b", _I)

# Ordinals and pronouns that point at what was shown.
ORDINALS = {
    "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3,
    "fifth": 4, "5th": 4, "last": -1, "top": 0,
}
ORDINAL_REF = re.compile(
    # "last week", "the first time", "top 10" are times and counts, not films shown
    r"\b(?:the\s+)?(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last|top)"
    r"(?!\s+(?:weeks?|nights?|years?|months?|times?|days?|weekends?|summer|winter|minutes?|hours?|few|"
    r"couple|\d+)\b)\s*(?:one|movie|film|pick|"
    r"suggestion|recommendation|option)?\b|(?:#|number\s*|no\.?\s*)([1-5])\b", _I)
PRONOUN_REF = re.compile(r"\b(?:it|that(?: one| movie| film)?|this(?: one| movie| film)?|that'?s)\b", _I)
# "it" pointing to a shown item only counts in short feedback-like sentences.
NOT_THAT = re.compile(r"\b(?:not (?:that|this|it)(?: one)?|no(?:t)? (?:the )?(?:first|second|third|fourth|fifth|last)|"
                      r"don'?t (?:like|want) (?:that|this|it)(?: one)?|not for me|pass on (?:that|this|it)|"
                      r"nah|nope|something else|other (?:ones|suggestions)|different ones?|not interested|"
                      r"doesn'?t (?:appeal|interest)|not feeling (?:it|that))\b", _I)
# Rejecting the whole list just shown: show different ones (shown items never come back anyway).
REJECT_ALL = re.compile(r"\b(?:none of (?:those|these|them|the above)|not (?:those|these|them)\b|"
                        r"not (?:really |quite )?what i(?:'m| am) (?:after|looking for|want(?:ing)?)|(?:don'?t|do not) (?:like|want) any of (?:those|these|them)|"
                        r"(?:those|these) (?:don'?t|do not) (?:appeal|interest|grab)|neither of (?:those|these|them)|"
                        r"other (?:options|ideas|suggestions)|something different)\b", _I)
SEEN_IT = re.compile(r"\b(?:(?:i'?ve|i have|already|i) (?:seen|watched|saw) (?:it|that|this|them|those|all|both)|"
                     r"seen (?:it|that|this|them) (?:already|before)|already seen|seen (?:that|this|it)(?: one)?)\b", _I)
# "I loved Up as a kid": the user's own childhood, not a film for children.
CHILDHOOD_BEFORE = re.compile(r"\b(?:as an? |as |when (?:i|we) (?:was|were) (?:an? |little )?|since (?:i was )?(?:an? )?|"
                              r"back when (?:i|we) (?:was|were) (?:an? )?)$", _I)
# The user welcomes what was just suggested: interested, or keen to watch it (not a rejection).
WELCOME = re.compile(r"\b(?:(?:sounds?|looks?) (?:good|great|interesting|fun|awesome|cool|nice|amazing|perfect|funny|like)|"
                     r"i'?ll (?:check|look|give|add|try|watch|see)|i (?:will|might|may|should|must|need to) "
                     r"(?:check|look|give|add|try|watch|see)|(?:great|good|nice) (?:one|pick|choice|idea|suggestions?)|"
                     r"(?:haven'?t|have not|never) (?:seen|watched) (?:it|that|this|those|these|them|either|any)|"
                     r"(?:added|adding) (?:it|that|them|those)|on my (?:list|watchlist)|"
                     r"what(?:'s| is| are) (?:it|that|they|those)(?: one)? about)\b", _I)
LIKE_IT = re.compile(r"\b(?:i (?:love|like|loved|liked|enjoyed) (?:it|that|this)(?: one)?|sounds (?:good|great|perfect)|"
                     r"(?:that|this) (?:one )?(?:sounds|looks) (?:good|great|interesting))\b", _I)
MORE_LIKE = re.compile(r"\b(?:more (?:like|of)|similar to|something like|others? like|another like)\b", _I)
# Asking for more of what was just shown or asked: "any others like it?", "got anything
# similar?", "what else is like that?", "more of the same", "something along those lines".
_MORE_HEAD = r"(?:others?|ones?|more|another(?: one)?|some|any(?:thing)?(?: else)?|something(?: else)?|what else|what(?:'s| is))"
MORE_OF_THE_SAME = re.compile(
    rf"\b(?:similar|{_MORE_HEAD}(?: \w+)? like (?:it|that|this|those|these|them|the \w+ one)|"
    r"(?:more|others?|another|some) of (?:the same|those|these|that|them)|along (?:those|these|the same) lines|"
    r"in (?:that|this|the same) (?:vein|spirit|style)|(?:the )?same (?:kind|sort|type|style|vibe))\b", _I)
# ... of one film, the one "it" stands for: "any others like it?", "more like that one".
LIKE_ONE_FILM = re.compile(rf"\b(?:{_MORE_HEAD}(?: \w+)? like|similar to)\s+"
                           r"(?:it|that one|this one|th(?:at|is) (?:movie|film))\b", _I)
# A message that only acknowledges what was said ("Great!", "thanks", "ok cool", "haha nice"):
# every word is one of these, or laughter.
ACKNOWLEDGEMENT_WORDS = frozenset("""
ok okay k kk alright allright great good nice cool awesome perfect excellent fantastic amazing wonderful
brilliant lovely sweet neat fine super fab thanks thank thx ty cheers you so much very really a lot appreciate
appreciated it yes yeah yep yup sure oh ah wow whoa hmm hm mm interesting sounds looks seems got gotcha i see
right indeed agreed that that's thats totally definitely well will do noted heh
""".split())
LAUGHTER = re.compile(r"a?(?:h+[ae]+){2,}h*|ha+h*|l+o+l+z?|lmf?ao+|rofl|x+d+|(?:hi){2,}", _I)   # not "he"

# Soft refinements relative to what was shown.
REFINEMENTS: list[tuple[str, re.Pattern[str]]] = [
    ("older", re.compile(r"\b(?:older|earlier|more classic|less recent|vintage)\b", _I)),
    ("newer", re.compile(r"\b(?:newer|more recent|recent|latest|modern|new(?:er)? ones?)\b", _I)),
    ("lighter", re.compile(r"\b(?:lighter|light[- ]?hearted|uplifting|less (?:dark|heavy|serious|intense|violent|scary|sad|depressing)|"
                           r"feel[- ]?good|happier|upbeat|fun(?:nier)?|cheerful|not too (?:dark|heavy|serious|scary)|"
                           r"easy[- ]going|easier)\b", _I)),
    ("darker", re.compile(r"\b(?:darker|grittier|more (?:serious|intense|violent|disturbing)|scarier|heavier|bleaker)\b", _I)),
    ("simpler", re.compile(r"\b(?:less (?:confusing|complicated|complex|weird|cerebral)|simpler|"
                           r"easier to follow|straightforward|not (?:too )?(?:confusing|complicated|complex))\b", _I)),
    ("popular", re.compile(r"\b(?:more (?:popular|mainstream|famous|well[- ]known)|blockbusters?|popular)\b", _I)),
    ("obscure", re.compile(r"\b(?:less (?:popular|mainstream|known|famous|well[- ]known)|obscure|hidden gems?|"
                           r"underrated|overlooked|lesser[- ]known|indie|(?:have ?n[o']t|never|not) (?:yet )?heard of|"
                           r"not (?:so |too |very )?(?:mainstream|popular|famous|well[- ]known)|under the radar|"
                           r"off the beaten (?:path|track))\b", _I)),
]

DECADE_WORDS = {
    "twenties": 1920, "thirties": 1930, "forties": 1940, "fifties": 1950, "sixties": 1960,
    "seventies": 1970, "eighties": 1980, "nineties": 1990, "noughties": 2000, "two thousands": 2000,
    "aughts": 2000,
}
DECADE = re.compile(r"\b(?:the\s+)?(?:(19|20)(\d)0|'?(\d)0)'?\s?s\b|\b(?:the\s+)?(" + "|".join(DECADE_WORDS) + r")\b", _I)
YEAR_BEFORE = re.compile(r"\b(?:before|pre|prior to|older than|earlier than|up to|until|no later than)\s*-?\s*((?:18|19|20)\d\d)\b", _I)
YEAR_AFTER = re.compile(r"\b(?:after|post|since|newer than|later than|no earlier than|from)\s*-?\s*((?:18|19|20)\d\d)\s*(?:on(?:wards?)?|and (?:later|after|up|newer)|\+|or (?:later|newer))\b|"
                        r"\b(?:after|post|since|newer than|later than|no earlier than)\s*-?\s*((?:18|19|20)\d\d)\b", _I)
YEAR_BETWEEN = re.compile(r"\b(?:between|from)\s*((?:18|19|20)\d\d)\s*(?:and|to|-|–|until)\s*((?:18|19|20)\d\d)\b|"
                          r"\b((?:18|19|20)\d\d)\s*[-–]\s*((?:18|19|20)\d\d)\b", _I)
YEAR_EXACT = re.compile(r"\b(?:from|in|of|released in|made in)\s+((?:18|19|20)\d\d)\b"
                        r"(?:\s*(?:or|and|,|/)\s*((?:18|19|20)\d\d)\b)?", _I)   # "from 2016 or 2017"
RECENT = re.compile(r"\b(?:recent|new|newest|latest|current|this year|last year|modern)\s+(?:movies?|films?|ones?|releases?|stuff)\b", _I)
# "classics" / "classic films" ask for old films; "it's a classic" is praise, not a time frame.
CLASSIC = re.compile(r"(?<!cult )\b(?:classics|(?:old|classic) (?:movies?|films?|ones?|cinema)|golden age|"
                     r"black and white)\b(?! (?:lover|fan|buff|nerd|person|guy|girl)s?\b)", _I)
# A person named in passing, in a statement or tag question about a film ("that was a Vin Diesel
# movie, right?"), is not a requirement for what comes next.
PASSING_MENTION = re.compile(r"^\s*(?:(?:and |but |so )?(?:it|that|this|which|the (?:movie|film|one))\s+"
                             r"(?:was|is|wasn'?t|isn'?t|had|has)|(?:was|wasn'?t|isn'?t|is) (?:it|that|this))\b|"
                             r"\b(?:right|no|wasn'?t it|isn'?t it)\s*\?\s*$", _I)

# Things people ask for that the catalog has no data for: said in the reply, never silently dropped.
UNSUPPORTED: list[tuple[str, re.Pattern[str]]] = [
    ("runtime", re.compile(r"\b(?:short(?:er)?|long(?:er)?|runtime|run time|length|under \d+\s*(?:h|hours?|min|minutes?)|"
                           r"\d+\s*(?:h|hours?|min|minutes?)(?: long)?|quick watch|not too long)\b", _I)),
    ("streaming availability", re.compile(r"\b(?:on (?:netflix|hulu|prime|amazon|disney\+?|hbo|max|apple tv|peacock|"
                                          r"paramount\+?)|streaming|free to watch)\b", _I)),
    ("age rating", re.compile(r"\b(?:pg-?13|rated (?:r|pg|g)|nc-?17|mpaa|age rating|rated-?r)\b", _I)),
    ("language", re.compile(r"\b(?:in (?:french|spanish|german|italian|japanese|korean|chinese|hindi|english)|"
                            r"(?:french|spanish|german|italian|japanese|korean|chinese|hindi)[- ]language|subtitles?|"
                            r"dubbed|foreign[- ]language)\b", _I)),
    ("box office", re.compile(r"\b(?:box office|budget|gross(?:ed)?)\b", _I)),
    ("awards", re.compile(r"\b(?:oscar|academy award|golden globe|award[- ]winning|won awards?)\w*\b", _I)),
]

# Genres that make a film "light" or "dark" (canonical lowercase labels of the catalog).
LIGHT_GENRES = ("comedy", "family", "animation", "romance", "musical", "children")
DARK_GENRES = ("horror", "thriller", "war", "crime", "film-noir", "noir")
COMPLEX_KEYWORDS = ("mindfuck", "complicated", "nonlinear", "non-linear", "surreal", "twist ending",
                    "complex", "cerebral", "thought-provoking", "psychological", "confusing", "philosophical")

# A capitalised span after a liking/seeing verb that no entity matched: maybe a title we lack.
UNKNOWN_TITLE = re.compile(
    r"\b(?:loved|liked|enjoyed|seen|watched|saw|love|like|adore|about|called|titled)\s+"
    r"[\"“']?((?:[A-Z0-9][\w'’:&!-]*)(?:\s+(?:[A-Z0-9][\w'’:&!-]*|of|the|and|a|an|in|on|to|for)){0,6})[\"”']?")
QUOTED = re.compile(r"[\"“]([^\"”]{2,80})[\"”]")

STOPWORDS = frozenset("""
a an the and or but if then so to of in on at for with without from by about as into like than too very
i me my we our you your he she it they them this that these those is are was were be been being am do does
did have has had will would can could should may might must shall just really some something anything any
movie movies film films flick flicks one ones watch watching see seen want wanna need looking look find show
give recommend suggest please thanks hi hello hey good great nice also more another maybe kind sort type
what which who whom whose how why when where there here not no yes ok okay well all get got im i'm i've
""".split())

# ---------------------------------------------------------------------------- negation scope
# A negation, and how far it reaches, is read by ``scope.negation_before``: the last of these in
# the clause before a mention, with only filler words (``NEGATION_FILLER``) in between.
NEGATOR = re.compile(
    r"\b(?:non|no(?: more)?|not(?: (?:really|too|so|very|that|overly|a (?:big |huge )?fan of|(?:really )?into|"
    r"(?:really )?in the mood for|interested in))?|never|without|nothing(?: too| that'?s? too)?|none|"
    r"neither|nor|except|excluding|minus|avoid(?:ing)?|skip|hate[sd]?|dislike[sd]?|can'?t stand|"
    r"cannot stand|tired of|sick of|other than|rather than|instead of|anything but|everything but|"
    r"less(?! (?:known|popular|mainstream|famous|well[- ]known|obvious|seen|hyped)\b)|fewer|spare me|pass on|stay away from|steer clear of|"
    r"(?:don'?t|do not|doesn'?t|does not|didn'?t|did not) (?:really )?(?:like|want|enjoy|love|care for|"
    r"need|have|star|include|feature|involve|dig)|isn'?t|aren'?t|wasn'?t|won'?t be|"
    r"(?:i'?m|i am) not (?:a (?:big |huge )?fan of|(?:really )?into|in the mood for|interested in))\b",
    re.IGNORECASE)
SOFT_NEGATOR = re.compile(r"less|fewer", re.IGNORECASE)
# After a comma, these start a new clause rather than continue a negated list ("I'm tired of
# Jason Statham, any other action movies?").
SCOPE_RESTART = frozenset("any anything something just but maybe i please what how a an some that that's it "
                          "it's this they he she".split())
# Verbs saying what a film must not do ("won't make me cry", "doesn't make me think"): the core
# both the free-text reader and the mood reader negate with.
NOT_VERBS = r"won'?t|will not|wouldn'?t|would not|doesn'?t|does not|shouldn'?t"
PLAIN_NEGATOR = re.compile(r"not(?: (?:really|too|so|very|that|overly))?|never|isn'?t|aren'?t|wasn'?t|neither|nor",
                           re.IGNORECASE)
NEGATION_FILLER = frozenset("""
a an the any anything something some more much too so very really real overly extra excessive heavy
lots lot of movies movie films film flicks flick stuff ones one kind kinds type types sort sorts with from
by starring featuring in it about like including involving that is are has have having scenes
scene content elements amount level levels his her their its them those these this all big huge many
super full totally at thing things for me my particularly especially typical graphic crazy
, / & or and nor either another other similar such as genre genres bloody blood
""".split())

# ---------------------------------------------------------------------------- kinds of sentence
TAG_QUESTION = re.compile(r"(?:,\s*|\b)(?:right|correct|is it|isn'?t it|was it|wasn'?t it|no)\s*\??\s*$",
                          re.IGNORECASE)
# A yes/no question about one film: "is it a comedy?", "is that the one with Johnny Depp?",
# "Gravity sounds like an action movie, is it?", "does it have a happy ending?".
ABOUT_FILM_QUESTION = re.compile(
    r"^\W*(?:(?:and|but|so|oh|ok|okay|no|yes|hmm+)[,\s]+)*(?:is|was|isn'?t|wasn'?t|does|did|doesn'?t|didn'?t|"
    r"has|had)\s+(?:it|that|this|he|she|they|the (?:first|second|third|fourth|fifth|last|other|new|"
    r"latest) (?:one|movie|film)|the one|that one|this one)\b|"
    r"^\W*(?:(?:and|but|so|oh|ok|okay|great|cool)[,\s]+)*(?:are|aren'?t|were|weren'?t|do|don'?t)\s+"
    r"(?:they|those|these|both|either of them|any of them|they all)\b|"
    r"\bthe one with\b|,\s*(?:is|was|isn'?t|wasn'?t) (?:it|that)\s*\??\s*$|\b(?:right|correct)\s*\?\s*$|"
    r"\b(?:is|was) (?:it|that|this) (?:a|an|the one|the movie|about|with)\b", re.IGNORECASE)
# A question about the recommender's own taste: "do you like comedies?".
ASKS_TASTE = re.compile(r"\b(?:do|did) you (?:like|love|enjoy|prefer|dig|watch|hate)\b|\bif you (?:like|love|enjoy)\b|"
                        r"\bare you (?:a fan of|into)\b|\bwhat(?:'s| is| are) your fav(?:ou?rite)?s?\b|"
                        r"\bhave you (?:seen|watched)\b(?![^.?!]*\b(?:any|anything|something)\b)", re.IGNORECASE)
TASTE_ANYWHERE = re.compile(r"\b(?:i|we)\s+(?:really\s+|also\s+|usually\s+|generally\s+|just\s+|mostly\s+|"
                            r"do\s+)?(?:love|like|enjoy|adore|dig|prefer)\b|\b(?:fan of|i'?m into|big on|partial to)\b",
                            re.IGNORECASE)
# The user is open to anything: a genre named here is a leaning, not a filter.
OPEN_TASTE = re.compile(r"\b(?:especially|mostly|mainly|usually|generally|all (?:kinds|sorts|types) of|"
                        r"(?:like|love|watch) (?:all|most|any) (?:movies|films|genres|kinds)|any genre|"
                        r"i'?m (?:open|not picky)|not too picky|anything really)\b", re.IGNORECASE)
# A mention inside a description of a film: "Y is in it", "the one with Y", "it stars Y".
DESCRIBING_BEFORE = re.compile(
    r"\b(?:the one|that one|that movie|the movie|the film|that film|the guy|the girl|the actor|the actress)"
    r"\s+(?:with|where|starring|from|in)\s+(?:the\s+)?$|"
    r"\b(?:it|that|this|which|he|she)\s+(?:'s\s+)?(?:stars?|starred|starring|has|had|features?|featured|"
    r"is|was)\s+(?:a\s+|an\s+|also\s+|actually\s+)?(?:\w+\s+)?$|"
    r"\b(?:it|that|this|which|that one|this one)(?:'s|\s+(?:is|was|sounds|seems|looks|feels))\b[^.;!?]{0,25}$|"
    r"^\W*(?:sounds|seems|looks)\s+(?:\w+\s+)?$|"   # "sounds funny, any others?": the film just suggested
    # "how about ...", "a movie about ..." ask
    r"(?<!how )(?<!what )(?<!movie )(?<!movies )(?<!film )(?<!films )(?<!flick )(?<!something )(?<!anything )"
    r"(?<!documentary )(?<!documentaries )(?<!one )(?<!ones )(?<!story )(?<!stories )(?<!show )"
    r"\babout\s+(?:\w+\s+){0,3}$", re.IGNORECASE)
# Words that make what a sentence asks for a leaning: always ("preferably", "doesn't really
# matter"), or when the message asks for something else more firmly ("maybe something with X").
STRONG_HEDGE = re.compile(r"\b(?:preferabl[ey]|ideally|if possible|(?:it )?doesn'?t (?:really )?matter|"
                          r"not (?:too |that )?picky|either way|or anything|open to (?:anything|everything|any)|"
                          r"whatever|no preference|if you can)\b", re.IGNORECASE)
WEAK_HEDGE = re.compile(r"\b(?:maybe|perhaps|possibly|or so)\b", re.IGNORECASE)
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                "ten": 10, "a couple of": 2, "a couple": 2, "couple of": 2, "couple": 2, "a few": 3, "few": 3}
_NUMBER = r"(?:\d{1,2}|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + ")"
# A number rounded ("3 years or so", "ten or so"): no hedge on what is asked.
APPROXIMATE = re.compile(rf"\b{_NUMBER}\s+(?:\w+\s+)?or so\b", re.IGNORECASE)
# "from the last 3 years", "in the past couple of years", "the last few years"
LAST_YEARS = re.compile(rf"\b(?:the\s+)?(?:last|past|previous)\s+({_NUMBER})\s+(?:years?|yrs)\b", re.IGNORECASE)
# "old and new", "past or present": no time frame at all.
ANY_TIME = re.compile(r"\b(?:old (?:and|or) new|new (?:and|or) old|older (?:and|or) newer|newer (?:and|or) older|"
                      r"past (?:and|or) present|any (?:era|decade|year)|classic (?:or|and) (?:new|modern))\b", re.IGNORECASE)
# "... not so much", "..., not really" after a mention turn it down.
NEGATED_AFTER = re.compile(r"^\W{0,3}(?:(?:were|was|are|is)\s+)?(?:not so much|not really|not much|not for me|"
                           r"no thanks|not a fan)\b", re.IGNORECASE)
DESCRIBING_AFTER = re.compile(
    r"^\W{0,3}(?:'s\s+)?(?:is|was|were|'s)\s+(?:also\s+|really\s+|so\s+|very\s+|pretty\s+|great\s+|good\s+|"
    r"amazing\s+|terrible\s+|awesome\s+|hilarious\s+|funny\s+|excellent\s+)*(?:in (?:it|that|this|them|the movie|"
    r"the film|there)|the (?:star|lead|bad guy|villain)|great in|good in|amazing in|terrible in|awesome in|"
    r"hilarious in|funny in|excellent in)\b|"
    r"^\W{0,3}(?:(?:is|was) )?(?:in it|in that one|played|plays|starred in|stars in|acted in)\b|"
    r"^\W{0,3}(?:was|is|were)\s+(?:so\s+|really\s+|very\s+|pretty\s+)?(?:great|good|amazing|awesome|terrible|"
    r"hilarious|funny|excellent|fantastic|brilliant|creepy|freaky|bad|annoying)\b", re.IGNORECASE)

# ---------------------------------------------------------------------------- roles
DIRECTOR_BEFORE = re.compile(r"\b(?:directed|helmed|made|filmed) by\s*$|\bdirector\s*$|\bby director\s*$|"
                             r"\bfrom director\s*$", re.IGNORECASE)
DIRECTOR_AFTER = re.compile(r"^\s*(?:-|–)?\s*(?:directed|directs|helmed)\b|^\s*(?:'s)?\s*(?:direction|directing)\b|"
                            r"^\s*(?:was|is|as) (?:the )?director\b", re.IGNORECASE)
WRITER_BEFORE = re.compile(r"\b(?:written|penned|scripted|adapted) by\s*$|\bscreenplay by\s*$|\bwriter\s*$|"
                           r"\bbased on(?: (?:a|the) (?:book|novel|story|stories|work|works) (?:by|of))?\s*$|"
                           r"\bauthor\s*$", re.IGNORECASE)
WRITER_AFTER = re.compile(r"^\s*(?:wrote|writes)\b|^\s*(?:'s)?\s*(?:books?|novels?|stories|writing|screenplays?|"
                          r"scripts?|adaptations?)\b|^\s*(?:novel|book) adaptations?\b", re.IGNORECASE)
CAST_BEFORE = re.compile(r"\b(?:with|starring|featuring|stars?|actor|actress|cast|co-starring)\s*$", re.IGNORECASE)
CAST_AFTER = re.compile(r"^\s*(?:is |was )?(?:in it|in them|in the lead)\b|^\s*(?:stars|starred|plays|played|acts|acted)\b",
                        re.IGNORECASE)
NATURAL_ROLE = re.compile(r"\b(?:by|from)\s*$", re.IGNORECASE)

# ---------------------------------------------------------------------------- comparisons
# Comparatives of time, when they are about films ("something newer", "older ones", "more
# recent"), not about anything else ("older actors", "earlier this morning").
NEWER = re.compile(r"\b(?:newer|more recent|more modern|most recent|latest|recent|not as old|later)\b", re.IGNORECASE)
OLDER = re.compile(r"\b(?:older|earlier|more classic|longer ago|less recent|not as (?:new|recent)|vintage|"
                   r"but (?:a |an )?(?:older )?classic|before (?:it|that one|that) came out|from before it)\b",
                   re.IGNORECASE)
COMPARATIVE_NEXT_OK = frozenset("""
one ones movie movies film films flick flicks stuff titles title version versions releases release than
please comedies dramas thrillers horrors horror comedy drama thriller action sci-fi scifi westerns western
romances romance animated cartoons choices options picks suggestions recommendations years decades era
stuff then too though instead maybe perhaps
""".split())
COMPARATIVE_PREV_OK = frozenset("""
something anything any some a an bit little but only just even go much slightly way and or more
somewhat
""".split())
COMPARATIVE_NEXT_BAD = frozenset("""
actors actor actress actresses brother sister brothers sisters kids kid audience audiences people
generation generations this today tonight week morning afternoon evening day days son daughter viewers
self age man woman men women guy guys version_of
""".split())
# "like X but newer" asks for a window after X, not anything later.
LIKE_WINDOW_YEARS = 25

# ---------------------------------------------------------------------------- audience
ADULT_AUDIENCE = re.compile(
    r"\bfor (?:grown[- ]?ups|adults|a mature audience|mature audiences|older (?:people|audiences|viewers))\b|"
    r"\bmore (?:adult|grown[- ]?up|mature)\b|\bgrown[- ]?up (?:version|movie|film)s?\b|"
    r"\bnot (?:a |for )?(?:kids?|children)(?:'s)?(?: movie| film| flick)?\b|"
    r"\bnot (?:a )?(?:family|kids?|children'?s?) (?:movie|film|flick)\b", re.IGNORECASE)

# ---------------------------------------------------------------------------- open requests
# Words about the occasion, not the film: never text to search titles with.
OCCASION_WORDS = frozenset("""
tonight today tomorrow weekend weekends night nights evening evenings morning afternoon sunday monday
tuesday wednesday thursday friday saturday date rainy lazy bored boring chill chilling relax relaxing
watch watching time now later week holiday holidays break vacation flight plane trip cozy
what's whats i'd i'll i'm it's that's there's let's can't don't
""".split())
# A need named by one word after a cue ("a movie about chess", "something involving dragons",
# "set in space"): one content word is a need when the cue says it is what the film is about.
ASPECT_CUE = re.compile(r"\b(?:about|involving|featuring|set (?:in|on|during|at)|themed around|centered on|"
                        r"centred on|revolving around)\s+(?:(?:an?|the|some|his|her|their)\s+)?([a-z][a-z'-]+)",
                        re.IGNORECASE)
# "a space movie", "dinosaur films": the word before the film noun is what the film is about
# (stop words, genres and occasions are filtered out before this is consulted).
TOPIC_BEFORE_FILM = re.compile(r"\b([a-z][a-z'-]+)\s+(?:movies?|films?|flicks?)\b", re.IGNORECASE)
# "anything really", "surprise me": the user leaves the choice to us.
VAGUE = re.compile(r"^\W*(?:(?:oh|um+|hmm+|well|honestly|idk)[,\s]+)*(?:anything(?: really| at all| is fine| works| goes)?|"
                   r"surprise me|whatever(?: you (?:think|like|want|recommend))?(?: is good)?|no preference|"
                   r"i don'?t (?:mind|care|know)|(?:it )?doesn'?t matter|up to you|you (?:choose|pick|decide)|"
                   r"dealer'?s choice|any genre|i'?m (?:open|easy|not picky))\b", re.IGNORECASE)

# ---------------------------------------------------------------------------- stated ratings
# How strongly a stated opinion of a film rates it (1–5), strongest first.
RATING_WORDS: list[tuple[float, re.Pattern[str]]] = [
    (1.0, re.compile(r"\b(?:hated?|terrible|awful|horrible|the worst|worst|sucked|sucks|garbage|trash|"
                     r"can'?t stand)\b", re.IGNORECASE)),
    (2.0, re.compile(r"\b(?:didn'?t (?:like|enjoy|love|care for)|did not (?:like|enjoy)|not (?:a )?(?:big )?fan|"
                     r"boring|meh|not (?:good|great)|wasn'?t (?:good|great|a fan)|disappointing|overrated|"
                     r"dislike[ds]?|lame|dull)\b", re.IGNORECASE)),
    (5.0, re.compile(r"\b(?:lov(?:e|ed|es|ing)|adore[ds]?|favou?rites?|the best|amazing|masterpiece|"
                     r"brilliant|fantastic|awesome|incredible|one of my (?:all[- ]time )?fav)", re.IGNORECASE)),
    (3.0, re.compile(r"\b(?:ok(?:ay)?|alright|all right|fine|not bad|decent|so-so)\b", re.IGNORECASE)),
    (4.0, re.compile(r"\b(?:lik(?:e|ed|es)|enjoy(?:ed|s)?|good|great|fun|cool|funny|nice|really good)\b",
                     re.IGNORECASE)),
]

# Words that say how to search, not what for: never part of the free-text query.
NARRATIVE_STOP = frozenset("""
nothing without isn't aren't don't doesn't didn't hate hated stand tired sick except minus anything but
newer older recent recently earlier later classic classics modern latest oldest newest version versions
suggestions suggestion recommendations recommendation recommend recommended suggest ideas please thanks
grown grownups adults adult mature kid friendly picks pick choice choices options option
lighter darker heavier grittier scarier funnier less fewer
prefer preferably especially mostly usually really actually maybe perhaps probably definitely
someone somebody thing things stuff sort kind type lot lots bit little else other others different
new old good great best nice awesome amazing favorite favourite favorites favourites cool
let let's go going get try see saw seen watched watch already think thought second
instead actually know tell show find help start keep switch change suggestions ideas other
hidden gem gems underrated overlooked obscure lesser known unknown heard indie mainstream popular famous
""".split())
