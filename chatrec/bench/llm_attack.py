"""The closed-world guard under attack, for ``chatrec bench llm``: the adversarial corpus of lies
(``chatrec.testing.llm_lies``) told through a lying OpenAI-compatible server, one lie per turn,
streamed and not (how many were shown to the user), and checked offline by the guard on fixed
scenes, in the closed world that LLM text gets and in the open world that templates get (what
the guard let through before it was closed).
"""

from __future__ import annotations

import time
from collections import Counter

from chatrec.agent import Agent
from chatrec.agent.guard import Guard
from chatrec.agent.llm_bridge import AgentLLM
from chatrec.llm import LLM
from chatrec.resources import Resources
from chatrec.testing.checks import assert_grounded
from chatrec.testing.llm_lies import HONEST, LIES, Lie, LieTeller, build_scene, lie_shown, passes
from chatrec.testing.llm_servers import ScriptedLLMServer

MESSAGE = "something like Toy Story"
# (recommended, discussed) titles of the offline scenes (as in tests/agent/test_closed_world_guard.py).
SCENES = [
    (["Fight Club", "Heat (1995)", "Toy Story"], ["Inception"]),
    (["Toy Story", "Inception", "Forrest Gump"], ["The Matrix"]),
    (["The Dark Knight", "Titanic (1997)", "Big (1988)"], []),
    (["Memento", "Home Alone", "The Shining"], ["Cast Away"]),
]


def _turn(agent: Agent, session: str, message: str, stream: bool) -> tuple[list, float]:
    """Every reply version the user saw in a turn, and the seconds until the last one."""
    started = time.perf_counter()
    replies = list(agent.respond_stream(session, message)) if stream else [agent.respond(session, message)]
    return replies, time.perf_counter() - started


def tell_lies(resources: Resources, lies: list[Lie], *, stream: bool, deadline: float = 8.0) -> dict:
    """Each lie in a turn of its own (a new session asking for recommendations): how many were
    shown, by shape, how many turns stayed grounded, and the slowest turn."""
    teller = LieTeller(resources.catalog, resources.kg, lies=list(lies))
    shown: list[str] = []
    grounded = 0
    seconds: list[float] = []
    with ScriptedLLMServer(teller) as server:
        agent = Agent(resources, store=None,
                      llm=AgentLLM(LLM(server.chat_model(), timeout=5.0, max_retries=1), max_calls=2,
                                   turn_deadline_s=deadline))
        turn = 0
        while len(teller.served) < len(lies) and turn < 3 * len(lies):
            before = len(teller.served)
            replies, took = _turn(agent, f"lies-{turn}", MESSAGE, stream)
            turn += 1
            seconds.append(took)
            try:
                assert_grounded(agent, replies[-1])
                grounded += 1
            except AssertionError:
                pass
            if len(teller.served) == before:
                continue   # no phrasing this turn (nothing recommended, or the budget was spent)
            lie, told = teller.served[-1]
            if lie_shown(lie.sentence_in(told), [r.text for r in replies]):
                shown.append(lie.name)
    by_shape = Counter(lie.shape for lie in lies if lie.name in shown)
    return {"told": len(teller.served), "shown": len(shown), "shown_lies": shown, "shown_by_shape": dict(by_shape),
            "turns": turn, "grounded": grounded / max(turn, 1), "turn_max_s": max(seconds, default=0.0)}


def offline(resources: Resources) -> dict:
    """The corpus against ``Guard.check`` on fixed scenes: lie instances passing in the open
    world (templates' check; the guard LLM text had before) and the closed world (LLM text's),
    whole and sentence by sentence; and honest phrasings passing the closed world."""
    guard = Guard(resources.catalog, resources.kg, resources.linker)
    counts = Counter()
    for recommended, discussed in SCENES:
        found = [resources.catalog.find_title(t) for t in [*recommended, *discussed]]
        if not all(found):
            continue
        ids = [f[0].id for f in found]
        scene = build_scene(resources.catalog, resources.kg, ids[:len(recommended)], ids[len(recommended):])
        for lie in LIES:
            text = lie.reply(scene)
            counts["lies"] += 1
            for closed in (False, True):
                counts[f"{'closed' if closed else 'open'}_passed"] += any(
                    passes(guard, scene, text, closed_world=closed))
        for make in HONEST:
            counts["honest"] += 1
            counts["honest_passed"] += guard.check(make(scene), scene.recommended, scene.discussed,
                                                   closed_world=True).passed
    return dict(counts)
