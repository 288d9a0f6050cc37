"""The rate step: "what would I give Heat?", from what the user said and their rating history.

What the user said counts as a rating: "I loved Inception" is a 5 for Inception (asked about
Inception, that is the answer), and for any other film the stated ratings are the history the
rating model folds in (``KNNBaselinePredictor.predict_for``), as it would a new user's ratings. A
user of the catalog's interaction log is predicted from that log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from chatrec.agent import templates as T
from chatrec.agent.answer import target_item
from chatrec.agent.draft import Draft
from chatrec.agent.models import DialogueAct
from chatrec.agent.query import UserContext
from chatrec.catalog.models import Catalog
from chatrec.protocols import Collaborative

if TYPE_CHECKING:
    from chatrec.collab.rating import RatingPrediction

_SAID = {5: "loved", 4: "liked", 3: "thought was okay", 2: "didn't like", 1: "hated"}


class Rater:
    """Predicts the user's rating of the item a message is about, with the rated items that
    moved the estimate as the reason.

    Args:
        catalog: the items.
        collab: the rating predictor (None: no interactions; only stated ratings are known).
    """

    def __init__(self, catalog: Catalog, collab: Collaborative | None):
        self.catalog = catalog
        self.collab = collab

    def __call__(self, context: UserContext, act: DialogueAct) -> Draft:
        state = context.state
        item = target_item(self.catalog, state, act)
        if item is None:
            return Draft(T.NO_TARGET, decision="rate:no-target")
        state.focus_item = item.id
        profile = context.profile
        stated = {**(profile.ratings if profile is not None else {}), **state.ratings}
        if item.id in stated:
            value = stated[item.id]
            said = _SAID.get(round(value), "rated")
            return Draft(f"You told me you {said} {T.title(item)} — so I'd put it at {value:.1f} out of 5 for you.",
                         answer_item=item, decision="rate:said")
        model = self.collab.rating if self.collab is not None else None
        prediction = None
        if model is not None and context.log_user is not None:
            prediction = model.predict(context.log_user, item.id)
        elif model is not None and stated:
            prediction = model.predict_for(dict(stated), item.id)
        if prediction is None:
            if (context.log_user is None or model is None) and not stated:
                return Draft(T.COLD_RATING, answer_item=item, decision="rate:cold")
            return Draft(f"I can't guess a rating for {T.title(item)} — too little to go on.", answer_item=item,
                         decision="rate:unknown")
        value = round(float(prediction.value) * 2) / 2
        text = f"I'd guess you would give {T.title(item)} about {value:.1f} out of 5"
        reasons = self._reasons(prediction, stated)
        text += f" — {reasons}." if reasons else "."
        return Draft(text, answer_item=item, decision="rate")

    def _reasons(self, prediction: RatingPrediction, stated: Mapping[str, float]) -> str:
        parts = []
        for entry in sorted(prediction.neighbours, key=lambda n: -n.similarity)[:2]:
            if entry.item_id not in self.catalog:
                continue
            film = T.title(self.catalog[entry.item_id])
            if entry.item_id in stated:
                parts.append(f"{film}, which you told me you {_SAID.get(round(entry.rating), 'rated')}")
            else:
                parts.append(f"{film}, which you rated {entry.rating:g}")
        return ("based on similar films: " + "; ".join(parts)) if parts else ""
