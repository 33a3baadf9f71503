"""Time limits hold with the real spaCy pipeline: an article too long for the soft limit
fails alone, by the soft limit (its pool process lives on), and the worker goes on.

The worker runs the real cleaning and entities stages (so the shared spaCy parse) plus
the probe stage, which records the pool process's pid. One pool process, so "goes on"
means the next article runs in the very process that timed out."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.integration.conftest import BATCH_SIZES, Cluster

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "bbc-news-2005.jsonl"


def uid(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:10]}"


def long_prose(chars: int) -> str:
    """Real articles from the shared corpus, joined until ``chars`` long (under the size
    limit, and far longer than the 2 s soft limit lets the parse get through)."""
    texts = []
    with CORPUS.open(encoding="utf-8") as handle:
        for line in handle:
            texts.append(json.loads(line)["text"])
            if sum(map(len, texts)) > chars:
                break
    return "\n\n".join(texts)[:chars]


def start_spacy_worker(make_cluster, **env: str) -> Cluster:  # type: ignore[no-untyped-def]
    if not CORPUS.exists():
        pytest.skip("the shared corpus is not there")
    cluster: Cluster = make_cluster(
        COPYDESK_LOAD_PLUGINS="queue,probe,cleaning,entities",
        COPYDESK_PIPELINE__STAGES="cleaning,entities,probe",
        # the soft limit is far below the parse of the long article; the hard limit
        # leaves room for the piece of text being parsed when the soft limit fires
        **{"COPYDESK_WORKER__SOFT_TIME_LIMIT": "2", **env},
        COPYDESK_WORKER__TIME_LIMIT="20",
        COPYDESK_WORKER__VISIBILITY_TIMEOUT="30",
    )
    cluster.start_worker("w1", concurrency=1)
    return cluster


@pytest.fixture
def spacy_worker(make_cluster) -> Cluster:  # type: ignore[no-untyped-def]
    return start_spacy_worker(make_cluster)


@pytest.mark.parametrize("batch_size", BATCH_SIZES, indirect=True)
def test_article_too_long_for_the_soft_limit_fails_alone_and_the_process_goes_on(
    spacy_worker: Cluster,
) -> None:
    client = spacy_worker.client()
    before = client.submit({"id": uid("before"), "text": "Officials met in Istanbul on Monday."})
    first = client.wait(before.id, timeout=120)
    assert first is not None and first.status == "done"
    pid = client.result(before.id).extensions["probe"]["pid"]  # type: ignore[union-attr]

    slow = client.submit({"id": uid("too-long"), "text": long_prose(190_000)})
    after = client.submit({"id": uid("after"), "text": "The talks resume in Geneva on 3 June."})

    timed_out = client.wait(slow.id, timeout=240)
    assert timed_out is not None and timed_out.status == "failed"
    assert timed_out.attempts == 2  # max_retries=1: the first try and one retry
    assert "soft time limit of 2.0s exceeded" in (timed_out.error or "")
    assert "worker process was lost" not in (timed_out.error or "")
    done = client.wait(after.id, timeout=120)
    assert done is not None and done.status == "done"
    document = client.result(after.id)
    assert document is not None
    assert document.extensions["probe"]["pid"] == pid  # the same pool process
    assert any(e.text == "Geneva" for e in document.entities)
    assert "Hard time limit" not in spacy_worker.log("w1@" + spacy_worker.prefix)


def test_in_a_batch_the_too_long_article_fails_by_the_soft_limit_and_the_others_are_done(
    make_cluster,  # type: ignore[no-untyped-def]
) -> None:
    # a batch's soft limit is the soft limit times its size: 1.5 s keeps the batch's well
    # below the long article's parse even on an idle machine (short ones take a tenth)
    cluster = start_spacy_worker(make_cluster, COPYDESK_WORKER__BATCH_SIZE="4",
                                 COPYDESK_WORKER__BATCH_WAIT="0.5",
                                 COPYDESK_WORKER__SOFT_TIME_LIMIT="1.5")
    client = cluster.client()
    slow = client.submit({"id": uid("too-long"), "text": long_prose(190_000)})
    others = [client.submit({"id": uid("short"), "text": f"Talks resume in Geneva on {d} June."})
              for d in (3, 4)]
    timed_out = client.wait(slow.id, timeout=240)
    assert timed_out is not None and timed_out.status == "failed"
    assert "soft time limit" in (timed_out.error or "")
    for sub in others:
        done = client.wait(sub.id, timeout=120)
        assert done is not None and done.status == "done"
    assert "Hard time limit" not in cluster.log("w1@" + cluster.prefix)
