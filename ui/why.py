"""The "Why this?" picture: a recommendation's evidence redrawn as knowledge-graph paths.

The agent sends each recommendation with its evidence, the KG edges behind its one-line why:
``candidate → entity`` and, when the reason is a liked item, ``liked item → entity``. Grouped by
entity, those edges are exactly ``kg.paths.ExplanationPath`` objects again, which
``kg.render.render_paths`` draws. Nothing is recomputed: the picture shows what the sentence says.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence

from kg.models import Fact, item_node, node_value


def paths_from_evidence(candidate_id: str, evidence: Sequence[Fact],
                        asked_for: Iterable[str] = ()) -> list:
    """ExplanationPaths (best first, in the evidence's order) rebuilt from a recommendation's facts.

    Args:
        candidate_id: the recommended item's id.
        evidence: its facts (``Recommendation.evidence`` or ``ShownItem.evidence``).
        asked_for: entity nodes the user asked for or liked ("genre:comedy"). A candidate fact
            that no liked item shares is drawn as "You → asked for" only when its entity is one
            of these; otherwise it is a plain description of the item, not a link to the user,
            and is left out of the picture (it stays in the card's evidence list).
    """
    from kg.paths import ExplanationPath

    candidate = item_node(candidate_id)
    asked = set(asked_for)
    own: dict[str, Fact] = {}
    liked: dict[str, Fact] = {}
    for fact in evidence:
        if fact.subject == candidate:
            own.setdefault(fact.object, fact)
        else:
            liked.setdefault(fact.object, fact)
    paths = []
    for rank, (via, fact) in enumerate(own.items()):
        other = liked.get(via)
        if other is None and via not in asked:
            continue
        facts = [fact, other] if other is not None else [fact]
        paths.append(ExplanationPath(facts=facts, via=via, weight=1.0 / (rank + 1),
                                     liked_item=node_value(other.subject) if other else None))
    return paths


class WhyPictures:
    """PNG pictures of explanation paths, cached (the same card is redrawn on every page update).

    Args:
        kg: the knowledge graph (labels for the nodes).
        size: how many pictures to keep.
    """

    def __init__(self, kg, size: int = 256):
        self.kg = kg
        self.size = size
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def png(self, candidate_id: str, paths: Sequence) -> bytes:
        key = hashlib.sha1(repr((candidate_id, [p.model_dump_json() for p in paths])).encode()).hexdigest()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        from kg.render import render_paths  # matplotlib: imported on first use, not at start-up

        picture = render_paths(self.kg, candidate_id, paths, fmt="png", dpi=130)
        with self._lock:
            self._cache[key] = picture
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return picture

    def data_uri(self, candidate_id: str, paths: Sequence) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png(candidate_id, paths)).decode()
