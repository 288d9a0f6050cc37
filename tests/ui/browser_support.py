"""Helpers of the browser tests: open the page, send a message and wait for the answer, pick a
MovieLens persona, sign in."""

from __future__ import annotations

import re

MSG = "#msg textarea"


def open_page(page, url):
    page.goto(url)
    page.wait_for_function("sessionStorage.getItem('chatrec.sid') !== null")
    return page.evaluate("sessionStorage.getItem('chatrec.sid')")


def send(page, text, replies_before=None):
    """Type a message, send it, wait for the agent's reply to appear in the chat."""
    bots = page.locator("#chat .bot-row, #chat [data-testid='bot']")
    before = bots.count() if replies_before is None else replies_before
    page.fill(MSG, text)
    page.click("#send")
    page.wait_for_function(
        "([sel, n]) => document.querySelectorAll(sel).length > n",
        arg=["#chat .bot-row, #chat [data-testid='bot']", before])
    page.wait_for_function("() => !document.querySelector('#chat .pending, #chat .generating')")
    page.wait_for_timeout(300)


def card_titles(page):
    return page.locator("#cards article.card h3.title").all_inner_texts()


def pick_movielens_user(page, user: str) -> None:
    """Pick "MovieLens user <user>" in "Who am I" and wait for their favourites."""
    picker = page.locator("#who input")
    picker.click()
    picker.fill("")
    picker.press_sequentially(f"user {user} ", delay=20)   # typing filters the 600 users
    page.get_by_role("option", name=re.compile(rf"^MovieLens user {user} ·")).click()
    page.wait_for_selector("#history ol li")


def login(page, url, user, password):
    page.goto(url)
    page.locator("input[type=text]").fill(user)
    page.locator("input[type=password]").fill(password)
    page.get_by_role("button", name="Login").click()
