"""Forget means forget, end to end: after ``Agent.forget``, nothing under CHATREC_HOME — the store,
its write-ahead log, caches, any file — holds a sentence the user said or their id."""

from __future__ import annotations

from chatrec.agent import Agent
from chatrec.store import Store

SAID = ["my neighbour Quillon only watches comedies from the 90s",
        "no horror, Quillon faints at the sight of blood"]


def _files_with(folder, needle: str) -> list[str]:
    data = needle.encode("utf-8")
    return [str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and data in p.read_bytes()]


def test_forget_leaves_no_sentence_of_the_user_in_chatrec_home(films_resources, films_settings):
    home = films_settings.home
    with Store(home / "chatrec.sqlite3") as store:
        agent = Agent(films_resources, store=store)
        for i, text in enumerate(SAID):
            reply = agent.respond(f"web-quillon-{i}", text, user_id="web:quillon")
            if reply.recommendations:
                agent.feedback(f"web-quillon-{i}", reply.recommendations[0].item.id, "liked")
        agent.respond("web-other", "a comedy from the 90s please", user_id="web:other")
        assert _files_with(home, "Quillon"), "the user's words should be on disk before forget"
        deleted = agent.forget("web:quillon")
        assert deleted["sessions_deleted"] == ["web-quillon-0", "web-quillon-1"]
        assert _files_with(home, "Quillon") == [] and _files_with(home, "web:quillon") == []
        assert agent.session("web-other").turns        # someone else's conversation is kept
        assert _files_with(home, "web:other")
