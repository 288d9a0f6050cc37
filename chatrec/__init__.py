"""chatrec: a conversational recommender that people can trust."""

from typing import TYPE_CHECKING

from chatrec import config as _config  # noqa: F401  (sets the offline switches first)

if TYPE_CHECKING:
    from chatrec.agent import Agent

__version__ = "0.1.0"


def __getattr__(name: str):
    # Lazy: importing chatrec should not pull torch, chromadb or gradio.
    if name == "Agent":
        from chatrec.agent import Agent

        return Agent
    raise AttributeError(name)


__all__ = ["Agent", "__version__"]
