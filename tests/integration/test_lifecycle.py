"""One article lifecycle for a single task and a batch: with real workers at ``batch_size`` 1
and 4, the article rules apply once and alike, claims keep a finished article from running
again, and a batch consults the routes as a single task does.

Articles are queued before the worker starts, so a batching worker finds them waiting and
runs them in batches (its log says which); they are written to Redis as a plain producer
would, so the worker's own check is the only one they meet.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections import Counter
from typing import Any

import pytest
import redis

from tests.integration.conftest import BATCH_SIZES, Cluster

pytestmark = [pytest.mark.integration, pytest.mark.slow,
              pytest.mark.parametrize("batch_size", BATCH_SIZES, indirect=True)]


def enqueue_raw(cluster: Cluster, articles: list[dict[str, Any]], queue: str | None = None,
                task_ids: list[str] | None = None) -> list[str]:
    """Push ``articles`` as Celery messages (docs/queue.md's format); return their task ids."""
    r = redis.Redis.from_url(cluster.redis_url, decode_responses=True)
    ids = task_ids or [str(uuid.uuid4()) for _ in articles]
    for article, task_id in zip(articles, ids, strict=True):
        body = [[article], {}, {"callbacks": None, "errbacks": None, "chain": None,
                                "chord": None}]
        r.lpush(queue or cluster.queue, json.dumps({
            "body": base64.b64encode(json.dumps(body).encode()).decode(),
            "content-encoding": "utf-8", "content-type": "application/json",
            "headers": {"lang": "py", "task": "copydesk.process", "id": task_id,
                        "root_id": task_id, "parent_id": None, "group": None},
            "properties": {"correlation_id": task_id, "reply_to": "", "delivery_mode": 2,
                           "delivery_info": {"exchange": "", "routing_key": queue or cluster.queue},
                           "priority": 0, "body_encoding": "base64",
                           "delivery_tag": str(uuid.uuid4())},
        }))
    return ids


def batched_ids(cluster: Cluster, node: str) -> set[str]:
    """The article ids the worker's log says ran in a batch of more than one."""
    out: set[str] = set()
    for line in cluster.log(node).splitlines():
        if '"batch started"' in line:
            out.update(json.loads(line)["documents"])
    return out


def articles(tag: str, n: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"id": f"{tag}-{i}", "text": f"Article {i} of {tag}. Ministers met on Monday.",
             **extra} for i in range(n)]


def test_an_unknown_field_under_strict_articles_fails_naming_the_setting(
        make_cluster, batch_size: int) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster(COPYDESK_STRICT_ARTICLES="true",
                                    COPYDESK_WORKER__BATCH_WAIT="0.5")
    sent = articles("strict", 4, byline="A. Writer")
    enqueue_raw(cluster, sent)
    cluster.start_worker("w1", 1)
    final = cluster.client().wait([a["id"] for a in sent], timeout=60)
    for status in final.values():
        assert status is not None and status.status == "failed"
        assert "byline" in (status.error or "") and "strict_articles" in (status.error or "")
    if batch_size > 1:
        assert batched_ids(cluster, "w1@" + cluster.prefix) == set()  # refused before a run


def test_html_over_max_html_chars_is_refused_by_the_worker_in_a_batch_too(
        make_cluster, batch_size: int) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster(COPYDESK_MAX_HTML_CHARS="2000",
                                    COPYDESK_WORKER__BATCH_WAIT="0.5")
    page = "<html><body><article><p>" + "Ministers met on Monday. " * 220 + \
        "</p></article></body></html>"
    sent = [{"id": f"page-{i}", "html": page} for i in range(4)]
    enqueue_raw(cluster, sent)
    cluster.start_worker("w1", 1)
    final = cluster.client().wait([a["id"] for a in sent], timeout=60)
    for status in final.values():
        assert status is not None and status.status == "failed"
        assert "max_html_chars" in (status.error or "")


def test_queued_articles_are_claimed_once_and_a_redelivery_of_a_finished_one_is_skipped(
        make_cluster, batch_size: int) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster(COPYDESK_WORKER__BATCH_WAIT="0.5")
    sent = articles("claim", 8)
    task_ids = enqueue_raw(cluster, sent)
    node = "w1@" + cluster.prefix
    cluster.start_worker("w1", 1)
    client = cluster.client()
    first = client.wait([a["id"] for a in sent], timeout=60)
    assert all(s is not None and s.status == "done" for s in first.values())
    if batch_size > 1:
        assert batched_ids(cluster, node), "no batch formed"
    enqueue_raw(cluster, sent, task_ids=task_ids)  # the same messages once more
    r = redis.Redis.from_url(cluster.redis_url, decode_responses=True)
    deadline = time.monotonic() + 60
    while r.llen(cluster.queue) or r.hlen(f"{cluster.prefix}:unacked"):
        assert time.monotonic() < deadline, "the redelivered messages were not settled"
        time.sleep(0.1)  # until the worker has taken and acknowledged every one
    again = client.wait([a["id"] for a in sent], timeout=60)
    assert {k: (s.completions, s.finished_at) for k, s in again.items() if s} == \
        {k: (s.completions, s.finished_at) for k, s in first.items() if s}
    events = r.xrange(f"{cluster.prefix}:events")
    assert Counter(f["id"] for _, f in events if f["status"] == "done") == \
        Counter({a["id"]: 1 for a in sent})


def test_with_summary_routed_to_heavy_every_summary_runs_on_the_heavy_worker(
        make_cluster, batch_size: int) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster(
        COPYDESK_LOAD_PLUGINS="queue,cleaning,summary",
        COPYDESK_PIPELINE__STAGES="cleaning,summary", COPYDESK_WORKER__BATCH_WAIT="0.5")
    heavy = f"{cluster.queue}-heavy"
    cluster.extra_env["COPYDESK_PIPELINE__ROUTES__SUMMARY"] = heavy
    sent = articles("routed", 8)
    enqueue_raw(cluster, sent)
    cluster.start_worker("default", 1)
    cluster.start_worker("heavy", 1, "--queues", heavy)
    client = cluster.client()
    final = client.wait([a["id"] for a in sent], timeout=180)
    assert all(s is not None and s.status == "done" for s in final.values())
    for a in sent:
        doc = client.result(a["id"])
        assert doc is not None
        workers = {run.stage: (run.worker or "").split("@")[0] for run in doc.runs}
        assert workers == {"cleaning": "default", "summary": "heavy"}, a["id"]
    if batch_size > 1:
        assert batched_ids(cluster, "default@" + cluster.prefix), "no batch formed"
