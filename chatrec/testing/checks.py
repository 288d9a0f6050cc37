"""Assertions shared by the agent tests: what "grounded" means, checked on a Reply."""

from __future__ import annotations


def assert_grounded(agent, reply) -> None:
    """Every recommended item is a catalog item, carries evidence, and every evidence fact is an
    edge of the knowledge graph about that item; the guard passed on the final text."""
    kg = agent.kg
    for rec in reply.recommendations:
        assert rec.item.id in agent.catalog, rec.item.id
        assert agent.catalog[rec.item.id] == rec.item
        assert rec.evidence, f"{rec.item.display} has no evidence"
        assert rec.explanation
        assert any(f.subject == f"item:{rec.item.id}" for f in rec.evidence)
        for fact in rec.evidence:
            item_id = fact.subject.split(":", 1)[1]
            assert kg.has_fact(item_id, fact.relation, fact.object), str(fact)
    guard = reply.trace.guard
    assert guard is None or guard.passed or guard.fallback, guard


def ids(reply) -> list[str]:
    return [r.item.id for r in reply.recommendations]


def years(reply) -> list[int | None]:
    return [r.item.year for r in reply.recommendations]
