"""The measures every simulated-user evaluation reports, whoever plays the user (scripted
phrases, an LLM, or a real ReDial seeker's own words), so the three can sit in one table:

- ``success@k``: share of episodes in which a wanted film was among the first k recommendations
  of some reply, with a percentile bootstrap interval over episodes;
- ``median_turns``: the user's turns until that reply, over the successful episodes;
- ``questions_per_episode``: how many replies asked the user a question instead of (or besides)
  recommending;
- each baseline's ``success@k`` through the same loop, and the agent's ratio to it (paired
  bootstrap over the same episodes).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from chatrec.evaluation import metrics as M


@dataclass(frozen=True)
class Outcome:
    """One system's episode.

    Attributes:
        success_turn: the user turn (1-based) after which a wanted film was shown; None: never.
        turns: user turns the episode had.
        questions: replies that asked the user something.
    """

    success_turn: int | None
    turns: int
    questions: int = 0


def from_records(records: list[dict], systems: list[str], success: str) -> dict[str, list[Outcome]]:
    """Each system's episodes from a harness's records (``record["systems"][name]`` with the
    successful turn under ``success`` and a ``turns`` list whose entries may hold a
    ``question``)."""
    return {
        name: [
            Outcome(
                r["systems"][name][success],
                len(r["systems"][name]["turns"]),
                sum(1 for turn in r["systems"][name]["turns"] if turn.get("question")),
            )
            for r in records
        ]
        for name in systems
    }


def measures(outcomes: list[Outcome], k: int, seed: int = 0) -> dict:
    """The measures of one system over its episodes."""
    successes = [o.success_turn for o in outcomes if o.success_turn is not None]
    return {
        f"success@{k}": M.summary([1.0 if o.success_turn else 0.0 for o in outcomes], seed),
        "episodes": len(outcomes),
        "median_turns": statistics.median(successes) if successes else None,
        "mean_turns": M.finite(statistics.fmean(successes), 3) if successes else None,
        "questions_per_episode": M.summary([float(o.questions) for o in outcomes], seed),
        "turns_per_episode": M.finite(statistics.fmean(o.turns for o in outcomes), 3)
        if outcomes
        else None,
    }


def headline(per_system: dict[str, list[Outcome]], k: int, seed: int = 0,
             agent: str = "agent") -> dict:
    """The top of a results file: the agent's measures, flat (``success@k`` its mean, with
    ``success@k_ci``), and under ``baselines`` every other system's, with the agent's ratio."""
    key = f"success@{k}"
    out: dict = {"k": k}
    mine = per_system.get(agent)
    if mine is not None:
        block = measures(mine, k, seed)
        out.update(
            {
                key: block[key]["mean"],
                f"{key}_ci": [block[key]["ci_low"], block[key]["ci_high"]],
                "episodes": block["episodes"],
                "median_turns": block["median_turns"],
                "mean_turns": block["mean_turns"],
                "questions_per_episode": block["questions_per_episode"]["mean"],
            }
        )
    out["baselines"] = {}
    for name, outcomes in per_system.items():
        if name == agent:
            continue
        block = measures(outcomes, k, seed)
        entry = {
            key: block[key]["mean"],
            f"{key}_ci": [block[key]["ci_low"], block[key]["ci_high"]],
            "episodes": block["episodes"],
            "median_turns": block["median_turns"],
        }
        if mine is not None and len(mine) == len(outcomes):
            ratio, low, high = M.ratio_ci(
                [1.0 if o.success_turn else 0.0 for o in mine],
                [1.0 if o.success_turn else 0.0 for o in outcomes],
                seed,
            )
            entry["agent_ratio"] = {
                "ratio": M.finite(ratio, 3),
                "ci_low": M.finite(low, 3),
                "ci_high": M.finite(high, 3),
            }
        out["baselines"][name] = entry
    return out
