"""Reading and checking JSON request bodies: strict types, no unknown fields."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from queue_server import wire as jsoncodec
from queue_server.web.errors import ApiError

MAX_BODY = 64 * 1024


async def read_object(request: Request, allowed: set[str], *, empty_ok: bool = False) -> dict[str, Any]:
    """The body as a JSON object with only `allowed` keys; an empty body is {} when `empty_ok`."""
    raw = await request.body()
    if not raw.strip():
        if empty_ok:
            return {}
        raise ApiError(422, "invalid_request", "a JSON object body is required")
    try:
        data = jsoncodec.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {exc}") from exc
    except RecursionError as exc:  # 64 KiB of "[[[[..." nests deeper than the parser can go
        raise ApiError(400, "invalid_json", "the body nests too deeply") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "the body must be a JSON object")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ApiError(422, "invalid_request", f"unknown field: {unknown[0]!r}")
    return data


def string_field(data: dict[str, Any], name: str, *, max_length: int = 200) -> str:
    if name not in data:
        raise ApiError(422, "invalid_request", f"field {name!r} is required")
    value = data[name]
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise ApiError(422, "invalid_request", f"field {name!r} must be a non-empty string")
    return value


def optional_string(data: dict[str, Any], name: str, *, max_length: int = 200) -> str | None:
    if data.get(name) is None:
        return None
    return string_field(data, name, max_length=max_length)


def int_field(data: dict[str, Any], name: str, code: str, default: int | None = None) -> int:
    if name not in data:
        if default is None:
            raise ApiError(422, code, f"field {name!r} is required")
        return default
    value = data[name]
    # bool is an int in Python, but `true` is not a number of people.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(422, code, f"field {name!r} must be an integer")
    return value
