"""The answer step: questions about one item ("who directed it?", "why this one?", "what is it
about?"), answered from the catalog and the knowledge graph only."""

from __future__ import annotations

from chatrec.agent import templates as T
from chatrec.agent.draft import Draft
from chatrec.agent.explain import Explainer, item_facts_for_question
from chatrec.agent.models import DialogueAct
from chatrec.agent.state import SessionState
from chatrec.catalog.models import Catalog, Item
from chatrec.protocols import Graph

_MISSING = {"director": "who directed", "cast": "who is in", "writer": "who wrote", "genre": "the genre of",
            "year": "when it was released:"}


def target_item(catalog: Catalog, state: SessionState, act: DialogueAct) -> Item | None:
    """The item a message is about: the one it names, else the one in focus ("it")."""
    target = act.target_item or state.focus_item
    return catalog.get(target) if target else None


def join(labels: list[str]) -> str:
    """"A", "A and B", "A, B and C"."""
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " and " + labels[-1]


class Answerer:
    """Answers a question about the item a message is about.

    Args:
        catalog: the items (plots, years).
        kg: the facts (people, genres).
        explainer: for "why" about an item not explained before, and general descriptions.
    """

    def __init__(self, catalog: Catalog, kg: Graph, explainer: Explainer):
        self.catalog = catalog
        self.kg = kg
        self.explainer = explainer

    def __call__(self, state: SessionState, act: DialogueAct, attributes: list[str]) -> Draft:
        """``attributes``: what explanations may point to (liked attributes, constraints)."""
        item = target_item(self.catalog, state, act)
        if item is None:
            return Draft(T.NO_TARGET, decision="answer:no-target")
        question = act.item_question or "general"
        state.focus_item = item.id
        state.mention([item.id])
        name = T.title(item)
        if question == "why":
            return self._why(state, item, attributes)
        if question == "plot":
            if item.description:
                return Draft(f"{name}: {item.description}", answer_item=item, decision="answer:plot",
                             trusted=[item.description])
            return Draft(f"I have no plot summary for {name}.", answer_item=item, decision="answer:plot-missing")
        if question in _MISSING:
            return self._fact(item, question)
        sentence, used = self.explainer.describe(item)
        return Draft(f"{name}: {sentence}", answer_item=item, facts=used, decision="answer:general")

    def _why(self, state: SessionState, item: Item, attributes: list[str]) -> Draft:
        name = T.title(item)
        shown = state.shown_evidence(item.id)
        if shown and shown.explanation:
            return Draft(f"I suggested {name} because: {shown.explanation}", answer_item=item,
                         facts=list(shown.evidence), decision="answer:why")
        liked = [i for i in reversed(state.liked_items) if i in self.catalog]
        sentence, facts = self.explainer.explain(item, liked, attributes, set(state.liked_items))
        return Draft(f"{name}: {sentence}", answer_item=item, facts=facts, decision="answer:why")

    def _fact(self, item: Item, question: str) -> Draft:
        name = T.title(item)
        facts = item_facts_for_question(self.kg, item, question)
        if not facts:
            return Draft(f"The catalog doesn't say {_MISSING[question]} {name}.", answer_item=item,
                         decision=f"answer:{question}-missing")
        labels = [f.object_label for f in facts]
        if question == "director":
            text = f"{name} was directed by {join(labels)}."
        elif question == "cast":
            text = f"{name} stars {join(labels[:5])}."
        elif question == "writer":
            text = f"{name} was written by {join(labels)}."
        elif question == "genre":
            text = f"{name} is {join(labels)}."
        else:
            text = f"{name} came out in {item.year}." if item.year else f"The catalog has no year for {name}."
        return Draft(text, answer_item=item, facts=facts, decision=f"answer:{question}")
