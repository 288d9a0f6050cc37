"""Fixtures of the ui room: an agent over the small test resources, the service and the Gradio
app served in-process on a free port, and a headless Chromium (Debian's, driven by Playwright).

Screenshots of the browser tests go to ``$CHATREC_SCREENSHOTS`` when set (the README's come from
``CHATREC_SCREENSHOTS=docs/screenshots pytest tests/ui -m browser``), else to a temp dir.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chatrec.bench.serve import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def ui_agent(small_resources, tmp_path_factory):
    """One agent (and SQLite store) per test module."""
    from chatrec.agent import Agent
    from chatrec.store import Store

    store = Store(tmp_path_factory.mktemp("ui-store") / "store.sqlite3")
    yield Agent(small_resources, store=store)
    store.close()


@pytest.fixture(scope="module")
def ui_service(ui_agent):
    from ui.loader import AgentLoader
    from ui.ratelimit import RateLimiter
    from ui.service import ChatService

    return ChatService(AgentLoader.ready_made(ui_agent), RateLimiter(rate=1.0, burst=20))


@pytest.fixture(scope="module")
def ui_url(ui_service):
    """The page served in-process: its URL."""
    from ui.app import build_app, launch

    demo = build_app(ui_service)
    port = free_port()
    launch(demo, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests need playwright (pip install playwright; no browser download needed)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    yield tab
    context.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    target = os.environ.get("CHATREC_SCREENSHOTS")
    path = Path(target) if target else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path
