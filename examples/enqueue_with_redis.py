"""Enqueue articles for copydesk with redis-py alone, then wait for their results.

No Celery, no copydesk import: this is what a system in any language does (docs/queue.md,
"Writing the message yourself").

    python examples/enqueue_with_redis.py tests/data/istanbul-peace-talks.txt [more.txt …]

Environment: REDIS_URL (default redis://localhost:6379/0), COPYDESK_QUEUE and
COPYDESK_PREFIX (both default ``copydesk``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
import uuid
from pathlib import Path

import redis

QUEUE = os.environ.get("COPYDESK_QUEUE", "copydesk")
PREFIX = os.environ.get("COPYDESK_PREFIX", "copydesk")


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


def main(paths: list[str]) -> None:
    r = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://localhost:6379/0"),
                             decode_responses=True)
    events = f"{PREFIX}:events"
    last = r.xrevrange(events, count=1)
    cursor = last[0][0] if last else "0-0"
    pending = set()
    for path in paths:
        text = Path(path).read_text(encoding="utf-8")
        article_id = "ex-" + hashlib.sha256(text.encode()).hexdigest()[:16]
        r.lpush(QUEUE, celery_message({"id": article_id, "text": text, "source": path}, QUEUE))
        pending.add(article_id)
        print(f"queued {article_id} ({path})")
    while pending:  # block on the event stream until every article is done or failed
        for _, entries in r.xread({events: cursor}, block=60_000) or []:
            for event_id, fields in entries:
                cursor = event_id
                if fields["id"] in pending and fields["status"] in ("done", "failed"):
                    pending.discard(fields["id"])
                    doc = json.loads(r.hget(f"{PREFIX}:article:{fields['id']}", "document")
                                     or "{}")
                    summary = (doc.get("summary") or {}).get("text", "")
                    print(f"{fields['status']} {fields['id']}: {len(doc.get('entities', []))} "
                          f"entities, {len(doc.get('quotes', []))} quotes; summary: "
                          f"{summary[:120]}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["tests/data/istanbul-peace-talks.txt"])
