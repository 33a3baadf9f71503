"""The Celery message for ``copydesk.process`` as it sits in the Redis list, built by hand.

This is Celery's task-message protocol version 2 wrapped in kombu's Redis transport
envelope, exactly what ``app.send_task`` would LPUSH. The client builds it here (so a
submission is one atomic Redis script), and docs/queue.md documents the same shape so a
producer in any language can write it with a plain Redis client.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import uuid
from typing import Any

from copydesk.document import Article

TASK_NAME = "copydesk.process"
#: Re-runs the stale stages of a stored Document; its argument is ``{id, task_id, revision}``.
REPROCESS_TASK_NAME = "copydesk.reprocess"


def new_task_id() -> str:
    return str(uuid.uuid4())


def article_payload(article: Article) -> dict[str, Any]:
    """The submitted-article JSON object a message carries (a validated article, id filled in)."""
    data: dict[str, Any] = json.loads(article.model_dump_json(exclude_none=True))
    return data


def build_message(article: dict[str, Any], queue: str, task_id: str | None = None,
                  task: str = TASK_NAME) -> str:
    """The JSON string to LPUSH onto the queue list for one submitted-article object."""
    task_id = task_id or new_task_id()
    body = [[article], {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}]
    encoded = base64.b64encode(json.dumps(body, ensure_ascii=False).encode("utf-8"))
    envelope = {
        "body": encoded.decode("ascii"),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {
            "lang": "py",
            "task": task,
            "id": task_id,
            "root_id": task_id,
            "parent_id": None,
            "group": None,
            "shadow": None,
            "eta": None,
            "expires": None,
            "retries": 0,
            "timelimit": [None, None],
            "argsrepr": f"<article {article.get('id')}>",
            "kwargsrepr": "{}",
            "origin": f"{os.getpid()}@{socket.gethostname()}",
            "ignore_result": True,
        },
        "properties": {
            "correlation_id": task_id,
            "reply_to": "",
            "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": queue},
            "priority": 0,
            "body_encoding": "base64",
            "delivery_tag": str(uuid.uuid4()),
        },
    }
    return json.dumps(envelope, ensure_ascii=False)
