"""Turn-latency benchmark of the agent (no LLM): ``chatrec bench agent``.

Scripted, distinct turns over many sessions on a real catalog: requests with genres, decades,
people and titles, refinements, feedback, questions and a few known MovieLens users. Reports
p50/p95/max turn latency after a warm-up, a per-step breakdown and cache hit rates.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass, field

from chatrec.catalog.users import user_address

GENRES = ["comedy", "drama", "thriller", "sci-fi", "romance", "action", "horror", "animation",
          "crime", "adventure", "fantasy", "mystery", "documentary", "western", "war"]
DECADES = ["70s", "80s", "90s", "2000s", "the sixties", "2010s"]
OPENERS = [
    "I loved {title}, anything similar?", "something like {title}", "a {decade} {genre}",
    "movies with {person}", "I'm in the mood for a {genre}", "recommend me a {genre} from the {decade}",
    "I enjoyed {title} and {title2}", "a {genre} film directed by {director}",
    "something for a rainy Sunday with my kids", "a feel-good movie about friendship",
]
FOLLOW_UPS = [
    "something older", "something newer", "something lighter", "no {genre} please", "more like the second one",
    "not that one", "I've seen it", "who directed it?", "what is it about?", "why did you suggest the first one?",
    "with {person}", "more", "I didn't like {title}", "what would I rate {title}?", "thanks!",
    "something older, maybe a {genre}", "I've seen {title}, something newer?", "who is in {title}?",
    "what is {title} about?", "more like {title}", "not {title}, something from the {decade}",
    "I loved {title}, more like that", "no {genre}, and nothing with {person}", "who directed {title}?",
    "something lighter than {title}", "the {ordinal} one sounds good, more like it",
]
ORDINALS = ["first", "second", "third", "fourth", "last"]


@dataclass
class BenchResult:
    turns: int
    sessions: int
    latencies_ms: list[float]
    steps_ms: dict[str, list[float]] = field(default_factory=dict)
    decisions: dict[str, int] = field(default_factory=dict)

    @staticmethod
    def percentile(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0

    def summary(self) -> dict:
        lat = self.latencies_ms
        return {
            "turns": self.turns, "sessions": self.sessions,
            "p50_ms": round(self.percentile(lat, 0.5), 2), "p95_ms": round(self.percentile(lat, 0.95), 2),
            "max_ms": round(max(lat), 2) if lat else 0.0, "mean_ms": round(statistics.fmean(lat), 2) if lat else 0.0,
            "steps": {k: {"p50_ms": round(self.percentile(v, 0.5), 2), "p95_ms": round(self.percentile(v, 0.95), 2)}
                      for k, v in sorted(self.steps_ms.items())},
            "decisions": dict(sorted(self.decisions.items())),
        }


def script(agent, turns: int, sessions: int, seed: int = 0) -> list[tuple[str, str, str | None]]:
    """(session id, message, user id) triples: distinct messages, several turns per session."""
    rng = random.Random(seed)
    catalog = agent.catalog
    popular = catalog.popular(600)
    people = [p for it in popular[:300] for p in it.cast[:2]]
    directors = [d for it in popular[:300] for d in it.directors[:1]]
    users = catalog.interactions.user_ids[:40] if catalog.interactions is not None else []

    def fill(template: str) -> str:
        a, b = rng.sample(popular, 2)
        return template.format(title=a.title, title2=b.title, genre=rng.choice(GENRES), decade=rng.choice(DECADES),
                               ordinal=rng.choice(ORDINALS),
                               person=rng.choice(people) if people else "Tom Hanks",
                               director=rng.choice(directors) if directors else "Steven Spielberg")

    per_session = max(1, turns // sessions)
    out: list[tuple[str, str, str | None]] = []
    seen: set[str] = set()
    for s in range(sessions):
        user = user_address(catalog.name, rng.choice(users)) if users and s % 3 == 0 else None
        sid = f"bench-{seed}-{s}"
        for t in range(per_session):
            for _ in range(20):
                message = fill(rng.choice(OPENERS if t == 0 else FOLLOW_UPS))
                if message not in seen:   # distinct turns: no warm repeats of one message
                    break
            seen.add(message)
            out.append((sid, message, user))
    return out[:turns]


def run(agent, turns: int = 200, sessions: int = 50, warmup: int = 30, seed: int = 0) -> BenchResult:
    """Warm up on a separate script, then time ``turns`` turns over ``sessions`` sessions."""
    for sid, message, user in script(agent, warmup, max(1, warmup // 4), seed=seed + 1000):
        agent.respond(f"warm-{sid}", message, user_id=user)
    result = BenchResult(turns=turns, sessions=sessions, latencies_ms=[])
    for sid, message, user in script(agent, turns, sessions, seed=seed):
        started = time.perf_counter()
        reply = agent.respond(sid, message, user_id=user)
        result.latencies_ms.append((time.perf_counter() - started) * 1000)
        for step, ms in reply.trace.timings_ms.items():
            if step != "total":
                result.steps_ms.setdefault(step, []).append(ms)
        decision = reply.trace.decision.split(":")[0] or "none"
        result.decisions[decision] = result.decisions.get(decision, 0) + 1
    return result
