"""Schemathesis hooks for fuzzing the gateway: JSON Lines bodies, and hostile raw bodies.

Loaded by the fuzz test through ``SCHEMATHESIS_HOOKS``.

* The OpenAPI document declares the ``application/x-ndjson`` body as a string (the lines
  themselves), so the generated value is sent as its UTF-8 bytes; any other generated
  value is sent as one JSON line.
* Every other ``POST /v1/articles`` call has its generated body replaced by one of
  ``HOSTILE_BODIES``, in turn: what a schema-driven generator never writes, because the
  bytes are not a value of the schema (a lone surrogate escape, nesting 100,000 deep,
  ``NaN``, bytes that are not UTF-8). The checks of the run apply to them as to any other
  case: no 5xx, and the answer is one the document declares (a JSON error with a code).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import schemathesis

DEEP = 100_000

HOSTILE_BODIES: list[tuple[str, bytes]] = [
    ("application/json", b'{"text": "abc \\ud800 def"}'),
    ("application/json", b'{"text": "ok", "metadata": ' + b'{"a": ' * DEEP + b"1"
     + b"}" * DEEP + b"}"),
    ("application/json", b"[" * DEEP + b"]" * DEEP),
    ("application/json", b'{"text": "ok", "metadata": ' + b'{"a": ' * 80 + b"1"
     + b"}" * 80 + b"}"),
    ("application/json", b'{"text": "ok", "metadata": {"score": NaN}}'),
    ("application/json", b'{"text": "\xff\xfe not UTF-8"}'),
    ("application/json", b'{"text": "ok", "\\udc80": 1}'),
    ("application/x-ndjson", b'{"text": "fine"}\n{"title": "\\udfff", "text": "x"}\n'),
    ("application/x-ndjson", b'{"text": "fine"}\n' + b"[" * DEEP + b"\n"),
    ("text/plain", b"\xed\xa0\x80 a surrogate encoded as bytes"),
]
_turn = itertools.count()
_hostile = itertools.cycle(HOSTILE_BODIES)


@schemathesis.serializer("application/x-ndjson")
def json_lines(ctx: Any, value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return (json.dumps(value) + "\n").encode("utf-8")


@schemathesis.hook
def before_call(ctx: Any, case: Any, kwargs: dict[str, Any]) -> None:
    operation = case.operation
    if (operation.method.upper(), operation.path) != ("POST", "/v1/articles"):
        return
    if next(_turn) % 2:
        return
    content_type, body = next(_hostile)
    kwargs["data"] = body  # a body the caller passes replaces the generated one
    case.headers = {**(case.headers or {}), "Content-Type": content_type}
