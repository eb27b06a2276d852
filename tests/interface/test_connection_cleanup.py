"""A closed connection is freed at once, not left for a full garbage collection.

The CLI raises the collector's thresholds (short pauses for everyone), so objects
caught in reference cycles wait minutes to be freed. Screens reconnect all day:
if each closed WebSocket left its protocol objects in a cycle, memory would grow
with every reconnection. These run the app in-process on a real uvicorn server
with the CLI's own configuration, so the collector can be inspected.
"""

from __future__ import annotations

import asyncio
import collections
import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
import uvicorn
import websockets
from websockets.server import ServerProtocol

from queue_server.cli import uvicorn_config
from queue_server.config import parse_config
from queue_server.web.app import create_app
from queue_server.web.fastpath import HttpProtocol, WebSocketProtocol
from tests.support.server import SMALL_OFFICE_TOML, free_port

PROTOCOLS = (HttpProtocol.__name__, WebSocketProtocol.__name__, ServerProtocol.__name__)


@pytest.fixture
async def base_url(tmp_path: Path) -> AsyncIterator[str]:
    port = free_port()
    app = create_app(parse_config(SMALL_OFFICE_TOML), tmp_path / "queue.db")
    server = uvicorn.Server(uvicorn_config(app, host="127.0.0.1", port=port))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the server did not start"
        await asyncio.sleep(0.02)
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    await task


async def protocols_left_in_cycles(
    connect_and_leave: Callable[[], Awaitable[None]],
) -> collections.Counter[str]:
    """Run `connect_and_leave` five times with the collector off; count our protocols it then finds."""
    gc.collect()
    gc.disable()
    try:
        for _ in range(5):
            await connect_and_leave()
        await asyncio.sleep(0.3)  # the server notices the closes
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        return collections.Counter(type(o).__name__ for o in gc.garbage if type(o).__name__ in PROTOCOLS)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


async def test_a_display_that_closes_its_socket_leaves_no_protocol_in_a_cycle(base_url: str) -> None:
    async def visit() -> None:
        async with websockets.connect(f"ws://{base_url}/ws/display") as ws:
            await ws.recv()

    assert await protocols_left_in_cycles(visit) == {}


async def test_a_display_that_vanishes_without_a_close_leaves_no_protocol_in_a_cycle(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=f"http://{base_url}") as client:
        assert (await client.post("/api/v1/tickets", json={"service": "a"})).status_code == 201

    async def vanish() -> None:  # a TV that resumes, then loses its network
        ws = await websockets.connect(f"ws://{base_url}/ws/display?since=0")
        await ws.recv()
        ws.transport.abort()

    assert await protocols_left_in_cycles(vanish) == {}


async def test_a_phone_following_its_ticket_leaves_no_protocol_in_a_cycle(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=f"http://{base_url}") as client:
        answer = await client.post("/api/v1/tickets", json={"service": "a"})
        assert answer.status_code == 201, answer.text
        token = answer.json()["token"]

    async def follow() -> None:
        async with websockets.connect(f"ws://{base_url}/ws/tickets/{token}") as ws:
            await ws.recv()

    assert await protocols_left_in_cycles(follow) == {}


async def test_a_plain_request_leaves_no_protocol_in_a_cycle(base_url: str) -> None:
    async def poll() -> None:
        async with httpx.AsyncClient(base_url=f"http://{base_url}") as client:
            assert (await client.get("/api/v1/events?since=0")).status_code == 200

    assert await protocols_left_in_cycles(poll) == {}
