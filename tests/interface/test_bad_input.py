"""Bad input of every kind answers a 4xx with the error shape, never a 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.interface.helpers import Office, assert_error
from tests.support.server import ServerProcess

LIMIT = 64 * 1024

# (method, path, auth role or None, a valid body) of every endpoint that reads a JSON body.
BODY_ENDPOINTS = [
    ("POST", "/tickets", None, {"service": "a"}),
    ("POST", "/login", None, {"username": "x", "password": "y"}),
    ("POST", "/counters/1/transfer", "officer", {"service": "b"}),
    ("POST", "/counters/1/call", "officer", {"number": "A001"}),
    ("POST", "/counters/1/close", "officer", {"reason": "break"}),
    ("POST", "/occupancy/enter", "door", {"count": 1}),
    ("POST", "/occupancy/exit", "door", {"count": 1}),
    ("PUT", "/capacity", "admin", {"capacity": 1000}),
]
IDS = [path for _, path, _, _ in BODY_ENDPOINTS]


@pytest.fixture(scope="module", autouse=True)
def no_traceback_at_the_end(shared_server: ServerProcess) -> Iterator[None]:
    """After the whole module, the server log holds no traceback (no input made it crash)."""
    yield
    assert "Traceback" not in shared_server.log_text(), shared_server.log_text()[-4000:]


def raw(
    office: Office,
    endpoint: tuple[str, str, str | None, object],
    content: bytes,
    content_type: str = "application/json",
) -> httpx.Response:
    """Send raw bytes to an endpoint, with the token its role needs."""
    method, path, role, _ = endpoint
    headers = {"Content-Type": content_type}
    if role:
        headers.update(office.officer if role == "officer" else getattr(office, role))
    return office.http.request(method, path, content=content, headers=headers)


@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS, ids=IDS)
@pytest.mark.parametrize(
    "content",
    [b'{"service": ', b"{'service': 'a'}", b"not json", b"\xff\xfe\x00garbage", b"{}}"],
    ids=["truncated", "single-quotes", "text", "bad-utf8", "trailing"],
)
def test_malformed_json_is_400_invalid_json(
    shared_office: Office, endpoint: tuple[str, str, str | None, object], content: bytes
) -> None:
    """A body that is not JSON answers 400 invalid_json."""
    assert_error(raw(shared_office, endpoint, content), 400, "invalid_json")


@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS, ids=IDS)
def test_json_array_body_is_400(shared_office: Office, endpoint: tuple[str, str, str | None, object]) -> None:
    """A JSON array body (not an object) answers 400 invalid_json on every endpoint."""
    assert_error(raw(shared_office, endpoint, b'[{"service": "a"}]'), 400, "invalid_json")


@pytest.mark.parametrize("content", [b'"a"', b"1", b"null", b"true"])
def test_json_scalar_body_is_400(shared_office: Office, content: bytes) -> None:
    """A JSON scalar body (not an object) answers 400 invalid_json."""
    assert_error(raw(shared_office, BODY_ENDPOINTS[0], content), 400, "invalid_json")


@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS, ids=IDS)
def test_unknown_field_is_422(shared_office: Office, endpoint: tuple[str, str, str | None, object]) -> None:
    """A request with a field the endpoint does not know answers 422."""
    body = {**endpoint[3], "colour": "red"}  # type: ignore[dict-item]
    code = assert_error(raw(shared_office, endpoint, json.dumps(body).encode()), 422)
    assert code in {"invalid_request", "unknown_field"}, code


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/tickets", {}),
        ("/tickets", {"service": 5}),
        ("/tickets", {"service": None}),
        ("/tickets", {"service": ["a"]}),
        ("/tickets", {"service": {"id": "a"}}),
        ("/tickets", {"service": "a", "party_size": 10**30}),
        ("/counters/1/transfer", {}),
        ("/counters/1/transfer", {"service": 7}),
        ("/counters/1/call", {}),
        ("/counters/1/call", {"number": 7}),
        ("/counters/1/close", {"reason": 5}),
    ],
)
def test_missing_or_wrong_typed_fields_are_422(shared_office: Office, path: str, body: object) -> None:
    """A missing required field or a field of the wrong type answers 422."""
    resp = shared_office.http.post(path, json=body, headers=shared_office.officer)
    assert_error(resp, 422)


def test_empty_body_on_issue_is_4xx(shared_office: Office) -> None:
    """POST /tickets with an empty body answers 400 or 422, with the error shape."""
    assert_error(raw(shared_office, BODY_ENDPOINTS[0], b""), {400, 422}, {"invalid_json", "invalid_request"})


@pytest.mark.parametrize("endpoint", [BODY_ENDPOINTS[0], BODY_ENDPOINTS[1]], ids=["tickets", "login"])
def test_body_over_64_kib_is_413(
    shared_office: Office, endpoint: tuple[str, str, str | None, object]
) -> None:
    """A body over 64 KiB (with Content-Length) answers 413 body_too_large."""
    content = b'{"service": "a", "pad": "' + b"x" * (LIMIT + 10) + b'"}'
    assert_error(raw(shared_office, endpoint, content), 413, "body_too_large")


def test_chunked_body_over_64_kib_is_413(shared_office: Office) -> None:
    """A streamed (chunked, no Content-Length) body over 64 KiB answers 413 body_too_large."""

    def chunks() -> Iterator[bytes]:
        yield b'{"service": "a", "pad": "'
        for _ in range(40):
            yield b"x" * 4096
        yield b'"}'

    resp = shared_office.http.post("/tickets", content=chunks(), headers={"Content-Type": "application/json"})
    assert_error(resp, 413, "body_too_large")


def test_body_just_under_64_kib_is_read(shared_office: Office) -> None:
    """A 60 KiB body is read and judged by content (unknown field: 422), not refused as too large."""
    content = b'{"service": "a", "pad": "' + b"x" * (60 * 1024) + b'"}'
    assert_error(raw(shared_office, BODY_ENDPOINTS[0], content), 422)


def test_deeply_nested_json_is_4xx(shared_office: Office) -> None:
    """A deeply nested JSON body (no recursion crash) answers a 4xx."""
    depth = 30000
    content = b'{"service": ' + b"[" * depth + b"]" * depth + b"}"
    assert len(content) < LIMIT
    resp = raw(shared_office, BODY_ENDPOINTS[0], content)
    assert_error(resp, {400, 422})


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_non_finite_numbers_are_4xx(shared_office: Office, literal: bytes) -> None:
    """NaN or infinite numbers answer a 4xx (400 or 422)."""
    content = b'{"service": "a", "party_size": ' + literal + b"}"
    assert_error(raw(shared_office, BODY_ENDPOINTS[0], content), {400, 422})


def test_text_plain_content_type_is_not_a_5xx(shared_office: Office) -> None:
    """A JSON body sent as text/plain is either accepted or refused with a 4xx error shape."""
    resp = raw(shared_office, BODY_ENDPOINTS[0], b'{"service": "a"}', content_type="text/plain")
    if resp.status_code == 201:
        assert shared_office.cancel(resp.json()["token"]).status_code == 200
    else:
        assert_error(resp, {400, 415, 422})


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/v1/nope", 404, "not_found"),
        ("GET", "/api/v1/tickets/" + "z" * 40, 404, "unknown_ticket"),
        ("GET", "/api/v1/tickets/%00%ff", 404, "unknown_ticket"),
        ("GET", "/api/v1/tickets/" + "q" * 5000, 404, "unknown_ticket"),
        ("DELETE", "/api/v1/tickets/" + "z" * 40, 404, "unknown_ticket"),
        ("POST", "/api/v1/counters/zz/call-next", 404, "unknown_counter"),
        ("POST", "/api/v1/counters/%20/call-next", 404, "unknown_counter"),
        ("POST", "/api/v1/counters/1/dance", 404, "not_found"),
        ("PATCH", "/api/v1/capacity", 405, "method_not_allowed"),
        ("GET", "/api/v1/login", 405, "method_not_allowed"),
        ("PUT", "/api/v1/tickets", 405, "method_not_allowed"),
    ],
)
def test_unknown_ids_routes_and_methods(
    shared_office: Office, method: str, path: str, status: int, code: str
) -> None:
    """Unknown ids, routes and methods answer 404/405 with the error shape."""
    with httpx.Client(base_url=shared_office.server.base_url, timeout=30) as client:
        resp = client.request(method, path, headers=shared_office.officer)
    assert_error(resp, status, code)
    assert resp.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("since", ["abc", "-5", "1.5", "99999999999999999999999"])
def test_events_with_bad_since_is_not_a_5xx(shared_office: Office, since: str) -> None:
    """GET /events?since=<not a seq> answers 200 (snapshot) or a 4xx, never a 5xx."""
    resp = shared_office.http.get("/events", params={"since": since})
    if resp.status_code != 200:
        assert_error(resp, {400, 422})


@pytest.mark.parametrize("key", ["x" * 5000, "", "ünïcode-ключ"])
def test_odd_idempotency_keys_are_not_a_5xx(shared_office: Office, key: str) -> None:
    """An odd Idempotency-Key (huge, blank, non-ASCII) is honoured or refused with a 4xx."""
    resp = shared_office.http.post(
        "/tickets", json={"service": "b"}, headers={"Idempotency-Key": key.encode()}
    )
    if resp.status_code not in (200, 201):
        assert_error(resp, {400, 422})


def test_server_still_healthy_after_bad_input(shared_office: Office) -> None:
    """After all of the above, the server is still healthy."""
    assert httpx.get(shared_office.server.base_url + "/healthz").status_code == 200
