"""Scaling out: two separate worker processes share one queue, and killing one loses nothing."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
import redis

from tests.conftest import shared_path
from tests.integration.conftest import BATCH_SIZES, Cluster

pytestmark = [pytest.mark.integration, pytest.mark.slow]

N_ARTICLES = 300


def corpus_articles(n: int) -> list[dict[str, str]]:
    """The first ``n`` articles of the shared BBC corpus, as submitted-article objects."""
    path = shared_path("corpus", "bbc-news-2005.jsonl")
    articles = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            articles.append({"id": row["id"], "title": row["title"], "text": row["text"]})
            if len(articles) == n:
                break
    return articles


def process_state(pid: int) -> str | None:
    """The kernel's state letter for ``pid`` (Z = zombie), or None if it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("State:"):
            return line.split()[1]
    return None


@pytest.mark.parametrize("batch_size", BATCH_SIZES, indirect=True)
def test_two_workers_share_the_queue_and_a_sigkilled_worker_loses_nothing(
        make_cluster) -> None:  # type: ignore[no-untyped-def]
    # 0.2 s an article: a batch of four runs for most of a second, so the kill below lands
    # while "two" still holds what it was seen running
    cluster: Cluster = make_cluster(COPYDESK_STAGE__PROBE__DELAY="0.2")
    one = cluster.start_worker("one", concurrency=2)
    two = cluster.start_worker("two", concurrency=2)
    nodes = {f"one@{cluster.prefix}", f"two@{cluster.prefix}"}
    client = cluster.client()
    articles = corpus_articles(N_ARTICLES)
    ids = [a["id"] for a in articles]
    assert len(ids) == N_ARTICLES

    results = client.submit_many(articles)
    assert all(r.outcome == "queued" for r in results)

    # let both work for a while, then SIGKILL the whole of worker "two" while it is
    # running an article
    r = redis.Redis.from_url(cluster.redis_url, decode_responses=True)
    deadline = time.monotonic() + 60
    while r.zcard(f"{cluster.prefix}:index:done") < N_ARTICLES // 3:
        assert time.monotonic() < deadline, "the workers did not get going"
        time.sleep(0.05)
    while True:
        running = r.zrange(f"{cluster.prefix}:index:running", 0, -1)
        if any(s and s.worker == f"two@{cluster.prefix}"
               for s in client.statuses(running).values()):
            break
        assert time.monotonic() < deadline, "worker two never ran anything"
    two.send_signal(signal.SIGKILL)
    two.wait(timeout=10)
    at_death = {i: s for i, s in client.statuses(ids).items() if s}
    held_by_two = [i for i, s in at_death.items()
                   if s.status == "running" and s.worker == f"two@{cluster.prefix}"]

    final = client.wait(ids, timeout=90)
    assert all(s is not None and s.status == "done" for s in final.values()), Counter(
        s.status if s else "unknown" for s in final.values())

    # each article was completed exactly once: one completion, one "done" event
    assert {s.completions for s in final.values() if s} == {1}
    events = r.xrange(f"{cluster.prefix}:events")
    done_events = Counter(f["id"] for _, f in events if f["status"] == "done")
    assert set(done_events) == set(ids) and set(done_events.values()) == {1}

    # both workers took part
    by_worker = Counter(s.worker for s in final.values() if s)
    assert set(by_worker) == nodes, by_worker

    # what "two" was running when it died was taken over by "one", as a second attempt
    assert held_by_two, "worker two held nothing when killed; the test proved nothing"
    for article_id in held_by_two:
        taken_over = final[article_id]
        assert taken_over is not None and taken_over.worker == f"one@{cluster.prefix}"
        assert taken_over.attempts == 2

    # the pool processes of the killed worker died with it (no orphan still running)
    pids_of_two = {client.result(i).extensions["probe"]["pid"]  # type: ignore[union-attr]
                   for i, s in final.items() if s and s.worker == f"two@{cluster.prefix}"}
    assert pids_of_two
    assert all(process_state(pid) in (None, "Z") for pid in pids_of_two)
    assert one.poll() is None
