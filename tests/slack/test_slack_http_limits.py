"""The HTTP endpoint refuses what it must not read: a body over the cap (declared or streamed in
chunks) and requests whose signature headers cannot be right, before reading the body, with a
4xx and no traceback."""

from __future__ import annotations

import json
import logging
import select
import socket
import time
from urllib.parse import urlsplit

import pytest
from slack_support import SIGNING_SECRET

from chatrec.slack.admission import MAX_BODY_BYTES
from chatrec.testing.slack import mention_event, signed

CHUNK = b"x" * 65536


def _connect(url: str) -> tuple[socket.socket, str]:
    parts = urlsplit(url)
    conn = socket.create_connection((parts.hostname, parts.port), timeout=30)
    return conn, parts.path


def _status(head: bytes) -> int:
    return int(head.split(b" ", 2)[1])


def _read_response(conn: socket.socket, timeout: float = 30.0) -> bytes:
    conn.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        part = conn.recv(65536)
        if not part:
            break
        data += part
    return data


def stream_chunked(url: str, headers: dict[str, str], total: int) -> tuple[int, int]:
    """Send a chunked body of up to ``total`` bytes, stopping as soon as the server answers
    (or hangs up). Returns (status, bytes of body sent)."""
    conn, path = _connect(url)
    head = [f"POST {path} HTTP/1.1", "host: 127.0.0.1", "transfer-encoding: chunked",
            "content-type: application/json", *(f"{k}: {v}" for k, v in headers.items())]
    conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    sent = 0
    try:
        while sent < total:
            readable, _, _ = select.select([conn], [], [], 0)
            if readable:
                break
            conn.sendall(b"%x\r\n" % len(CHUNK) + CHUNK + b"\r\n")
            sent += len(CHUNK)
        else:
            conn.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        response = _read_response(conn)
    finally:
        conn.close()
    return _status(response), sent


def raw_request(url: str, headers: dict[str, str], body: bytes) -> int:
    conn, path = _connect(url)
    head = [f"POST {path} HTTP/1.1", "host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    try:
        return _status(_read_response(conn))
    finally:
        conn.close()


@pytest.mark.parametrize("signed_request", [False, True], ids=["unsigned", "signed-headers"])
def test_a_huge_chunked_body_is_refused_before_it_is_read(server, signed_request):
    total = 64 * MAX_BODY_BYTES
    headers = signed(SIGNING_SECRET, "whatever", None) if signed_request else {}
    status, sent = stream_chunked(server.url, headers, total)
    assert status == (413 if signed_request else 401)
    # The kernel's socket buffers absorb a few MB before the server answers; never the 64 MB.
    assert sent < 16 * MAX_BODY_BYTES, f"{sent / 2**20:.0f} MB sent before the answer"


def test_a_declared_length_over_the_cap_is_refused_unread(server):
    headers = {**signed(SIGNING_SECRET, "x", None), "content-length": str(300 * 2**20),
               "content-type": "application/json"}
    assert raw_request(server.url, headers, b"{") == 413


@pytest.mark.parametrize("timestamp", ["abc", "", "1e9", "-5", "１２３４", "9" * 40, "12.5"])
def test_a_malformed_timestamp_is_refused_without_a_traceback(server, send, timestamp, caplog):
    body = json.dumps(mention_event("a comedy"))
    headers = {"x-slack-request-timestamp": timestamp.encode("utf-8"),
               "x-slack-signature": signed(SIGNING_SECRET, body)["x-slack-signature"],
               "content-type": "application/json"}
    with caplog.at_level(logging.WARNING):
        response = send.http.post(server.url, content=body.encode(), headers=headers)
    assert response.status_code in (400, 401), response.text
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("signature", ["", "v0=", "v1=" + "0" * 64, "v0=" + "z" * 64, "v0=" + "0" * 5000])
def test_a_malformed_signature_is_refused(server, send, signature):
    body = json.dumps(mention_event("a comedy"))
    headers = {"x-slack-request-timestamp": str(int(time.time())), "x-slack-signature": signature,
               "content-type": "application/json"}
    assert send.http.post(server.url, content=body.encode(), headers=headers).status_code == 401


def test_a_non_numeric_content_length_is_a_400(server):
    headers = {**signed(SIGNING_SECRET, "{}", None), "content-length": "12abc",
               "content-type": "application/json"}
    assert raw_request(server.url, headers, b"{}") == 400


def test_a_valid_request_still_works_after_refusals(server, send, slack_api):
    stream_chunked(server.url, {}, 4 * MAX_BODY_BYTES)
    assert send("events_api", mention_event("a comedy")).status_code == 200
    slack_api.wait_for("chat.postMessage")
