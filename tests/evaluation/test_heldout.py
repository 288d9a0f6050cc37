"""The held-out path: an agent built by ``Agent.from_config`` on a training log learns nothing from
the held-out interactions (popularity, mean rating, knowledge-graph popularity, collaborative
models, the user's history) and leaves the full data's caches alone."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("data_dir")


@pytest.fixture(scope="module")
def split(movielens):
    from chatrec.evaluation.heldout import temporal_split

    return temporal_split(movielens.interactions.frame)


@pytest.fixture(scope="module")
def validation_agent(split, settings, movielens):
    from chatrec.collab import load_or_fit

    load_or_fit(movielens, settings)  # the full data's cache exists before, as after a build
    before = sorted(p.name for p in (settings.cache_dir / "collab").iterdir())
    from chatrec.evaluation.heldout import training_agent

    agent = training_agent("movielens", split.learn_from("validation"), settings, with_index=False)
    return agent, before


def test_the_split_is_per_user_and_disjoint(split, movielens):
    frame = movielens.interactions.frame
    assert len(split.train) + len(split.validation) + len(split.test) == len(frame)
    assert len(split.validation) == len(split.test) == len(split.users()) > 500
    assert (split.test["rating"] >= 4).all() and (split.validation["rating"] >= 4).all()
    for user in split.users()[:50]:
        test = split.test[split.test["user_id"] == user].iloc[0]
        validation = split.validation[split.validation["user_id"] == user].iloc[0]
        liked = split.train[(split.train["user_id"] == user) & (split.train["rating"] >= 4)]
        # nothing liked in training comes after the validation item, which precedes the test item
        assert (liked["timestamp"] <= validation["timestamp"]).all()
        assert validation["timestamp"] <= test["timestamp"]


def test_agent_statistics_come_from_the_training_log(split, validation_agent):
    agent, _ = validation_agent
    log = split.learn_from("validation")
    counts = log["item_id"].value_counts()
    means = log.groupby("item_id")["rating"].mean()
    held = list(split.test["item_id"].iloc[:40]) + list(split.validation["item_id"].iloc[:40])
    for item_id in held:
        item = agent.catalog[item_id]
        assert item.popularity == counts.get(item_id, 0)
        assert agent.kg.popularity(item_id) == counts.get(item_id, 0)
        if item_id in means:
            assert item.mean_rating == pytest.approx(means[item_id], abs=1e-3)
    assert len(agent.catalog.interactions) == len(log)
    assert agent.resources.collab.matrix.nnz == len(log.drop_duplicates(["user_id", "item_id"]))


def test_agent_never_saw_a_held_out_rating(split, validation_agent):
    agent, _ = validation_agent
    truth = {"test": split.truth("test"), "validation": split.truth("validation")}
    for user in split.users()[:60]:
        history = agent.resources.collab.user_history(user)
        logged = set(agent.catalog.interactions.history(user)["item_id"])
        for which in ("test", "validation"):
            assert truth[which][user] not in history and truth[which][user] not in logged
        ranked = [r.item.id for r in agent.rank(f"s:{user}", k=10, user_id=f"ml:{user}")]
        assert len(ranked) == 10 and not set(ranked) & logged


def test_held_out_fits_leave_the_full_data_caches_alone(settings, validation_agent):
    _, before = validation_agent
    assert sorted(p.name for p in (settings.cache_dir / "collab").iterdir()) == before
