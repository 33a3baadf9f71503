"""A finished record is final in the store: the first attempt to finish an article wins, and
a later one (an attempt that lost its lease meanwhile, a redelivered invalid message) writes
nothing, so no article reaches ``done`` or ``failed`` twice. Real Redis, the store's scripts."""

from __future__ import annotations

import time
import uuid

import pytest
from copydesk.document import Document
from copydesk.settings import Settings, WorkerSettings
from copydesk.workers.queue.store import Store

pytestmark = pytest.mark.integration

TEXT = "Ministers met in Istanbul on Monday to discuss the grain corridor."


def a_store(redis_url: str) -> Store:
    prefix = f"f{uuid.uuid4().hex[:8]}"
    return Store.from_settings(Settings(redis_url=redis_url, worker=WorkerSettings(
        key_prefix=prefix, queue=prefix, max_retries=1)))


def done_json(article_id: str) -> str:
    return Document(id=article_id, text=TEXT, raw_text=TEXT, status="done").to_json()


def done_events(store: Store, article_id: str) -> int:
    return sum(1 for _, f in store.r.xrange(store.keys.events)
               if f["id"] == article_id and f["status"] in ("done", "failed"))


def test_an_attempt_finishing_after_its_article_was_dead_lettered_writes_nothing(
        redis_url: str) -> None:
    store = a_store(redis_url)
    article = {"id": "stale-1", "text": TEXT}
    task = str(uuid.uuid4())
    store.submit(article["id"], article, task)
    for attempt in range(store.max_attempts):  # each attempt's lease lapses (a lost host)
        assert store.claim(article["id"], task, f"w{attempt}@h", f"w{attempt}@h:1",
                           article).action == "run"
        store.r.hset(store.keys.article(article["id"]), "lease_until", str(time.time() - 1))
    assert store.claim(article["id"], task, "w9@h", "w9@h:1", article).action == "dead"

    written = store.finish(article["id"], task, "done", done_json(article["id"]), None, "w0@h")

    record = store.status(article["id"])
    assert not written
    assert record is not None and record.status == "failed" and record.completions == 1
    assert done_events(store, article["id"]) == 1


def test_a_second_failed_finish_of_the_same_message_is_not_counted_again(
        redis_url: str) -> None:
    store = a_store(redis_url)
    task = str(uuid.uuid4())
    assert store.finish("bad-1", task, "failed", None, "invalid article: no text", "w@h")
    assert not store.finish("bad-1", task, "failed", None, "invalid article: no text", "w@h")
    record = store.status("bad-1")
    assert record is not None and record.completions == 1
    assert done_events(store, "bad-1") == 1


def test_the_first_of_two_attempts_to_finish_wins(redis_url: str) -> None:
    store = a_store(redis_url)
    article = {"id": "race-1", "text": TEXT}
    task = str(uuid.uuid4())
    store.submit(article["id"], article, task)
    assert store.claim(article["id"], task, "w1@h", "w1@h:1", article).action == "run"
    store.r.hset(store.keys.article(article["id"]), "lease_until", str(time.time() - 1))
    assert store.claim(article["id"], task, "w2@h", "w2@h:1", article).action == "run"

    assert store.finish(article["id"], task, "done", done_json(article["id"]), None, "w1@h")
    assert not store.finish(article["id"], task, "failed", None, "crashed", "w2@h")

    record = store.status(article["id"])
    assert record is not None and record.status == "done" and record.worker == "w1@h"
    assert record.completions == 1


def test_a_batch_claims_at_once_with_an_answer_for_each_article(redis_url: str) -> None:
    store = a_store(redis_url)
    task = str(uuid.uuid4())
    articles = [{"id": f"batch-{i}", "text": TEXT} for i in range(3)]
    for article in articles:
        store.submit(article["id"], article, task)
    store.finish("batch-1", task, "done", done_json("batch-1"), None, "w0@h")

    answers = store.claim_many([(a["id"], task, "w1@h", "w1@h:1", a) for a in articles])

    assert [(a.action, a.detail) for a in answers if not isinstance(a, Exception)] == \
        [("run", "1"), ("skip", "done"), ("run", "1")]


def test_a_batch_finishes_at_once_and_a_finished_record_stays_as_it_was(
        redis_url: str) -> None:
    store = a_store(redis_url)
    task = str(uuid.uuid4())
    articles = [{"id": f"fin-{i}", "text": TEXT} for i in range(3)]
    for article in articles:
        store.submit(article["id"], article, task)
        store.claim(article["id"], task, "w1@h", "w1@h:1", article)
    store.finish("fin-2", task, "failed", None, "a required stage failed", "w1@h")

    written = store.finish_many([(a["id"], task, "done", done_json(a["id"]), None, "w1@h",
                                  None) for a in articles])

    assert written == [True, True, False]
    statuses = store.statuses([a["id"] for a in articles])
    assert [(s.status, s.completions) for s in statuses.values() if s] == \
        [("done", 1), ("done", 1), ("failed", 1)]
