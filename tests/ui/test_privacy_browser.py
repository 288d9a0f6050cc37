"""Identity is the key to data, in a real browser: two browser contexts are two visitors (each
with its own cookie jar and storage), and neither may ever see or delete the other's data, even
when both chat as the same MovieLens persona or one presents the other's session id."""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from browser_support import login, open_page, pick_movielens_user, send
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PERSONA = "414"


@pytest.fixture
def visitors(browser):
    """A factory of visitors: each a tab in a browser context of its own."""
    contexts = []

    def visitor():
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(20_000)
        return tab

    yield visitor
    for context in contexts:
        context.close()


def my_data(page) -> dict:
    """Press "My data" and download the export the page offers."""
    page.click("#my-data")
    link = page.locator("#data-file a[download]")
    link.wait_for()
    with page.expect_download() as download:
        link.click()
    return json.loads(Path(download.value.path()).read_text(encoding="utf-8"))


def forget_me(page) -> None:
    page.click("#forget")
    expect(page.locator(".toast-body, [data-testid='toast-body']").first).to_contain_text("Deleted")


def sentence(label: str) -> str:
    """A message nobody else says (its marker must not turn up in anyone else's data)."""
    return f"I loved Heat, something like it please — note {label}-{uuid.uuid4().hex[:8]}"


def test_two_visitors_as_the_same_persona_never_see_or_delete_each_other(visitors, ui_url, ui_agent):
    alice, bob = visitors(), visitors()
    said = {}
    sids = {}
    for name, tab in (("alice", alice), ("bob", bob)):
        open_page(tab, ui_url)
        pick_movielens_user(tab, PERSONA)
        said[name] = sentence(name)
        send(tab, said[name])
        sids[name] = tab.evaluate("sessionStorage.getItem('chatrec.sid')")

    exported = json.dumps(my_data(alice), ensure_ascii=False)
    assert said["alice"] in exported
    assert said["bob"] not in exported and sids["bob"] not in exported

    forget_me(alice)
    assert said["bob"] in [t.text for t in ui_agent.session(sids["bob"]).turns]
    bob.reload()
    expect(bob.locator("#chat")).to_contain_text(said["bob"])
    assert said["bob"] in json.dumps(my_data(bob), ensure_ascii=False)


def test_a_session_id_taken_from_another_visitor_is_not_honoured(visitors, ui_url, ui_agent):
    alice, mallory = visitors(), visitors()
    alice_sid = open_page(alice, ui_url)
    said = sentence("alice")
    send(alice, said)
    turns = len(ui_agent.session(alice_sid).turns)

    open_page(mallory, ui_url)
    mallory.evaluate("(sid) => sessionStorage.setItem('chatrec.sid', sid)", alice_sid)
    mallory.reload()
    mallory.wait_for_function("(sid) => sessionStorage.getItem('chatrec.sid') !== sid", arg=alice_sid)
    mallory.wait_for_timeout(500)
    assert said not in mallory.locator("#chat").inner_text()
    send(mallory, "a 90s comedy")
    assert said not in json.dumps(my_data(mallory), ensure_ascii=False)
    assert len(ui_agent.session(alice_sid).turns) == turns     # alice's conversation untouched


def _files_holding(marker: str, folders: list[Path], since: float) -> list[Path]:
    found = []
    for folder in folders:
        for root, _, names in os.walk(folder):
            for name in names:
                path = Path(root) / name
                try:
                    if path.stat().st_mtime >= since and path.stat().st_size < 5_000_000 \
                            and marker.encode() in path.read_bytes():
                        found.append(path)
                except OSError:
                    continue
    return found


def test_my_data_leaves_no_file_on_the_server(visitors, ui_url):
    started = time.time() - 1
    tab = visitors()
    open_page(tab, ui_url)
    said = sentence("export")
    send(tab, said)
    assert said in json.dumps(my_data(tab), ensure_ascii=False)
    temp = Path(tempfile.gettempdir())
    gradio_temp = Path(os.environ.get("GRADIO_TEMP_DIR") or temp / "gradio")
    folders = [*temp.glob("chatrec-export-*"), gradio_temp]
    marker = said.rsplit(" ", 1)[-1]
    assert _files_holding(marker, folders, started) == []


@pytest.fixture(scope="module")
def two_logins_url(ui_service):
    """The page behind a login with two accounts."""
    from chatrec.bench.serve import free_port
    from ui.app import build_app, launch

    demo = build_app(ui_service)
    port = free_port()
    launch(demo, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
           auth=[("alice", "alice-pw"), ("bob", "bob-pw")])
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def test_signed_in_users_as_the_same_persona_keep_their_data_apart(visitors, two_logins_url, ui_agent):
    said, sids, tabs = {}, {}, {}
    for name in ("alice", "bob"):
        tab = tabs[name] = visitors()
        login(tab, two_logins_url, name, f"{name}-pw")
        tab.wait_for_function("sessionStorage.getItem('chatrec.sid') !== null")
        pick_movielens_user(tab, PERSONA)
        said[name] = sentence(name)
        send(tab, said[name])
        sids[name] = tab.evaluate("sessionStorage.getItem('chatrec.sid')")
    exported = json.dumps(my_data(tabs["bob"]), ensure_ascii=False)
    assert said["bob"] in exported and said["alice"] not in exported
    forget_me(tabs["bob"])
    assert said["alice"] in [t.text for t in ui_agent.session(sids["alice"]).turns]


def test_a_persona_visitors_likes_are_their_own(visitors, ui_url, ui_agent):
    alice, bob = visitors(), visitors()
    for tab in (alice, bob):
        open_page(tab, ui_url)
        pick_movielens_user(tab, PERSONA)
    send(alice, "something like Toy Story")
    card = alice.locator("#cards article.card").first
    title = card.locator("h3.title").inner_text()
    card.locator("button[data-action=liked]").click()
    alice.wait_for_selector("#cards article.card.liked")
    bob.reload()
    bob.wait_for_selector("#history ol li")
    bob.wait_for_timeout(500)
    assert title not in bob.locator("#profile").inner_text()
    item = ui_agent.catalog.find_title(title)[0].id
    assert item not in ui_agent.user_profile(f"ml:{PERSONA}").liked_items
