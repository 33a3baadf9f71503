"""Small CLI views of the queue: ``copydesk status`` without ids lists recent articles, and
``copydesk queue`` says how fresh its worker counts are."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.integration.conftest import Cluster

pytestmark = pytest.mark.integration


def test_status_without_ids_lists_the_most_recent_articles_newest_first(
        make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster()
    cluster.start_worker("w1", concurrency=1)
    client = cluster.client()
    ids = [f"recent-{i}-{uuid.uuid4().hex[:6]}" for i in range(3)]
    for article_id in ids:
        client.submit({"id": article_id, "text": f"Article {article_id} about the talks."})
        client.wait(article_id, timeout=60)
    shown = cluster.cli("status", "--json")
    assert shown.returncode == 0, shown.stderr
    listed = [json.loads(line) for line in shown.stdout.splitlines()]
    assert [item["id"] for item in listed] == ids[::-1]
    assert all(item["status"] == "done" for item in listed)
    two = cluster.cli("status", "--recent", "2", "--json")
    assert [json.loads(line)["id"] for line in two.stdout.splitlines()] == ids[:0:-1]
    table = cluster.cli("status")
    assert table.returncode == 0 and "done" in table.stdout


def test_status_without_ids_on_an_empty_store_says_so(make_cluster) -> None:  # type: ignore[no-untyped-def]
    cluster: Cluster = make_cluster()
    shown = cluster.cli("status")
    assert shown.returncode == 0 and "no articles in the result store yet" in shown.stderr


def test_the_worker_table_says_how_fresh_its_counts_are(cluster: Cluster) -> None:
    shown = cluster.cli("queue")
    assert shown.returncode == 0, shown.stderr
    assert "counts as of" in shown.stdout
    assert "counted by each worker at its heartbeat (every 1s)" in " ".join(shown.stdout.split())
    data = json.loads(cluster.cli("queue", "--json").stdout)
    assert data["heartbeat_interval"] == 1.0
    assert all(0 <= w["counts_age_seconds"] < 10 for w in data["workers"])
