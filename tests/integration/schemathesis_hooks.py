"""Schemathesis hooks for fuzzing the gateway: how to send a JSON Lines body.

Loaded by the fuzz test through ``SCHEMATHESIS_HOOKS``. The OpenAPI document declares the
``application/x-ndjson`` body as a string (the lines themselves), so the generated value is
sent as its UTF-8 bytes; any other generated value is sent as one JSON line.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def json_lines(ctx: Any, value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return (json.dumps(value) + "\n").encode("utf-8")
