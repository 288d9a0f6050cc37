"""chatrec's knowledge graph: items and the people, genres, keywords and decades they share."""

from kg.models import Fact

__all__ = ["Fact"]
