"""Fuzz every JSON endpoint: any body, header or path parameter gets a 4xx with the error shape
(or the documented 2xx), never a 5xx, and the server stays healthy.

The rows come from the access table, so a new endpoint is fuzzed as soon as it is listed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.security import fuzzing
from tests.security.helpers import ADMIN, DOOR, OFFICER, assert_error, credentials, server_log_tracebacks
from tests.security.test_access_control import ACCESS_TABLE, API, ENTRANCE, Rule
from tests.support.server import ServerProcess

JSON_ROWS = [rule for rule in ACCESS_TABLE if rule.kind in (API, ENTRANCE)]
#: The 2xx answers api-v1 documents for these endpoints (204: call-next with nobody waiting).
DOCUMENTED_2XX = {200, 201, 204}
#: Rows whose success ends the session used: the fuzz never hands them a real credential.
SESSION_ENDING = {("POST", "/api/v1/logout")}


class Fuzzer:
    """Sends fuzzed requests to the server and checks each answer."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.base_url, timeout=30, follow_redirects=False)
        self.creds = {role: credentials(server, role) for role in (ADMIN, OFFICER, DOOR)}

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def resolve_headers(self, rule: Rule | None, fuzzed: dict[str, Any]) -> dict[str, bytes]:
        """Turn the role markers of the strategies into the real tokens and cookies."""
        resolved: dict[str, bytes] = {}
        for name, value in fuzzed.items():
            if isinstance(value, tuple):
                kind, payload = value
                ending = rule is not None and (rule.method, rule.path) in SESSION_ENDING
                if kind == "bearer-of" and not ending:
                    value = f"Bearer {self.creds[payload].bearer}".encode()
                elif kind == "cookie-of" and not ending:
                    value = f"antre_session={self.creds[payload].cookie}".encode()
                elif kind == "raw":
                    value = payload
                else:
                    value = b"Bearer fuzz-not-a-token"
            # Prefixes like "Bearer " can leave an edge space, which no HTTP client may send.
            resolved[name] = value.strip(b" \t")
        return resolved

    def path_of(self, rule: Rule, params: dict[str, str]) -> str:
        """The rule's path with each `{param}` replaced by a percent-encoded fuzzed value."""
        path = rule.path
        for name, value in params.items():
            path = path.replace(f"{{{name}}}", quote(value, safe=""))
        return path

    def send(self, method: str, path: str, body: bytes | None, headers: dict[str, bytes]) -> httpx.Response:
        """One request; the cookie jar is emptied so no answer's cookie leaks into the next example."""
        try:
            return self.http.request(method, path, content=body, headers=headers)
        finally:
            self.http.cookies.clear()

    def check(self, resp: httpx.Response) -> None:
        """Never a 5xx; a 2xx is documented and JSON; anything else is a 4xx with the error shape."""
        where = f"{resp.request.method} {str(resp.request.url)[:200]}"
        assert resp.status_code < 500, f"{where} -> {resp.status_code} {resp.text[:300]}"
        if is_trailing_slash_redirect(resp):
            return
        if 200 <= resp.status_code < 300:
            assert resp.status_code in DOCUMENTED_2XX, f"{where} -> {resp.status_code}"
            if resp.status_code != 204 and resp.request.method != "HEAD":
                json.loads(resp.content)
            return
        if resp.request.method == "HEAD":  # no body to carry the shape
            assert 400 <= resp.status_code < 500, f"{where} -> {resp.status_code}"
            return
        assert_error(resp, range(400, 500))


def is_trailing_slash_redirect(resp: httpx.Response) -> bool:
    """Starlette's redirect from `/x/` to `/x` on the same host (see the README's findings)."""
    if resp.status_code not in (307, 308):
        return False
    target = urlsplit(resp.headers.get("location", ""))
    asked = unquote(resp.request.url.raw_path.decode("ascii").split("?", 1)[0])
    return (
        asked.endswith("/")
        and target.netloc == resp.request.url.netloc.decode("ascii")
        and unquote(target.path) == asked.rstrip("/")
    )


@pytest.fixture(scope="module")
def fuzzer(module_server: ServerProcess) -> Iterator[Fuzzer]:
    """A Fuzzer logged in as each role on the module's server."""
    made = Fuzzer(module_server)
    yield made
    made.close()


@pytest.fixture(autouse=True)
def server_stays_healthy(module_server: ServerProcess) -> Iterator[None]:
    """After each batch: the process runs, /healthz answers 200 and the log shows no new crash."""
    offset = len(module_server.log_text())
    yield
    assert module_server.running, "the server process died"
    assert httpx.get(f"{module_server.base_url}/healthz", timeout=10).status_code == 200
    crashes = server_log_tracebacks(module_server, offset)
    assert not crashes, "the server logged errors:\n" + "\n".join(crashes[:20])


def param_names(rule: Rule) -> list[str]:
    """The `{names}` in a rule's path."""
    return [part[1:-1] for part in rule.path.split("/") if part.startswith("{") and part.endswith("}")]


