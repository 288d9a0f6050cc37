"""The scripted user's phrase bank: written after real seekers (every template names a ReDial or
IARD dialogue that exists), split into a tuning and a held-out half that share no template, and a
user of one half never speaks the other half's words."""

from __future__ import annotations

import json
import re
import string

import pytest

from chatrec.evaluation import phrases as P

SLOTS = {
    "genre": set(P.genre_slots("comedy")),
    "not_genre": set(P.genre_slots("comedy")),
    "want_genre": set(P.genre_slots("comedy")),
    "decade": set(P.decade_forms(1990)),
    "keyword": {"kw", "Kw"},
    "director": {"name"},
    "cast": {"name"},
    "accept": {"title"},
}


def _slots(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_template_fills_its_slots_and_nothing_else():
    for kind, rows in P.BANK.items():
        assert rows, kind
        for template in rows:
            assert template.id == f"{kind}/{template.index}" and P.BY_ID[template.id] is template
            assert _slots(template.text) <= SLOTS.get(kind, set()), template.text
    for genre in P.GENRE_NOUN:
        for template in P.BANK["genre"] + P.BANK["not_genre"] + P.BANK["want_genre"]:
            if "{word}" in template.text and genre not in P.GENRE_WORD:
                continue
            text = template.format(**P.genre_slots(genre))
            assert "{" not in text and "  " not in text
    for decade in (1950, 1990, 2000, 2010):
        forms = P.decade_forms(decade)
        assert forms["long"] == f"{decade}s"
        for template in P.BANK["decade"]:
            text = template.format(**forms)
            assert str(decade)[2:] in text or forms["words"] in text


def test_halves_split_every_kind_and_share_nothing():
    tuning, held_out = P.Phrases("tuning"), P.Phrases("held-out")
    for kind in P.BANK:
        a, b = tuning.options(kind), held_out.options(kind)
        assert a and b, kind
        assert not {t.id for t in a} & {t.id for t in b}
        assert {t.id for t in a} | {t.id for t in b} == {t.id for t in P.BANK[kind]}
        assert abs(len(a) - len(b)) <= 1
    with pytest.raises(ValueError):
        P.Phrases("validation")  # type: ignore[arg-type]


@pytest.mark.usefixtures("data_dir")
def test_every_template_was_written_after_a_real_seeker(data_dir):
    redial = set()
    with open(data_dir / "redial" / "dev" / "dialogues.jsonl", encoding="utf-8") as handle:
        for line in handle:
            redial.add(str(json.loads(line)["conversationId"]))
    iard = set(json.loads((data_dir / "redial" / "iard" / "umap2020_IARD_Cai.json").read_text()))
    for template in P.BY_ID.values():
        source, _, cid = template.after.partition(":")
        assert source in ("redial", "iard") and re.fullmatch(r"\d+", cid), template
        assert cid in (redial if source == "redial" else iard), template


@pytest.mark.usefixtures("data_dir")
def test_a_user_of_one_half_speaks_only_that_half(movielens, movielens_kg):
    from chatrec.evaluation.user import SimulatedUser, SystemTurn

    popular = [it.id for it in movielens.popular(60)]
    targets = [it for it in movielens.popular(400)[200:240] if it.year and it.genres]
    for half in P.HALVES:
        used = set()
        for n, target in enumerate(targets):
            user = SimulatedUser(target, movielens, movielens_kg, f"h{n}", phrases=P.Phrases(half))
            said = [user.opening()]
            for t in range(4):
                said.append(user.reply(SystemTurn(items=popular[5 * t: 5 * t + 5])))
            said.append(user.reply(SystemTurn(question="genre")))
            used |= {tid for u in said for tid in u.templates}
        assert used and all(P.half_of(tid) == half for tid in used)
        assert len({tid.split("/")[0] for tid in used}) >= 5  # reveals, rejections, reasons
