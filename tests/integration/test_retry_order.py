"""Where a retry goes: an article whose pool process was lost is retried from the head of
the queue, before the articles queued behind it (docs/queue.md, "Why a lease").

With batching the worker holds its next batch reserved; a retry gives those back first, so
they queue behind it. What a lost batch held is retried too (each alone), in queue order."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.conftest import BATCH_SIZES, Cluster

pytestmark = [pytest.mark.integration,
              pytest.mark.parametrize("batch_size", BATCH_SIZES, indirect=True)]


def test_a_lost_attempt_is_retried_before_the_articles_queued_behind_it(
        make_cluster, batch_size: int) -> None:  # type: ignore[no-untyped-def]
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
    retry = starts.index((poison.id, "2"))
    lost_run = starts[:retry]
    # before the retry: only the lost run, the poison and the articles that shared its batch
    queue_order = [poison.id, *(b.id for b in behind)]
    assert lost_run == [(i, "1") for i in queue_order[:len(lost_run)]], starts
    assert len(lost_run) <= batch_size, starts
    assert client.status(poison.id).status == "failed"  # type: ignore[union-attr]
    assert all(client.status(b.id).status == "done" for b in behind)  # type: ignore[union-attr]
