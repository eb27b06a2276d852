"""JSON in and out, through orjson: every ticket and event passes here, so speed counts."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse

DecodeError = orjson.JSONDecodeError


def dumps(data: Any) -> str:
    return orjson.dumps(data).decode()


def dumps_bytes(data: Any) -> bytes:
    return orjson.dumps(data)


def loads(raw: str | bytes) -> Any:
    return orjson.loads(raw)


class FastJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
