"""The frames fast path subclasses uvicorn's private classes: an untested uvicorn fails here, loudly."""

from __future__ import annotations

import uvicorn
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from queue_server.web import fastpath


def _version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


def test_the_installed_uvicorn_is_one_the_fast_path_was_tested_with() -> None:
    """A uvicorn outside TESTED_UVICORN may have changed the private classes web/fastpath.py builds on."""
    low, high = fastpath.TESTED_UVICORN
    installed = _version(uvicorn.__version__)
    assert low <= installed < high, (
        f"uvicorn {uvicorn.__version__} is outside the tested range {low}..{high}: re-check web/fastpath.py "
        "(handshake answers, send_frames, freeing closed connections), then widen the range "
        "and pyproject's pin"
    )


async def test_the_private_state_the_fast_path_reads_still_exists() -> None:
    """Every attribute the subclasses read is set by uvicorn's WebSocket protocol on a new connection."""
    config = uvicorn.Config(app=lambda scope, receive, send: None, lifespan="off")
    config.load()
    state = uvicorn.server.ServerState()
    protocol = WebSocketsSansIOProtocol(config=config, server_state=state, app_state={})
    missing = [name for name in fastpath.PRIVATE_ATTRIBUTES if not hasattr(protocol, name)]
    assert not missing, f"uvicorn's WebSocket protocol no longer has {missing}; web/fastpath.py needs a look"
