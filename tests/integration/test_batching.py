"""Batches in workers: queued articles run together through the batched pipeline, and each
keeps its own lease, ack, retry and result; one bad article fails alone; nothing is lost."""

from __future__ import annotations

import json
import signal
import time
import uuid

import pytest

from tests.integration.conftest import Cluster

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def articles(n: int, tag: str, **marked: str) -> list[dict[str, str]]:
    """``n`` small articles; ``marked`` maps an index (as a string) to a marker text."""
    out = []
    for i in range(n):
        text = f"Article {i} of batch {tag}. Ministers met on Monday to talk."
        if str(i) in marked:
            text += " " + marked[str(i)]
        out.append({"id": f"{tag}-{i}", "text": text})
    return out


def batches(cluster: Cluster, node: str) -> list[list[str]]:
    """The article ids of each batch the worker's log says it started."""
    out = []
    for line in cluster.log(node).splitlines():
        if '"batch started"' in line:
            out.append(json.loads(line)["documents"])
    return out


def test_queued_articles_run_in_batches_each_with_its_own_result(make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster(COPYDESK_WORKER__BATCH_SIZE="8",
                                    COPYDESK_STAGE__PROBE__DELAY="0.2")
    client = cluster.client()
    batch = articles(8, f"b{uuid.uuid4().hex[:6]}")
    client.submit_many(batch)  # queued before the worker starts, so it finds all eight
    cluster.start_worker("batcher", concurrency=1)
    statuses = client.wait([a["id"] for a in batch], timeout=90)
    assert all(s is not None and s.status == "done" for s in statuses.values())
    assert all(s.attempts == 1 and s.completions == 1 for s in statuses.values() if s)
    for a in batch:
        doc = client.result(a["id"])
        assert doc is not None and doc.text == a["text"]
    # the first starts at once (alone, or with what arrived with it); the rest queue up
    # while the process is busy and go together
    sizes = [len(b) for b in batches(cluster, f"batcher@{cluster.prefix}")]
    assert sum(sizes) <= 8 and max(sizes) >= 4, sizes


def test_a_poison_article_in_a_batch_fails_alone_and_the_others_are_done(make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster(COPYDESK_WORKER__BATCH_SIZE="6",
                                    COPYDESK_STAGE__PROBE__DELAY="0.2")
    client = cluster.client()
    tag = f"p{uuid.uuid4().hex[:6]}"
    batch = articles(6, tag, **{"4": "KILL-THE-WORKER", "5": "BREAK-THE-STAGE"})
    batch.append({"id": f"{tag}-invalid", "text": ""})  # refused at submit; not queued
    results = client.submit_many(batch)
    assert [r.outcome for r in results][-1] == "invalid"
    cluster.start_worker("poisoned", concurrency=1)
    ids = [a["id"] for a in batch[:6]]
    statuses = client.wait(ids, timeout=120)
    poison = statuses[f"{tag}-4"]
    assert poison is not None and poison.status == "failed"
    assert "worker process was lost" in (poison.error or "")
    assert [d["id"] for d in client.dead_letters()] == [f"{tag}-4"]
    for article_id in ids:
        if article_id == f"{tag}-4":
            continue
        status = statuses[article_id]
        assert status is not None and status.status == "done", (article_id, status)
        assert status.completions == 1
    broken = client.result(f"{tag}-5")
    assert broken is not None
    assert [r.status for r in broken.runs if r.stage == "fragile"] == ["failed"]
    shared = [b for b in batches(cluster, f"poisoned@{cluster.prefix}") if f"{tag}-4" in b]
    assert shared and len(shared[0]) > 1, shared  # the poison did share a batch


def test_a_worker_killed_mid_batch_loses_nothing(make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster(COPYDESK_WORKER__BATCH_SIZE="8",
                                    COPYDESK_STAGE__PROBE__DELAY="0.4")
    client = cluster.client()
    batch = articles(16, f"k{uuid.uuid4().hex[:6]}")
    ids = [a["id"] for a in batch]
    client.submit_many(batch)
    doomed = cluster.start_worker("doomed", concurrency=1)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(s is not None and s.status == "running"
               for s in client.statuses(ids).values()):
            break
        time.sleep(0.05)
    else:
        pytest.fail("no article started")
    doomed.send_signal(signal.SIGKILL)  # the whole worker, main process first
    doomed.wait(timeout=10)
    cluster.start_worker("heir", concurrency=2)
    statuses = client.wait(ids, timeout=180)
    assert all(s is not None and s.status == "done" for s in statuses.values()), statuses
    assert all(s.completions == 1 for s in statuses.values() if s)
    assert not client.dead_letters()


def test_a_pipeline_too_slow_for_a_full_batch_runs_smaller_batches_that_fit_the_time_limit(
        make_cluster) -> None:  # type: ignore[no-untyped-def]
    """0.6 s an article under a 4 s soft limit: a batch of 8 would be cut short every time
    and each of its articles run again alone; sized to half the limit, none is."""
    cluster: Cluster = make_cluster(COPYDESK_WORKER__BATCH_SIZE="8",
                                    COPYDESK_STAGE__PROBE__DELAY="0.6")
    client = cluster.client()
    batch = articles(12, f"s{uuid.uuid4().hex[:6]}")
    client.submit_many(batch)
    cluster.start_worker("steady", concurrency=1)
    statuses = client.wait([a["id"] for a in batch], timeout=120)
    assert all(s is not None and s.status == "done" for s in statuses.values()), statuses
    assert all(s.attempts == 1 and s.completions == 1 for s in statuses.values() if s)
    node = f"steady@{cluster.prefix}"
    assert "Soft time limit" not in cluster.log(node)
    sizes = [len(b) for b in batches(cluster, node)]
    assert sizes and max(sizes) <= 3, sizes  # int(0.5 * 4 s / 0.6 s)
