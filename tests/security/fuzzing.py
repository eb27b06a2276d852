"""Hypothesis strategies and settings shared by the fuzz tests (bounded for CI)."""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: Examples per fuzz test; CI keeps the default, a longer local run sets ANTRE_FUZZ_EXAMPLES=2000.
EXAMPLES = int(os.environ.get("ANTRE_FUZZ_EXAMPLES", "200"))

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,  # a live server's latency varies; correctness, not speed, is checked here
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    print_blob=True,
)

#: Every field name any endpoint knows, so random objects often pass the "unknown field" check.
FIELDS = ("service", "party_size", "count", "capacity", "username", "password", "number", "reason", "name")

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-3, max_value=40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["a", "b", "1", "A001", "break", "kepala", "", " ", "\u0000", "\u202e", "\U0001f600"]),
)

json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)

#: Objects built from the real field names with random values: these reach the deepest checks.
plausible_objects = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=12), json_values, max_size=3)


def encode_json(value: Any, ascii_only: bool) -> bytes:
    """JSON text of `value` (NaN and Infinity included, as Python writes them)."""
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8")


deep_nesting = st.integers(min_value=1, max_value=40_000).map(lambda n: b"[" * n + b"]" * n)

bodies: st.SearchStrategy[bytes | None] = st.one_of(
    st.none(),
    st.builds(encode_json, plausible_objects, st.booleans()),
    st.builds(encode_json, json_values, st.booleans()),
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
    deep_nesting,
    st.integers(min_value=60 * 1024, max_value=70 * 1024).map(lambda n: b'{"name": "' + b"x" * n + b'"}'),
    st.sampled_from([b"", b"{}", b"[]", b"null", b"1e999", b'{"service": "a"}', b"\xef\xbb\xbf{}", b"{" * 3]),
)

# Header values the HTTP client can put on the wire: visible ASCII, obs-text and inner spaces.
_HEADER_BYTES = [*range(0x21, 0x7F), *range(0x80, 0x100), 0x20, 0x09]
header_values: st.SearchStrategy[bytes] = st.lists(st.sampled_from(_HEADER_BYTES), max_size=120).map(
    lambda codes: bytes(codes).strip(b" \t")
) | st.sampled_from([b"", b"0", b"-1", b"a" * 201, b"\xff\xfe", b"null", b"Bearer", b"bearer  x"])

content_types = (
    st.sampled_from(
        [
            b"application/json",
            b"application/json; charset=utf-16",
            b"text/plain",
            b"application/x-www-form-urlencoded",
            b"multipart/form-data; boundary=zz",
            b"application/xml",
        ]
    )
    | header_values
)

#: A marker resolved at request time to a real credential of that role (tokens exist only then).
ROLE_MARKS = ("admin", "officer", "door")
authorizations = st.one_of(
    st.sampled_from(ROLE_MARKS).map(lambda role: ("bearer-of", role)),
    header_values.map(lambda value: ("raw", value)),
    header_values.map(lambda value: ("raw", b"Bearer " + value)),
)

cookies = st.one_of(
    st.sampled_from(ROLE_MARKS).map(lambda role: ("cookie-of", role)),
    header_values.map(lambda value: ("raw", b"antre_session=" + value)),
    header_values.map(lambda value: ("raw", b"antre_kiosk=" + value)),
    header_values.map(lambda value: ("raw", value)),
)

headers = st.fixed_dictionaries(
    {},
    optional={
        "Content-Type": content_types,
        "Idempotency-Key": header_values,
        "Authorization": authorizations,
        "Cookie": cookies,
        "X-CSRF-Token": header_values,
        "X-Kiosk-Token": header_values,
        "X-Forwarded-For": header_values,
        "X-Forwarded-Proto": header_values,
        "Accept-Language": header_values,
        "Origin": header_values,
    },
)

#: Path parameters: short random text, unicode, very long, and the values that exist.
path_params = st.one_of(
    st.text(min_size=1, max_size=30),
    st.text(min_size=150, max_size=400),
    st.text(min_size=1000, max_size=2500),
    st.sampled_from(
        ["1", "6", "99", "a", "..", ".", "%", "%00", "A001", "kios-1", "\u0000", "\U0001f600" * 50]
    ),
)

methods = st.sampled_from(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
