"""The entity linker on real phrasing: a table of mentions typed by ReDial users (dev dialogues,
typos kept), ambiguity, typos, ordinary sentences that must stay unlinked, and the three catalogs.
"""

from __future__ import annotations

import pytest

from kg.graph import KnowledgeGraph
from kg.linker import EntityLinker, Mention

# (message, [(kind, label)] that must all be found). Every message is a real ReDial user's
# (redial/dev/dialogues.jsonl), cut to the clause that matters; titles were typed, not picked.
REAL_MENTIONS: list[tuple[str, list[tuple[str, str]]]] = [
    ("Hi im looking for a good horroe movie like The Babadook",
     [("genre", "horror"), ("item", "The Babadook (2014)")]),
    ("What was the one with Nicole Kidman?", [("person", "Nicole Kidman")]),
    ("I loved Matthew McConnehey in Dallas Buyers Club", [("item", "Dallas Buyers Club (2013)")]),
    ("I also saw the houes with Will Ferral. That was kind of funny.",
     [("person", "Will Ferrell"), ("genre", "comedy")]),
    ("I also like 12 Monkeys (1995) With Bruce Willis and Brad Pit",
     [("item", "Twelve Monkeys (1995)"), ("person", "Bruce Willis"), ("person", "Brad Pitt")]),
    ("Is that with Jim Carey?", [("person", "Jim Carrey")]),
    ("oh with queen latipha", [("person", "Queen Latifah")]),
    ("Did you get to see Baywatch with Dwayane Johnson?",
     [("item", "Baywatch (2017)"), ("person", "Dwayne Johnson")]),
    ("Well you will surely love Anchroman. Have a good day.",
     [("item", "Anchorman: The Legend of Ron Burgundy (2004)")]),
    ("I'l have to watch Immortals and Kingdom of Heavin. Thanks for the help!",
     [("item", "Immortals (2011)"), ("item", "Kingdom of Heaven (2005)")]),
    ("Hi, I like the action and thriller movies.", [("genre", "action"), ("genre", "thriller")]),
    ("Hello, I like science fiction and fantasy movies.",
     [("genre", "sci-fi"), ("genre", "fantasy")]),
    ("hi do you like rom coms", [("genre", "comedy"), ("genre", "romance")]),
    ("I am looking for a documentary", [("genre", "documentary")]),
    ("Hi there! I am looking for a childrens movie!", [("genre", "family")]),
    ("Could you recomend a good suspense movie or two", [("genre", "thriller")]),
    ("I like mostly anything. Especially muscials and comedy",
     [("genre", "musical"), ("genre", "comedy")]),
    ("i loved black panther", [("item", "Black Panther (2017)")]),
    ("no not yet but i wanted to I like all spiderman movies", [("item", "Spider-Man (2002)")]),
    ("Very different from inception, but still pretty good!", [("item", "Inception (2010)")]),
    ("who is in the matrix", [("item", "The Matrix (1999)")]),
    ("psycho is good", [("item", "Psycho (1960)")]),
    ("Ive seen it, but l L O V E kingsman the 1st one not the second one",
     [("item", "Kingsman: The Secret Service (2015)")]),
    ("if you really like Kevin Spacey you could watch K-Pax it's so weird yet interesting",
     [("person", "Kevin Spacey"), ("item", "K-PAX (2001)")]),
    ("I have not seen the Muppets movie", [("item", "The Muppets (2011)")]),
    ("Im a huge fan of the original harry potter films",
     [("item", "Harry Potter and the Sorcerer's Stone (2001)")]),
    ("Id totally watch something like mean girls the duff was the last good one",
     [("item", "Mean Girls (2004)")]),
    ("YEAH I HAVE WATCHED HIDE AND SEEK NOT THAT SCARY MOVIE BUT CAN WATCH IT",
     [("item", "Hide and Seek (2005)")]),
    ('Forget about horror movies. Go watch "Overnight".',
     [("genre", "horror"), ("item", "The Overnight (2015)")]),
    ("Classic Stallone!", [("person", "Sylvester Stallone")]),
    ("Can you think of something else with the dashing Mr. Depp?", [("person", "Johnny Depp")]),
    ("It's a Judd Apatow produced comedy", [("person", "Judd Apatow"), ("genre", "comedy")]),
    ("Yes, if you like Michael C. Hall", [("person", "Michael C. Hall")]),
    ("one of my hubby's favorites was Arnold Schwarseneggar in conan the barbarian",
     [("person", "Arnold Schwarzenegger"), ("item", "Conan the Barbarian (1982)")]),
    ("Oh John Cusak is good", [("person", "John Cusack")]),
    ("i haven't seen total recall, but i've seen the hunger games and i didnt like it",
     [("item", "Total Recall (1990)"), ("item", "The Hunger Games (2012)")]),
    ("Loved Black Sheep!", [("item", "Black Sheep (1996)")]),
    ("I dont think we ever watched the incredibles together",
     [("item", "The Incredibles (2004)")]),
    ("what kind of movies do you like wind river is awesome", [("item", "Wind River (2017)")]),
    ("I loved I tonya", [("item", "I, Tonya (2017)")]),
    ("I liked Deadpool! I will take a look at Bad Boys, thank you for your help.",
     [("item", "Deadpool (2016)"), ("item", "Bad Boys (1995)")]),
    ("Spider man is super cool", [("item", "Spider-Man (2002)")]),
    ("Only saw the intro to girl on the train it was weird",
     [("item", "The Girl on the Train (2016)")]),
    ("the ref has kevin spacey and dennis leary. ride along is ice cube and kevin hart",
     [("person", "Kevin Spacey"), ("item", "Ride Along (2014)"), ("person", "Ice Cube"),
      ("person", "Kevin Hart")]),
    ("I haven't seen The Greatest Showman, what's it about?",
     [("item", "The Greatest Showman (2017)")]),
    ("The Fireworks song at the end of THe Interview is gold", [("item", "The Interview (2014)")]),
    ("Mission impossible is amazing!!1 Others? I love action movies",
     [("item", "Mission: Impossible (1996)"), ("genre", "action")]),
    ("Oh okay. Wait, didn't he write the Da vinci code?", [("item", "The Da Vinci Code (2006)")]),
    ("Yeah I've seen silence of the lambs", [("item", "The Silence of the Lambs (1991)")]),
    ("now you made me remember 22 jump street", [("item", "22 Jump Street (2014)")]),
    ("thanks a christmas carol and home alone it is", [("item", "Home Alone (1990)")]),
    ("yea i like pretty woman as well", [("item", "Pretty Woman (1990)")]),
    ("yes i loved clueless", [("item", "Clueless (1995)")]),
    ("yeah have you seen arrival", [("item", "Arrival (2016)")]),
    ("very very craazy film hahaha yea superbad is good", [("item", "Superbad (2007)")]),
    ("I like napolean dynamite", [("item", "Napoleon Dynamite (2004)")]),
    ("No i have not seen the Martian. What is it about?", [("item", "The Martian (2015)")]),
    ("I liked Sausage Party too We think alike", [("item", "Sausage Party (2016)")]),
    ("I really liked shutter Island.", [("item", "Shutter Island (2010)")]),
    ("I haven't seen August rush.. okay okay", [("item", "August Rush (2007)")]),
    ("lol I have seen Love and other drugs, and loved it",
     [("item", "Love and Other Drugs (2010)")]),
    ("gone girl was good.", [("item", "Gone Girl (2014)")]),
    ("I'm looking for a good murder mystery, Maybe something more like Gone Girl",
     [("item", "Gone Girl (2014)")]),
    ("Is it fantasy or SciFy? the name sounds like horror.",
     [("genre", "fantasy"), ("genre", "sci-fi"), ("genre", "horror")]),
    ("Hi I love 80's movies", [("decade", "1980s")]),
]


