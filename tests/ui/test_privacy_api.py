"""Identity over the API and HTTP: a caller acts as itself (a claimed ``user_id`` is refused
unless the service token is presented), sessions are reachable only by their owner, rate limits
follow the caller and its address (not the session ids it mints), sign-ins are throttled, and
uploads are refused."""

from __future__ import annotations

import contextlib

import httpx
import pytest

from chatrec.bench.serve import free_port
from ui.identity import SERVICE_TOKEN_HEADER, VISITOR_COOKIE, Identities, VisitorKeys
from ui.loader import AgentLoader
from ui.ratelimit import RateLimiter
from ui.service import ChatService

gradio_client = pytest.importorskip("gradio_client")

SERVICE_TOKEN = "a-service-token-for-tests-0123456789"


@contextlib.contextmanager
def served(service: ChatService, login_limiter: RateLimiter | None = None, **launch_kwargs):
    from ui.app import build_app, launch

    demo = build_app(service, login_limiter=login_limiter)
    port = free_port()
    launch(demo, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
           **launch_kwargs)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture(scope="module")
def trusting_url(ui_agent):
    """A server that trusts a back end holding ``SERVICE_TOKEN``."""
    identities = Identities(VisitorKeys(b"k" * 32), service_token=SERVICE_TOKEN)
    service = ChatService(AgentLoader.ready_made(ui_agent), RateLimiter(rate=1.0, burst=20),
                          identities=identities)
    with served(service) as url:
        yield url


@pytest.fixture(scope="module")
def client(ui_url):
    return gradio_client.Client(ui_url, verbose=False)


def _alice_likes(ui_agent, user="web:alice") -> str:
    item = ui_agent.catalog.find_title("Heat")[0].id
    ui_agent.feedback(f"setup-{user}", item, "liked", user_id=user)
    assert item in ui_agent.user_profile(user).liked_items
    return item


@pytest.mark.parametrize("claimed", ["web:alice", "slack:T0CHATREC:U0ALICE"])
def test_chat_refuses_a_user_id_the_caller_does_not_own(client, ui_agent, claimed):
    liked = _alice_likes(ui_agent, claimed)
    sid = client.predict(api_name="/new_session")
    with pytest.raises(Exception, match="not yours to act as"):
        client.predict(sid, "what do I like?", claimed, api_name="/chat")
    state = client.predict(sid, liked, api_name="/remove_preference")
    assert state["user_id"] is None and liked not in state["liked_items"]
    assert liked in ui_agent.user_profile(claimed).liked_items


def test_a_movielens_persona_is_still_accepted(client):
    reply = client.predict("", "something for tonight", "ml:414", api_name="/chat")
    assert reply["recommendations"]


def test_the_service_token_lets_a_back_end_act_for_its_users(trusting_url, ui_agent):
    backend = gradio_client.Client(trusting_url, verbose=False, headers={SERVICE_TOKEN_HEADER: SERVICE_TOKEN})
    reply = backend.predict("", "a 90s comedy", "web:dave", api_name="/chat")
    assert ui_agent.session(reply["session_id"]).user_id == "web:dave"
    assert backend.predict(reply["session_id"], api_name="/session")["user_id"] == "web:dave"
    forger = gradio_client.Client(trusting_url, verbose=False, headers={SERVICE_TOKEN_HEADER: "guess"})
    with pytest.raises(Exception, match="not yours to act as"):
        forger.predict("", "a 90s comedy", "web:dave", api_name="/chat")
    with pytest.raises(Exception, match="session_id must come from"):
        forger.predict(reply["session_id"], api_name="/session")


def test_someone_elses_session_reads_as_unknown(client, ui_agent):
    from ui.sessions import new_session_id

    sid = new_session_id()
    reply = ui_agent.respond(sid, "I loved Heat, something like it", user_id="visitor:" + "v" * 22)
    item = reply.recommendations[0].item.id
    for args, endpoint in (((sid,), "/session"), ((sid, item, "liked"), "/feedback"),
                           ((sid, item), "/why"), ((sid,), "/reset"), ((sid, "more"), "/chat")):
        with pytest.raises(Exception, match="session_id must come from"):
            client.predict(*args, api_name=endpoint)
    assert len(ui_agent.session(sid).turns) == 2 and not ui_agent.session(sid).liked_items[1:]


def test_fresh_session_ids_buy_no_more_messages(ui_agent):
    service = ChatService(AgentLoader.ready_made(ui_agent), RateLimiter(rate=0.001, burst=3))
    with served(service) as url:
        caller = gradio_client.Client(url, verbose=False)
        accepted = 0
        for _ in range(9):
            sid = caller.predict(api_name="/new_session")
            try:
                caller.predict(sid, "hi", "", api_name="/chat")
                accepted += 1
            except Exception as exc:  # noqa: BLE001
                assert "faster than I can keep up" in str(exc)
    assert accepted == 3


def _login(url: str, password: str, source: str = "127.0.0.1") -> int:
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=10) as http:
        return http.post(url + "login", data={"username": "alice", "password": password}).status_code


def test_password_guessing_is_throttled_per_address(ui_service):
    # The page's policy (5 failures, then one every 10 s) with a refill too slow for a loaded
    # machine's 100 requests to earn a token back.
    with served(ui_service, RateLimiter(rate=1 / 3600, burst=5), auth=("alice", "right-password")) as url:
        statuses = [_login(url, f"guess-{i}") for i in range(100)]
        assert statuses.count(400) == 5 and statuses.count(429) == 95, statuses
        assert _login(url, "right-password") == 429                 # this address waits
        assert _login(url, "right-password", source="127.0.0.2") == 200


def test_uploads_are_refused(ui_url):
    files = {"files": ("big.bin", b"\0" * 2_000_000, "application/octet-stream")}
    response = httpx.post(ui_url + "gradio_api/upload", files=files, timeout=30)
    assert response.status_code == 403


def test_the_visitor_cookie_is_http_only_signed_and_replaced_when_forged(ui_url):
    with httpx.Client(timeout=10) as http:
        first = http.get(ui_url)
        cookie = first.headers["set-cookie"]
        assert cookie.startswith(VISITOR_COOKIE + "=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert "set-cookie" not in http.get(ui_url).headers          # kept while it is valid
    issued = first.cookies[VISITOR_COOKIE]
    forged = issued[:-1] + ("1" if issued.endswith("0") else "0")
    again = httpx.get(ui_url, cookies={VISITOR_COOKIE: forged}, timeout=10)
    assert again.headers["set-cookie"].split(";")[0] != f"{VISITOR_COOKIE}={forged}"
