"""The role a request asks of a person: "directed by X" wants X as director, "with X" or
"starring X" as cast, "written by X" or "based on X" as writer, and "by X" or "an X film" the role
X is known for (Nolan directs, Stephen King writes, Tom Hanks acts).
"""

from __future__ import annotations

import re
from typing import Literal

from chatrec.agent import patterns as P
from chatrec.agent.scope import clause_after, clause_before
from kg.models import DIRECTED_BY, MADE_BY, STARS, WRITTEN_BY

Role = Literal["director", "cast", "writer", "any"]
#: Constraint field for each role.
ROLE_FIELDS: dict[str, str] = {"director": "directors_any", "cast": "cast_any", "writer": "writers_any",
                               "any": "people_any"}


class RoleReader:
    """Which role a mention of a person asks for.

    Args:
        kg: the knowledge graph (how often a person directed, acted, wrote).
    """

    def __init__(self, kg):
        self.kg = kg
        self._natural: dict[str, Role] = {}

    def role(self, text: str, start: int, end: int, node: str) -> Role:
        """The role asked of the person mentioned at ``text[start:end]``: an explicit cue next to
        the name if there is one, else the role they are known for."""
        before = clause_before(text, start, 40)
        after = clause_after(text, end, 30)
        cues: list[tuple[int, Role]] = []
        roles: tuple[tuple[Role, re.Pattern[str], re.Pattern[str]], ...] = (
                ("director", P.DIRECTOR_BEFORE, P.DIRECTOR_AFTER),
                ("writer", P.WRITER_BEFORE, P.WRITER_AFTER),
                ("cast", P.CAST_BEFORE, P.CAST_AFTER))
        for role, pattern_before, pattern_after in roles:
            hit = pattern_before.search(before)
            if hit:
                cues.append((len(before) - hit.start(), role))
            hit = pattern_after.search(after)
            if hit:
                cues.append((hit.end(), role))
        if cues:
            return min(cues)[1]
        return self.natural_role(node)

    def natural_role(self, node: str) -> Role:
        """What a person is known for: directing when they directed a fair share of their films
        (Clint Eastwood, George Lucas), else acting or writing, whichever they did more; "any"
        for makers of non-film items (a brand, an author of a custom catalog)."""
        cached = self._natural.get(node)
        if cached is not None:
            return cached
        count = {relation: len(self.kg.items_with(node, relation)) if self.kg is not None else 0
                 for relation in (DIRECTED_BY, STARS, WRITTEN_BY, MADE_BY)}
        directed, acted, wrote = count[DIRECTED_BY], count[STARS], count[WRITTEN_BY]
        role: Role
        if count[MADE_BY] > directed + acted + wrote:
            role = "any"
        elif directed >= 2 and directed >= 0.3 * max(acted, wrote):
            role = "director"
        elif acted >= wrote and acted > 0:
            role = "cast"
        elif wrote > 0:
            role = "writer"
        else:
            role = "any"
        self._natural[node] = role
        return role
