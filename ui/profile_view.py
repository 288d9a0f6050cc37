"""The "Your profile" panel: this session's requests, likes and dislikes, and what is remembered
about the user from earlier sessions, as removable chips."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ui.views import Chip, ProfileSection

if TYPE_CHECKING:
    from chatrec.agent import Agent
    from chatrec.agent.state import SessionState


def profile_sections(agent: Agent, state: SessionState, stored: dict | None) -> list[ProfileSection]:
    """The panel's sections; ``stored``: the user's stored profile (None: an anonymous session)."""
    kg, catalog = agent.kg, agent.catalog

    used: set[str] = set()

    def item_chips(ids):
        chips = []
        for i in ids:
            if i in catalog and i not in used:
                used.add(i)
                chips.append(Chip(catalog[i].display, i))
        return chips

    def node_chips(nodes):
        chips = []
        for node in nodes:
            if node not in used:
                used.add(node)
                chips.append(Chip(_label(kg, node), node))
        return chips

    c = state.constraints
    request: list[Chip] = []
    years = _years(c.year_min, c.year_max)
    if years:
        request.append(Chip(years, "years"))   # agent.remove_preference lifts the range
    request += node_chips(c.nodes(decades=False))  # the years chip stands for decades
    sections = [
        ProfileSection("Your request", request, "req"),
        ProfileSection("Liked", item_chips(reversed(state.liked_items)), "like"),
        ProfileSection("Not for me", item_chips(reversed(state.disliked_items)), "dislike"),
        ProfileSection("Seen", item_chips(reversed(state.seen_items)), "seen"),
        ProfileSection("You like", node_chips(reversed(state.liked_attributes)), "like"),
        ProfileSection("You'd rather avoid",
                       node_chips([*reversed(state.disliked_attributes), *c.excluded_nodes()]),
                       "dislike"),
    ]
    if stored is not None:
        earlier = []
        for key, sign in (("liked_items", "👍"), ("disliked_items", "👎"), ("seen_items", "✓")):
            for chip in item_chips(reversed(stored.get(key, []))):
                earlier.append(Chip(f"{sign} {chip.label}", chip.value))
        for key, sign in (("liked_attributes", "👍"), ("disliked_attributes", "👎")):
            for chip in node_chips(reversed(stored.get(key, []))):
                earlier.append(Chip(f"{sign} {chip.label}", chip.value))
        sections.append(ProfileSection("Remembered from earlier sessions", earlier, "saved"))
    return sections


def _label(kg, node: str) -> str:
    try:
        return kg.label(node)
    except Exception:  # noqa: BLE001 - a node the KG lost since: show its raw value
        return node.split(":", 1)[-1]


def _years(year_min: int | None, year_max: int | None) -> str:
    if year_min is not None and year_max is not None:
        if year_min % 10 == 0 and year_max == year_min + 9:
            return f"the {year_min}s"
        return f"{year_min}–{year_max}"
    if year_min is not None:
        return f"from {year_min}"
    if year_max is not None:
        return f"up to {year_max}"
    return ""
