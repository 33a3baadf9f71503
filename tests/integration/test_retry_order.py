"""Where a retry goes: an article whose pool process was lost is retried from the head of
the queue, before the articles queued behind it (docs/queue.md, "Why a lease").

At ``batch_size`` 1 only: a batching worker reserves its next batch ahead (a prefetch of two
batches per process), so the articles it already holds run before the retry comes back to
it; the retry is still at the head of the queue, ahead of everything not yet reserved."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.conftest import Cluster

pytestmark = pytest.mark.integration


def test_a_lost_attempt_is_retried_before_the_articles_queued_behind_it(
        make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster(COPYDESK_STAGE__PROBE__DELAY="0.3")
    cluster.start_worker("w1", concurrency=1)
    client = cluster.client()
    tag = uuid.uuid4().hex[:8]
    cursor = client.store.last_event_id()
    poison = client.submit({"id": f"poison-{tag}", "text": "This one will KILL-THE-WORKER."})
    behind = client.submit_many([{"id": f"behind-{tag}-{i}", "text": f"Queued behind {i}."}
                                 for i in range(6)])
    client.wait([poison.id, *(b.id for b in behind)], timeout=120)

    starts = [(e["id"], e.get("attempt")) for e in client.events(since=cursor, idle_timeout=1)
              if e.get("status") == "running"]
    assert starts[:2] == [(poison.id, "1"), (poison.id, "2")], starts
    assert client.status(poison.id).status == "failed"  # type: ignore[union-attr]
    assert all(client.status(b.id).status == "done" for b in behind)  # type: ignore[union-attr]
