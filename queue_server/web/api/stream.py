"""The board's state and the polling fallback for screens whose network blocks WebSockets; health."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from queue_server import __version__
from queue_server.web.api.common import json_response, service
from queue_server.web.errors import ApiError

PAGE = 1000


async def get_state(request: Request) -> Response:
    return json_response(service(request).snapshot())


def parse_since(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        since = int(raw)
    except ValueError as exc:
        raise ApiError(422, "invalid_request", "since must be an integer") from exc
    if since < 0:
        raise ApiError(422, "invalid_request", "since must be 0 or more")
    return since


async def get_events(request: Request) -> Response:
    office = service(request)
    since = parse_since(request.query_params.get("since"))
    missed = office.channel.since(since) if since is not None else None
    if missed is None:
        snapshot = office.snapshot()
        return json_response({"seq": snapshot["seq"], "snapshot": snapshot, "events": []})
    # A page of at most PAGE events; the client asks again from the last one it got.
    return json_response({"seq": office.channel.last_seq, "events": [e.as_dict() for e in missed[:PAGE]]})


async def healthz(request: Request) -> Response:
    office = service(request)
    if not office.accepting:
        raise ApiError(503, "shutting_down", "the server is not accepting work")
    body: dict[str, object] = {"status": "ok", "version": __version__}
    if office.notifier is not None:  # [notify]: the outbox at a glance (pending, and today's others)
        body["notify"] = await office.outbox_counts()
    return json_response(body)
