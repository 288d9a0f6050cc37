"""A custom catalog's users are addressable and personalised: a 60-product JSONL catalog in four
categories with an interactions file that has no ratings (implicit feedback). No data needed."""

from __future__ import annotations

import json
import random

import pytest

from chatrec.agent import Agent
from chatrec.catalog import load_catalog
from chatrec.catalog.users import liked, log_user, rating_scale, user_address
from chatrec.config import Settings
from chatrec.testing.resources import hashed_resources

CATEGORIES = {
    "grinder": (["Baratza", "Comandante", "Timemore"], ["burr", "grind size", "conical burr", "hand crank",
                                                         "stepped adjustment", "espresso fine"]),
    "kettle": (["Fellow", "Bonavita", "Brewista"], ["gooseneck", "temperature control", "stainless steel",
                                                    "keep warm", "electric base", "pour spout"]),
    "brewer": (["Hario", "Kalita", "Chemex"], ["pour-over", "paper filter", "immersion", "glass carafe",
                                               "drip cone", "single cup"]),
    "beans": (["Onyx", "Sey", "Tim Wendelboe"], ["single origin", "light roast", "washed process",
                                                 "fruity notes", "whole bean", "ethiopia"]),
}


@pytest.fixture(scope="module")
def shop_files(tmp_path_factory):
    """The catalog file and its interactions (user_id,item_id: no rating column), in one folder;
    and the item ids of each category."""
    folder = tmp_path_factory.mktemp("shop")
    rng = random.Random(5)
    items, by_category = [], {}
    for category, (brands, features) in CATEGORIES.items():
        for n in range(15):
            item_id = f"{category[:2]}-{n:02d}"
            chosen = rng.sample(features, 3)
            items.append({"id": item_id, "title": f"{rng.choice(brands)} {category.title()} {n + 1}",
                          "categories": [category], "brand": brands[n % 3], "features": chosen,
                          "description": f"A {category} with {', '.join(chosen)}."})
            by_category.setdefault(category, []).append(item_id)
    (folder / "shop.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    lines = ["user_id,item_id"]
    for u in range(24):   # each shopper mostly sticks to one category, with an odd item elsewhere
        home = list(CATEGORIES)[u % 4]
        picks = rng.sample(by_category[home], 6) + [rng.choice(by_category[rng.choice(list(CATEGORIES))])]
        lines += [f"u{u},{i}" for i in dict.fromkeys(picks)]
    lines += [f"grinder-fan,{i}" for i in by_category["grinder"][:6]]
    (folder / "shop.interactions.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder, by_category


@pytest.fixture(scope="module")
def shop(shop_files):
    """Resources for the shop, with the word-hashing embedder (no model to load)."""
    folder, by_category = shop_files
    settings = Settings(home=folder / "home")
    resources = hashed_resources(load_catalog(str(folder / "shop.jsonl"), settings), settings)
    yield resources, by_category
    resources.index.close()


def test_the_log_is_implicit_and_every_interaction_is_liked(shop):
    resources, _ = shop
    interactions = resources.catalog.interactions
    assert set(interactions.frame["rating"]) == {1.0}
    assert rating_scale(interactions) is None
    assert len(liked(interactions.history("grinder-fan"), None)) == 6


def test_users_are_addressed_as_catalog_colon_user(shop):
    resources, _ = shop
    catalog = resources.catalog
    assert catalog.name == "shop" and user_address("shop", "u3") == "shop:u3"
    assert log_user(catalog, "shop:u3") == "u3"
    assert log_user(catalog, "shop:nobody") is None
    assert log_user(catalog, "ml:u3") is None            # "ml:" is MovieLens' short form only
    assert log_user(catalog, "web:u3") is None


def test_a_history_of_one_category_personalises_the_ranking(shop):
    resources, by_category = shop
    agent = Agent(resources, store=None)
    ranked = agent.rank("s", k=10, user_id=user_address("shop", "grinder-fan"))
    grinders = set(by_category["grinder"])
    assert len(ranked) == 10
    assert not {r.item.id for r in ranked} & set(by_category["grinder"][:6]), "owned items are not offered"
    assert sum(r.item.id in grinders for r in ranked) >= 6, [r.item.title for r in ranked]
    anonymous = agent.rank("t", k=10)
    assert sum(r.item.id in grinders for r in anonymous) < 6


def test_a_reply_explains_with_the_users_own_history(shop):
    resources, by_category = shop
    agent = Agent(resources, store=None)
    reply = agent.respond("s", "recommend me something", user_id="shop:grinder-fan")
    assert reply.recommendations and reply.trace.guard.passed
    assert sum(r.item.genres == ["grinder"] for r in reply.recommendations) >= 3
    assert any("you liked" in r.explanation for r in reply.recommendations)


@pytest.mark.slow
def test_the_agent_users_get_personalises_a_custom_catalog(shop_files, tmp_path):
    """The documented path end to end: ``Agent.from_config`` on the file (the real embedder, the
    learnt parts fitted on this log, no LLM) ranks for ``shop:grinder-fan``."""
    folder, by_category = shop_files
    agent = Agent.from_config(str(folder / "shop.jsonl"), Settings(home=tmp_path / "home"), llm=False, store=False)
    ranked = agent.rank("s", k=10, user_id="shop:grinder-fan")
    grinders = set(by_category["grinder"])
    assert len(ranked) == 10
    assert not {r.item.id for r in ranked} & set(by_category["grinder"][:6]), "owned items are not offered"
    assert sum(r.item.id in grinders for r in ranked) >= 6, [r.item.title for r in ranked]


def test_a_log_too_small_to_learn_a_ranker_from_keeps_the_fusion(shop):
    """25 shoppers give ~90 held-out rankings: too few to learn an order from, so the agent keeps
    the hand-set fusion with the quality prior (and says why in the learnt report)."""
    from chatrec.learn import learn
    from chatrec.learn.models import MIN_INTERACTION_RANKINGS

    resources, _ = shop
    learnt = learn(resources)
    assert learnt.ranker_model is None
    assert f"fewer than {MIN_INTERACTION_RANKINGS}" in learnt.report["ranker"]["why"]
