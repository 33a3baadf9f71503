"""Cross-article stages on real workers sharing one Redis: the reuse stage finds the
copies another worker processed, and the story index lists what every worker recorded
(``copydesk stories`` and the gateway's ``/v1/stories``)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from copydesk.plugins.reuse.words import normalise

from tests.conftest import shared_path
from tests.integration.gateway_fixtures import start_gateway

pytestmark = [pytest.mark.integration, pytest.mark.slow]

START = datetime(2005, 3, 1, 6, 0)


def corpus_articles(n: int) -> list[dict[str, Any]]:
    """The first ``n`` corpus articles, a minute apart, each in the story of its category."""
    rows = []
    with shared_path("corpus", "bbc-news-2005.jsonl").open(encoding="utf-8") as lines:
        for i, row in enumerate(map(json.loads, lines)):
            if i == n:
                break
            rows.append({"id": row["id"], "title": row["title"], "text": row["text"],
                         "published_at": (START + timedelta(minutes=i)).isoformat(),
                         "metadata": {"story": row["category"]}})
    return rows


def test_two_workers_mark_copies_and_list_the_stories_of_both(make_cluster: Any,
                                                               tmp_path: Path) -> None:
    cluster = make_cluster(COPYDESK_LOAD_PLUGINS="queue,probe,reuse",
                           COPYDESK_PIPELINE__STAGES="reuse,tagstory")
    cluster.start_worker("w1", 1)
    cluster.start_worker("w2", 1)
    articles = corpus_articles(600)
    client = cluster.client()
    client.submit_many(articles)
    ids = [a["id"] for a in articles]
    client.wait(ids, timeout=900)
    docs = {i: client.result(i) for i in ids}
    assert all(d is not None and d.status == "done" for d in docs.values())

    same: dict[str, list[str]] = defaultdict(list)
    for a in articles:
        same[normalise(a["text"])].append(a["id"])
    position = {i: n for n, i in enumerate(ids)}
    marked = {i: d.reuse.duplicate_of for i, d in docs.items() if d.reuse.duplicate_of}
    # never a different text; every copy published well after its original found it
    assert all(normalise(docs[i].text) == normalise(docs[o].text) for i, o in marked.items())
    far = {ids_[1]: ids_[0] for ids_ in same.values()
           if len(ids_) == 2 and position[ids_[1]] - position[ids_[0]] >= 10}
    assert len(far) >= 5
    assert {i: marked.get(i) for i in far} == far
    workers = {r.worker for d in docs.values() for r in d.runs if r.stage == "reuse"}
    assert len(workers) == 2

    out = cluster.cli("stories", "--json")
    assert out.returncode == 0, out.stderr
    listed = {s["id"]: s["size"] for s in json.loads(out.stdout)["stories"]}
    assert listed == Counter(a["metadata"]["story"] for a in articles)
    last = articles[-1]["metadata"]["story"]
    shown = cluster.cli("stories", "--story", last, "--json")
    assert shown.returncode == 0, shown.stderr
    members = [a["id"] for a in articles if a["metadata"]["story"] == last]
    assert [a["id"] for a in json.loads(shown.stdout)["articles"]] == members
    missing = cluster.cli("stories", "--story", "no-such-story")
    assert missing.returncode == 1 and "no story 'no-such-story'" in missing.stderr

    gateway = start_gateway(cluster, tmp_path)
    try:
        with gateway.client() as http:
            listing = http.get("/v1/stories", params={"limit": 50})
            assert listing.status_code == 200
            assert {s["id"]: s["size"] for s in listing.json()["stories"]} == listed
            story = http.get(f"/v1/stories/{last}")
            assert story.status_code == 200
            assert [a["id"] for a in story.json()["articles"]] == members
            gone = http.get("/v1/stories/no-such-story")
            assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
            assert http.get("/v1/stories", headers={"Authorization": "Bearer wrong"}
                            ).status_code == 401
    finally:
        gateway.stop()
