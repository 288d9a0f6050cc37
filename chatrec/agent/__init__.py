"""The Chat-Rec agent: understand, remember, decide, retrieve, rank, explain, guard."""

from typing import TYPE_CHECKING

from chatrec.agent.models import Constraints, DialogueAct, Question, Recommendation, Reply, Trace

if TYPE_CHECKING:
    from chatrec.agent.agent import Agent


def __getattr__(name: str):
    # Lazy so that importing the boundary types does not load the whole agent.
    if name == "Agent":
        from chatrec.agent.agent import Agent

        return Agent
    raise AttributeError(name)


__all__ = ["Agent", "Constraints", "DialogueAct", "Question", "Recommendation", "Reply", "Trace"]