#: Real values for the path parameters, so body fuzzing reaches the handlers' deeper checks.
EXISTING = {
    "counter": "1",
    "token": "fuzz-unknown-token",
    "name": "kios-1",
    # The admin rows: an existing service, an account that does not exist, a ticket id.
    "service": "b",
    "username": "fuzz-nobody",
    "id": "1",
}


@fuzzing.FUZZ_SETTINGS
@given(
    rule=st.sampled_from(JSON_ROWS),
    body=fuzzing.bodies,
    role=st.sampled_from([*fuzzing.ROLE_MARKS, None]),
    idempotency=st.none() | fuzzing.header_values,
)
def test_random_bodies_get_4xx_or_documented_2xx(
    fuzzer: Fuzzer, rule: Rule, body: bytes | None, role: str | None, idempotency: bytes | None
) -> None:
    """Random JSON values, objects of the real fields and raw bytes, as every role."""
    headers: dict[str, Any] = {"Content-Type": b"application/json"}
    if role is not None:
        headers["Authorization"] = ("bearer-of", role)
    if idempotency is not None:
        headers["Idempotency-Key"] = idempotency
    path = fuzzer.path_of(rule, {name: EXISTING[name] for name in param_names(rule)})
    fuzzer.check(fuzzer.send(rule.method, path, body, fuzzer.resolve_headers(rule, headers)))


@fuzzing.FUZZ_SETTINGS
@given(rule=st.sampled_from(JSON_ROWS), headers=fuzzing.headers, body=fuzzing.bodies)
def test_random_headers_get_4xx_or_documented_2xx(
    fuzzer: Fuzzer, rule: Rule, headers: dict[str, Any], body: bytes | None
) -> None:
    """Random Content-Type, Idempotency-Key, Authorization, cookies, CSRF, kiosk and proxy headers."""
    path = fuzzer.path_of(rule, {name: EXISTING[name] for name in param_names(rule)})
    fuzzer.check(fuzzer.send(rule.method, path, body, fuzzer.resolve_headers(rule, headers)))


@fuzzing.FUZZ_SETTINGS
@given(
    rule=st.sampled_from([rule for rule in JSON_ROWS if param_names(rule)]),
    value=fuzzing.path_params,
    role=st.sampled_from([*fuzzing.ROLE_MARKS, None]),
    body=st.sampled_from([None, b"{}", b'{"service": "a"}', b'{"number": "A001"}']),
)
def test_random_path_parameters_get_4xx_or_documented_2xx(
    fuzzer: Fuzzer, rule: Rule, value: str, role: str | None, body: bytes | None
) -> None:
    """Unicode, very long and odd ticket tokens, counter ids and kiosk names."""
    headers: dict[str, Any] = {"Authorization": ("bearer-of", role)} if role else {}
    path = fuzzer.path_of(rule, dict.fromkeys(param_names(rule), value))
    fuzzer.check(fuzzer.send(rule.method, path, body, fuzzer.resolve_headers(rule, headers)))


@fuzzing.FUZZ_SETTINGS
@given(
    method=fuzzing.methods,
    segments=st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=5),
    prefix=st.sampled_from(["/api/v1/", "/api/", "/", "/ws/", "/api/v1/counters/1/", "/api/v1/tickets/"]),
    query=st.text(max_size=60),
)
def test_random_methods_and_paths_are_refused_cleanly(
    fuzzer: Fuzzer, method: str, segments: list[str], prefix: str, query: str
) -> None:
    """Any method on any path under the API gets 404/405 (or a documented answer), with the error shape."""
    path = prefix + "/".join(quote(segment, safe="") for segment in segments)
    if query:
        path += "?" + quote(query, safe="=&")
    resp = fuzzer.send(method, path, None, {"Authorization": f"Bearer {fuzzer.creds[ADMIN].bearer}".encode()})
    if not path.startswith("/api/") and resp.headers.get("content-type", "").startswith("text/html"):
        # Outside the API a path may be a page (e.g. /t/<anything>): pages answer HTML, never 5xx.
        assert resp.status_code < 500, f"{method} {path} -> {resp.status_code}"
        return
    fuzzer.check(resp)


@fuzzing.FUZZ_SETTINGS
@given(since=st.one_of(st.integers(min_value=-(2**80), max_value=2**80).map(str), st.text(max_size=50)))
def test_random_since_values_of_the_polling_feed(fuzzer: Fuzzer, since: str) -> None:
    """GET /api/v1/events?since=<anything>: events, a snapshot or 422, never a crash."""
    fuzzer.check(fuzzer.send("GET", f"/api/v1/events?since={quote(since, safe='')}", None, {}))


def test_a_very_long_path_parameter_is_refused_cleanly(fuzzer: Fuzzer) -> None:
    """A 20 000-character ticket token or counter id is a plain 404 with the error shape."""
    for path in (f"/api/v1/tickets/{'x' * 20_000}", f"/api/v1/counters/{'9' * 20_000}/call-next"):
        resp = fuzzer.send(
            "GET" if "tickets" in path else "POST", path, None, fuzzer.creds[OFFICER].api_headers()
        )
        assert_error(resp, 404)
