"""A copy a worker finished before its earlier-dated original arrived is corrected: the
original's reuse stage overtakes it and the workers re-run ``reuse`` on the stored copy
(``services.revisit`` -> a ``copydesk.reprocess`` message with ``rerun``), so the copy's
Document in the store names the original, as if they had come in publication order."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.conftest import shared_path

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def corpus_text(article_id: str) -> str:
    with shared_path("corpus", "bbc-news-2005.jsonl").open(encoding="utf-8") as rows:
        for row in map(json.loads, rows):
            if row["id"] == article_id:
                return str(row["text"])
    raise KeyError(article_id)


def settled(client: Any, article_id: str, want: str, timeout: float = 120) -> Any:
    """The stored Document once its ``duplicate_of`` is ``want`` (or the last one read)."""
    deadline = time.monotonic() + timeout
    while True:
        doc = client.result(article_id)
        if doc.reuse.duplicate_of == want or time.monotonic() > deadline:
            return doc
        time.sleep(0.2)


def test_a_copy_finished_before_its_original_is_corrected_in_the_store(
        make_cluster: Any) -> None:
    text = corpus_text("bbc-business-001")
    cluster = make_cluster(COPYDESK_LOAD_PLUGINS="queue,reuse",
                           COPYDESK_PIPELINE__STAGES="reuse")
    cluster.start_worker("w1", 1)
    client = cluster.client()
    client.submit_many([{"id": "copy", "text": text, "published_at": "2005-03-01T12:00:00"}])
    client.wait(["copy"], timeout=300)
    assert client.result("copy").reuse.duplicate_of is None  # it came first

    client.submit_many([{"id": "original", "text": text,
                         "published_at": "2005-03-01T09:00:00"}])
    client.wait(["original"], timeout=300)
    original = client.result("original")
    assert original.reuse.duplicate_of is None and original.reuse.sources == []

    copy = settled(client, "copy", "original")
    assert copy.reuse.duplicate_of == "original"
    assert [s.id for s in copy.reuse.sources] == ["original"]
    assert [r.stage for r in copy.runs] == ["reuse"]
