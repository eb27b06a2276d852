"""Fuzz both WebSockets: random query strings, tokens and client frames never crash the server.

A socket either streams JSON frames or closes with a documented code (4400 bad
`since`, 4404 unknown ticket); it never closes with 1011 (server error), and the
server answers /healthz after every batch.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.uri import parse_uri

from tests.security import fuzzing
from tests.security.helpers import server_log_tracebacks
from tests.support.server import ServerProcess

#: Close codes the protocol documents (plus the normal ones).
DOCUMENTED_CLOSE = {1000, 1001, 4000, 4400, 4404}
#: The WebSocket handshake parser refuses request lines over 8 KiB (see test_overlong_socket_url_...).
MAX_URL = 7000

queries = st.one_of(
    st.none(),
    st.integers(min_value=-(2**70), max_value=2**70).map(lambda n: f"since={n}"),
    st.text(max_size=40).map(lambda s: "since=" + quote(s, safe="")),
    st.text(max_size=80).map(lambda s: quote(s, safe="=&")),
    st.sampled_from(
        ["since=", "since", "since=0&since=x", "since=%00", "since=1e3", "since=0x10", "since=٣"]
    ),
)

frames = st.lists(
    st.one_of(
        st.text(max_size=200),
        st.binary(max_size=200),
        st.builds(json.dumps, fuzzing.json_values),
        st.sampled_from(['{"type": "call-next", "counter": "1"}', '{"since": 0}', "ping", "{}", "\u0000"]),
    ),
    max_size=5,
)


@pytest.fixture(scope="module")
def ticket_tokens(module_server: ServerProcess) -> list[str]:
    """Tokens of real tickets, so the fuzz also reaches live ticket sockets."""
    with httpx.Client(base_url=module_server.base_url, timeout=20) as http:
        return [http.post("/api/v1/tickets", json={"service": s}).json()["token"] for s in ("a", "b")]


@pytest.fixture(autouse=True)
def server_stays_healthy(module_server: ServerProcess) -> Iterator[None]:
    """After each batch: the process runs, /healthz answers 200 and the log shows no new crash."""
    offset = len(module_server.log_text())
    yield
    assert module_server.running, "the server process died"
    assert httpx.get(f"{module_server.base_url}/healthz", timeout=10).status_code == 200
    crashes = server_log_tracebacks(module_server, offset)
    assert not crashes, "the server logged errors:\n" + "\n".join(crashes[:20])


def check_first_frame(ws: ClientConnection) -> None:
    """Whatever the server sent first (if it sent anything yet) is a JSON object with a type."""
    try:
        raw = ws.recv(timeout=0)
    except TimeoutError:
        return  # a resume from the current seq has nothing to send: that is fine
    frame = json.loads(raw)
    assert isinstance(frame, dict) and "type" in frame and "seq" in frame, frame


def wait_for_pong_or_close(ws: ClientConnection, url: str, sent: int) -> None:
    """A pong proves the server read past our frames and still serves this socket; a close is checked."""
    pong = ws.ping()
    deadline = time.monotonic() + 10
    while not pong.wait(0.02):
        if ws.close_code is not None:  # the server closed instead (e.g. 4400 for a bad since)
            assert ws.close_code in DOCUMENTED_CLOSE, f"{url}: closed with {ws.close_code}"
            return
        assert time.monotonic() < deadline, f"{url}: neither pong nor close after {sent} frames"


def probe(url: str, sent: list[str | bytes]) -> None:
    """Open `url`, send the frames, check the server still answers a ping; check how it ended."""
    try:
        with connect(url, open_timeout=10, close_timeout=5) as ws:
            for frame in sent:
                ws.send(frame)
            wait_for_pong_or_close(ws, url, len(sent))
            if ws.close_code is None:
                check_first_frame(ws)
    except InvalidStatus as exc:
        # A path that is no socket at all is refused at the handshake, never with a 5xx.
        assert exc.response.status_code < 500, f"{url}: handshake answered {exc.response.status_code}"
    except ConnectionClosed as exc:
        code = exc.rcvd.code if exc.rcvd else None
        assert code in DOCUMENTED_CLOSE, f"{url}: closed with {code} ({exc})"


@fuzzing.FUZZ_SETTINGS
@given(query=queries, sent=frames)
def test_display_socket_survives_random_queries_and_frames(
    module_server: ServerProcess, query: str | None, sent: list[str | bytes]
) -> None:
    """/ws/display?<anything> with any frames: a feed or a documented close, never a crash."""
    url = f"{module_server.ws_url}/ws/display" + (f"?{query}" if query is not None else "")
    probe(url, sent)


@fuzzing.FUZZ_SETTINGS
@given(
    token=st.one_of(fuzzing.path_params, st.sampled_from(["REAL-0", "REAL-1"])),
    query=queries,
    sent=frames,
)
def test_ticket_socket_survives_random_tokens_queries_and_frames(
    module_server: ServerProcess,
    ticket_tokens: list[str],
    token: str,
    query: str | None,
    sent: list[str | bytes],
) -> None:
    """/ws/tickets/<anything>?<anything> with any frames: a feed, 4404 or a refused handshake."""
    if token.startswith("REAL-"):
        token = ticket_tokens[int(token[-1])]
    url = f"{module_server.ws_url}/ws/tickets/{quote(token, safe='')}"
    if query is not None:
        url += f"?{query}"
    # The client quotes the path once more ("%" -> "%25"): measure what goes on the wire.
    assume(len(parse_uri(url).resource_name) < MAX_URL)  # longer ones have their own test below
    probe(url, sent)


def test_display_socket_ignores_a_large_frame(module_server: ServerProcess) -> None:
    """A 1 MiB frame from a client is read and dropped; the socket keeps serving."""
    probe(f"{module_server.ws_url}/ws/display", ["x" * (1024 * 1024)])


def test_an_overlong_socket_url_is_answered_not_left_hanging(module_server: ServerProcess) -> None:
    """A WebSocket handshake with a 9 000-character path gets an HTTP error answer within seconds."""
    # Raw socket: a client library would refuse or truncate such a request before sending it.
    request = (
        f"GET /ws/tickets/{'x' * 9000} HTTP/1.1\r\nHost: {module_server.base_url[7:]}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    host, port = module_server.base_url[7:].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(request)
        raw.settimeout(5)
        try:
            answer = raw.recv(200)
        except TimeoutError:
            answer = b""
    assert answer.startswith(b"HTTP/1.1 4"), f"no HTTP error answer within 5 s, got {answer!r}"
