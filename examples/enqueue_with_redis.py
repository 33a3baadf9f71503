"""Enqueue articles for copydesk with redis-py alone, then wait for their results.

No Celery, no copydesk import: this is what a system in any language does (docs/queue.md,
"Writing the message yourself").

    python examples/enqueue_with_redis.py tests/data/istanbul-peace-talks.txt [more.txt …]

It reads the same settings as copydesk, from the environment: ``COPYDESK_REDIS_URL``
(default ``redis://localhost:6379/0``), ``COPYDESK_WORKER__QUEUE`` and
``COPYDESK_WORKER__KEY_PREFIX`` (both default ``copydesk``); ``--timeout SECONDS`` (default
300) bounds the wait. Stored Documents are zstd frames by default (docs/queue.md, "Result
store"); the ``zstandard`` package, which copydesk installs, decodes them.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import redis

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def celery_message(article: dict[str, object], queue: str) -> str:
    """The Celery (protocol 2, JSON) message for ``copydesk.process``, as kombu stores it."""
    task_id = str(uuid.uuid4())
    body = [[article], {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}]
    return json.dumps({
        "body": base64.b64encode(json.dumps(body).encode()).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {"lang": "py", "task": "copydesk.process", "id": task_id,
                    "root_id": task_id, "parent_id": None, "group": None},
        "properties": {"correlation_id": task_id, "reply_to": "", "delivery_mode": 2,
                       "delivery_info": {"exchange": "", "routing_key": queue},
                       "priority": 0, "body_encoding": "base64",
                       "delivery_tag": str(uuid.uuid4())},
    })


def document(raw: bytes | None) -> dict[str, Any]:
    """The stored Document (a zstd frame, or plain JSON), or {} when there is none."""
    if not raw:
        return {}
    if raw[:4] == ZSTD_MAGIC:
        import zstandard  # copydesk's own dependency; any zstd library would do

        raw = zstandard.decompress(raw)
    data: dict[str, Any] = json.loads(raw)
    return data


def without_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}" if ":" in credentials else url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=["tests/data/istanbul-peace-talks.txt"])
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    url = os.environ.get("COPYDESK_REDIS_URL", "redis://localhost:6379/0")
    queue = os.environ.get("COPYDESK_WORKER__QUEUE", "copydesk")
    prefix = os.environ.get("COPYDESK_WORKER__KEY_PREFIX", "copydesk")
    r = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        r.ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        print(f"cannot reach Redis at {without_password(url)}: {exc}\n"
              "is redis-server running, and is COPYDESK_REDIS_URL the one copydesk uses?",
              file=sys.stderr)
        return 2
    events = f"{prefix}:events"
    last = r.xrevrange(events, count=1)
    cursor = last[0][0] if last else b"0-0"
    pending = set()
    for path in args.paths:
        text = Path(path).read_text(encoding="utf-8")
        article_id = "ex-" + hashlib.sha256(text.encode()).hexdigest()[:16]
        r.lpush(queue, celery_message({"id": article_id, "text": text, "source": path}, queue))
        pending.add(article_id)
        print(f"queued {article_id} ({path}) on {queue!r}")
    deadline = time.monotonic() + args.timeout
    while pending and time.monotonic() < deadline:  # block on the event stream
        for _, entries in r.xread({events: cursor}, block=2_000) or []:
            for event_id, raw_fields in entries:
                cursor = event_id
                fields = {k.decode(): v.decode() for k, v in raw_fields.items()}
                if fields["id"] in pending and fields["status"] in ("done", "failed"):
                    pending.discard(fields["id"])
                    doc = document(r.hget(f"{prefix}:article:{fields['id']}", "document"))
                    summary = (doc.get("summary") or {}).get("text", "")
                    print(f"{fields['status']} {fields['id']}: "
                          f"{len(doc.get('entities', []))} entities, "
                          f"{len(doc.get('quotes', []))} quotes; summary: {summary[:120]}")
    if pending:
        print(f"not finished within {args.timeout:g} s: {', '.join(sorted(pending))} "
              "(is a `copydesk worker` consuming this queue?)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