def _found(kg: KnowledgeGraph, mentions: list[Mention]) -> set[tuple[str, str]]:
    return {(m.kind, kg.label(m.node)) for m in mentions}


def test_table_is_large_enough():
    assert len(REAL_MENTIONS) >= 60
    assert sum(len(expected) for _, expected in REAL_MENTIONS) >= 80


@pytest.mark.parametrize(("text", "expected"), REAL_MENTIONS, ids=[t[:40] for t, _ in REAL_MENTIONS])
def test_real_mentions(ml_linker: EntityLinker, ml_kg: KnowledgeGraph, text, expected):
    mentions = ml_linker.link(text)
    assert set(expected) <= _found(ml_kg, mentions)
    for m in mentions:  # spans point at the text they came from
        assert text[m.start:m.end] == m.text and 0 < m.score <= 1


def test_mention_fields(ml_linker: EntityLinker):
    [mention] = ml_linker.link("have you seen Heat (1995)?")
    assert mention.text == "Heat (1995)" and mention.kind == "item"
    assert mention.node == "item:6" and mention.item_id == "6"
    assert mention.source == "title"


@pytest.mark.parametrize("text", [
    "I love it when it is up to her",
    "Anything else?",
    "Sure thing, I can help you with that.",
    "I will check it out, thanks!",
    "lol that was fun",
    "We have watched that one, it was a great movie.",
    "Good night!",
    "I watched it last night with my family",
    "what if I want something else",
    "It's about time",
    "Hello May I suggest a movie?",
    "It is what it is. Go for it, you will love it.",
    "Nothing in particular, I just want something big",
    "I really liked the characters and the story",
])
def test_ordinary_sentences_link_no_titles(ml_linker: EntityLinker, ml_kg, text):
    items = [m for m in ml_linker.link(text) if m.kind in ("item", "person")]
    assert items == [], [(m.text, ml_kg.label(m.node)) for m in items]


