"""The public Gradio API, called the way docs/api.md says: gradio_client against a served app."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

gradio_client = pytest.importorskip("gradio_client")


@pytest.fixture(scope="module")
def client(ui_url):
    return gradio_client.Client(ui_url, verbose=False)


def test_documented_endpoints_exist(client):
    endpoints = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/new_session", "/chat", "/feedback", "/remove_preference", "/reset", "/session",
            "/why"} <= endpoints
    assert not any(name.startswith("/on_") for name in endpoints)     # the page's events are private


def test_chat_feedback_why_and_reset(client, ui_agent):
    sid = client.predict(api_name="/new_session")
    reply = client.predict(sid, "I loved Inception. Something from the 90s, no horror?", "", api_name="/chat")
    assert reply["session_id"] == sid and reply["recommendations"]
    for rec in reply["recommendations"]:
        assert 1990 <= rec["year"] <= 1999 and "horror" not in rec["genres"]
        assert rec["evidence"] and rec["explanation"] and rec["sources"]
    assert reply["trace"]["decision"] == "recommend" and reply["trace"]["timings_ms"]["total"] > 0

    first, second = (r["item_id"] for r in reply["recommendations"][:2])
    state = client.predict(sid, second, "disliked", api_name="/feedback")
    assert state["disliked_items"] == [second]
    more = client.predict(sid, "more like these", "", api_name="/chat")
    assert second not in [r["item_id"] for r in more["recommendations"]]

    why = client.predict(sid, more["recommendations"][0]["item_id"], api_name="/why")
    assert why["svg"].lstrip().startswith("<?xml") and why["paths"]
    assert all(f["subject"].startswith("item:") for p in why["paths"] for f in p["facts"])

    inception = ui_agent.catalog.find_title("Inception")[0].id
    state = client.predict(sid, inception, api_name="/remove_preference")
    assert inception not in state["liked_items"]
    state = client.predict(sid, api_name="/reset")
    assert state["turns"] == 0 and not state["last_shown"]


def test_bad_input_is_a_clear_error(client):
    with pytest.raises(Exception, match="session_id must come from /new_session"):
        client.predict("not-a-session", "1", "liked", api_name="/feedback")
    sid = client.predict(api_name="/new_session")
    with pytest.raises(Exception, match="kind must be one of"):
        client.predict(sid, "1", "loved", api_name="/feedback")
    with pytest.raises(Exception, match="no item"):
        client.predict(sid, "no-such-item", "liked", api_name="/feedback")
    reply = client.predict("", "<script>alert(1)</script>", "", api_name="/chat")   # new session, no crash
    assert reply["session_id"].startswith("web-") and reply["text"]


def test_sessions_are_isolated_under_concurrent_use(client, ui_url):
    requests = {
        "a 90s comedy": lambda r: 1990 <= r["year"] <= 1999 and "comedy" in r["genres"],
        "movies from the 80s, no comedy": lambda r: 1980 <= r["year"] <= 1989 and "comedy" not in r["genres"],
        "a horror film": lambda r: "horror" in r["genres"],
        "an animated film from the 2000s": lambda r: 2000 <= r["year"] <= 2009 and "animation" in r["genres"],
    }

    def converse(text):
        own = gradio_client.Client(ui_url, verbose=False)
        sid = own.predict(api_name="/new_session")
        replies = [own.predict(sid, message, "", api_name="/chat") for message in (text, "more", "more")]
        return sid, text, replies

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(converse, list(requests) * 2))
    assert len({sid for sid, _, _ in results}) == len(results)
    for sid, text, replies in results:
        shown = []
        for reply in replies:
            assert reply["session_id"] == sid
            recs = reply["recommendations"]
            assert recs and all(requests[text](r) for r in recs), (text, [(r["display"], r["genres"]) for r in recs])
            shown += [r["item_id"] for r in recs]
        assert len(shown) == len(set(shown))          # nothing repeated within a session


def test_the_documented_example_runs(ui_url, tmp_path, monkeypatch):
    """docs/api.md's Python example, as written, against the test server."""
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", doc, re.DOTALL).group(1)
    assert 'Client("http://127.0.0.1:7860/")' in code
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code.replace("http://127.0.0.1:7860/", ui_url), "docs/api.md", "exec"), namespace)
    assert namespace["reply"]["recommendations"] and namespace["second"] not in [
        r["item_id"] for r in namespace["more"]["recommendations"]]
    assert (tmp_path / "why.svg").read_text().lstrip().startswith("<?xml")
