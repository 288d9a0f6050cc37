"""The rate step: "what would I give Heat?", predicted from the user's interaction history."""

from __future__ import annotations

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


class Rater:
    """Predicts the user's rating of the item a message is about, with the rated items that
    moved the estimate as the reason.

    Args:
        catalog: the items.
        collab: the rating predictor (None: no interactions, every user is cold).
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
        if context.log_user is None or self.collab is None:
            return Draft(T.COLD_RATING, answer_item=item, decision="rate:cold")
        prediction = self.collab.rating.predict(context.log_user, item.id)
        if prediction is None:
            return Draft(f"I can't guess a rating for {T.title(item)} — too little to go on.", answer_item=item,
                         decision="rate:unknown")
        value = round(float(prediction.value) * 2) / 2
        text = f"I'd guess you would give {T.title(item)} about {value:.1f} out of 5"
        reasons = self._reasons(prediction)
        text += f" — {reasons}." if reasons else "."
        return Draft(text, answer_item=item, decision="rate")

    def _reasons(self, prediction: RatingPrediction) -> str:
        parts = []
        for entry in sorted(prediction.neighbours, key=lambda n: -n.similarity)[:2]:
            if entry.item_id in self.catalog:
                parts.append(f"{T.title(self.catalog[entry.item_id])}, which you rated {entry.rating:g}")
        return ("based on similar films you rated: " + "; ".join(parts)) if parts else ""