@pytest.mark.parametrize(("text", "label"), [
    ('I loved "Up"', "Up (2009)"),                 # quotes
    ("I loved Up (2009)", "Up (2009)"),            # a year
    ("have you seen heat", "Heat (1995)"),         # a cue before a common word
    ("The Dark Knight was great", "The Dark Knight (2008)"),
    ("Titanic", "Titanic (1997)"),                  # the whole message
])
def test_common_word_titles_with_evidence(ml_linker, ml_kg, text, label):
    assert ("item", label) in _found(ml_kg, ml_linker.link(text))


def test_common_word_title_without_evidence_is_not_linked(ml_linker):
    assert ml_linker.link("the heat was unbearable at the beach") == []


def test_context_items_need_less_evidence(ml_linker, ml_kg):
    assert ml_linker.link("I've seen it up close") == []
    up = "68954"
    mentions = ml_linker.link("I've seen Up already", context=[up])
    assert [m.item_id for m in mentions] == [up]


def test_ambiguity_reports_alternatives_resolved_by_popularity(ml_linker, ml_kg, ml):
    [titanic] = ml_linker.link("I didn't like Titanic")
    assert ml_kg.label(titanic.node) == "Titanic (1997)"
    assert titanic.ambiguous and "Titanic (1953)" in {ml_kg.label(a) for a in titanic.alternatives}
    assert ml[titanic.item_id].popularity > max(ml[a.split(":")[1]].popularity
                                               for a in titanic.alternatives)
    # a year or the conversation picks the other one
    [old] = ml_linker.link("Titanic (1953)")
    assert ml_kg.label(old.node) == "Titanic (1953)"
    assert ml_kg.label(old.alternatives[0]) == "Titanic (1997)"
    old_id = old.item_id
    [in_context] = ml_linker.link("I didn't like Titanic", context=[old_id])
    assert in_context.item_id == old_id


@pytest.mark.parametrize(("text", "kind", "label"), [
    ("Incepton", "item", "Inception (2010)"),
    ("Cristopher Nolan movies", "person", "Christopher Nolan"),
    ("jurrasic park", "item", "Jurassic Park (1993)"),
    ("back to the futue", "item", "Back to the Future (1985)"),
    ("any comdey?", "genre", "comedy"),
    ("Zach Galifinakis is hilarious", "person", "Zach Galifianakis"),
])
def test_typos(ml_linker, ml_kg, text, kind, label):
    mentions = ml_linker.link(text)
    assert (kind, label) in _found(ml_kg, mentions)
    assert any(m.source.endswith("+fuzzy") for m in mentions)


def test_real_words_are_not_corrected_into_names(ml_linker):
    # "brainless" is English (not Bailess), "check" is no Speck after "will", "honks" no Hanks
    for text in ("He turns up a lot in brainless comedies.", "I will check it out",
                 "it moves and honks to communicate"):
        assert [m for m in ml_linker.link(text) if m.kind == "person"] == []


