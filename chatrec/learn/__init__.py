"""What the agent learns from data, built by ``chatrec build`` and used by default by every agent
``Agent.from_config`` makes: dialogue statistics from ReDial training dialogues, and a LightGBM
LambdaRank ranker over the fused candidates (trained on those dialogues, or on held-out
interactions for a catalog with a log). A catalog with neither keeps the hand-set fusion with a
quality prior.

    from chatrec.learn import learn, load_or_learn
    learnt = load_or_learn(resources)          # stored under CHATREC_HOME/learnt/<catalog>
    learnt.report                              # what was learnt from what, feature importances
"""

from __future__ import annotations

import logging

from chatrec.learn.models import LearntModels, learn, learnt_dir, load_learnt

logger = logging.getLogger(__name__)

#: The training dialogues the ReDial catalog learns from (a sample of ReDial's train split).
REDIAL_DIALOGUES = "redial/dev/dialogues.jsonl"


def training_dialogues(catalog, settings) -> tuple[list, dict[str, str], str | None]:
    """(dialogues, ReDial id → name, digest) a catalog learns from: ReDial's training dialogues for
    the ReDial catalog, none for any other."""
    if catalog.name != "redial":
        return [], {}, None
    from chatrec.catalog.fetch import ensure_data
    from chatrec.catalog.raw import read_id2info
    from chatrec.catalog.redial_dialogues import read_dialogues
    from chatrec.catalog.sources import FILES_BY_PATH

    root = ensure_data(settings, needed=[REDIAL_DIALOGUES], progress=False)
    names = {i: " ".join(v.get("name", "").split()) for i, v in read_id2info(root).items()}
    return read_dialogues(root / REDIAL_DIALOGUES), names, FILES_BY_PATH[REDIAL_DIALOGUES].sha256


def load_or_learn(resources, build_missing: bool = True, rebuild: bool = False,
                  progress: bool = False) -> LearntModels | None:
    """The catalog's learnt models: stored ones if learnt from the current data, else learnt now
    (when ``build_missing``) and stored. None when missing and not to be built."""
    from chatrec.learn.models import data_key

    catalog, settings = resources.catalog, resources.settings
    digest = None
    if catalog.name == "redial":
        from chatrec.catalog.sources import FILES_BY_PATH

        digest = FILES_BY_PATH[REDIAL_DIALOGUES].sha256
    if not rebuild:
        stored = load_learnt(catalog, settings, digest)
        if stored is not None or not build_missing:
            return stored
    dialogues, names, digest = training_dialogues(catalog, settings)
    learnt = learn(resources, dialogues or None, names, progress=progress,
                   sources_note={REDIAL_DIALOGUES: digest} if digest else {})
    learnt.report["key"] = data_key(catalog, digest)
    try:
        learnt.save(learnt_dir(settings, catalog))
    except OSError as exc:
        logger.warning("could not store the learnt models of %s: %s", catalog.name, exc)
    return learnt


__all__ = ["LearntModels", "learn", "learnt_dir", "load_learnt", "load_or_learn", "training_dialogues"]