@pytest.mark.parametrize(("text", "label"), [
    ("Nolan", "Christopher Nolan"),
    ("anything by Spielberg?", "Steven Spielberg"),
    ("something with Tom Hanks", "Tom Hanks"),
    ("Samuel Jackson", "Samuel L. Jackson"),
    ("It's Will Smith's movie!", "Will Smith"),
])
def test_people(ml_linker, ml_kg, text, label):
    assert ("person", label) in _found(ml_kg, ml_linker.link(text))


def test_obscure_surnames_are_not_people(ml_linker):
    # Tim Disney, Peyton List, Leslie Hope exist, but their surnames alone mean something else
    for text in ("Love Disney.", "add it to my watch list", "Hope you have a great day!"):
        assert [m for m in ml_linker.link(text) if m.kind == "person"] == []


@pytest.mark.parametrize(("text", "genres"), [
    ("sci-fi please", {"sci-fi"}),
    ("some science fiction", {"sci-fi"}),
    ("scary movies", {"horror"}),
    ("a rom-com", {"romance", "comedy"}),
    ("something funny", {"comedy"}),
    ("a cartoon for the kids", {"animation", "family"}),
    ("war movies", {"war"}),
])
def test_genre_synonyms(ml_linker, ml_kg, text, genres):
    found = {label for kind, label in _found(ml_kg, ml_linker.link(text)) if kind == "genre"}
    assert found == genres


def test_everyday_genre_words_need_context(ml_linker):
    assert ml_linker.link("I watched it with my family") == []
    assert [m for m in ml_linker.link("the war in the middle east") if m.kind == "genre"] == []


@pytest.mark.parametrize(("text", "decade"), [
    ("something from the 90s", 1990), ("the nineties", 1990), ("1990s movies", 1990),
    ("an 80's flick", 1980), ("early 2000s", 2000), ("a '70s film", 1970),
])
def test_decades(ml_linker, text, decade):
    nodes = [m.node for m in ml_linker.link(text) if m.kind == "decade"]
    assert nodes == [f"decade:{decade}"]


def test_keywords(ml_linker):
    nodes = {m.node for m in ml_linker.link("something about time travel and zombies")}
    assert {"keyword:time travel", "keyword:zombies"} <= nodes


def test_redial_catalog(redial_linker, redial_kg):
    found = _found(redial_kg, redial_linker.link("I loved Inception and anything with Tom Hanks"))
    assert ("item", "Inception (2010)") in found and ("person", "Tom Hanks") in found
    assert redial_linker.link("I love it when it is up to her") == []


def test_custom_catalog(books_linker, books_kg):
    found = _found(books_kg, books_linker.link("I loved Dune by Frank Herbert"))
    assert found == {("item", "Dune (1965)"), ("person", "Frank Herbert")}
    assert ("item", "The Hobbit (1937)") in _found(books_kg, books_linker.link("like the hobbit"))
    assert ("person", "J. R. R. Tolkien") in _found(books_kg, books_linker.link("more Tolkien"))
    assert ("genre", "horror") in _found(books_kg, books_linker.link("scary books"))
    assert ("keyword", "hackers") in _found(books_kg, books_linker.link("a book about hackers"))
    # "It" the novel only with evidence
    assert books_linker.link("I read it last year") == []
    assert ("item", "It (1986)") in _found(books_kg, books_linker.link('I read "It" last year'))


def test_resolve(ml_linker):
    assert ml_linker.resolve("The Matrix")[0] == "item:2571"
    assert ml_linker.resolve("Matrix, The (1999)")[0] == "item:2571"
    assert ml_linker.resolve("Titanic 1953")[0] != ml_linker.resolve("Titanic")[0]
    assert ml_linker.resolve("Cristopher Nolan") == ["person:christopher nolan"]
    assert ml_linker.resolve("sci-fi", kind="genre") == ["genre:sci fi"]
    assert ml_linker.resolve("Blorptastic 3") == []


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01", "🎬🍿", "<script>alert(1)</script>",
                                  "'; DROP TABLE movies; --", "Ça va? 映画が好き", "a" * 5000])
def test_junk_input(ml_linker, text):
    for m in ml_linker.link(text):
        assert text[m.start:m.end] == m.text
