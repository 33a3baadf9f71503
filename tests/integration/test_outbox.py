"""The outbox with a real Redis and real sinks (no workers): what the finish script appends,
what a consumer takes, acknowledges, claims back, dead-letters and trims."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from copydesk import Settings
from copydesk.document import Document
from copydesk.plugin_manager import build_plugin_manager
from copydesk.sinks import SinkUnavailable, build_sink
from copydesk.workers.queue.drain import Drain
from copydesk.workers.queue.outbox import Outbox, backlogs
from copydesk.workers.queue.store import Store

pytestmark = pytest.mark.integration


def documents(count: int) -> list[Document]:
    tag = uuid.uuid4().hex[:6]
    return [Document(id=f"d{tag}-{i}", text=f"Article {i} of {tag}.", raw_text=f"Article {i}.",
                     status="done") for i in range(count)]


def store_for(redis_url: str, **sinks: dict[str, Any]) -> Store:
    settings = Settings(redis_url=redis_url, sinks=sinks,
                        worker={"key_prefix": f"o{uuid.uuid4().hex[:8]}"})
    return Store.from_settings(settings)


def finish(store: Store, docs: list[Document]) -> None:
    for doc in docs:
        assert store.finish(doc.id, "task-1", "done", doc.to_json(), None, "w1")


def jsonl_sink(path: Path):  # type: ignore[no-untyped-def]
    settings = Settings(sinks={"jsonl": {"path": str(path)}})
    return build_sink("jsonl", settings, build_plugin_manager(settings))


def archived_ids(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text().splitlines()]


def test_finishing_appends_to_the_outbox_only_when_a_sink_is_configured(redis_url: str,
                                                                         tmp_path: Path) -> None:
    without = store_for(redis_url)
    finish(without, documents(2))
    assert without.r.exists(without.keys.outbox) == 0
    with_sink = store_for(redis_url, jsonl={"path": str(tmp_path / "a.jsonl")})
    docs = documents(2)
    finish(with_sink, docs)
    entries = with_sink.r.xrange(with_sink.keys.outbox)
    assert [(f["id"], f["status"]) for _, f in entries] == [(d.id, "done") for d in docs]


def test_a_failure_without_a_document_is_not_sent_to_the_sinks(redis_url: str,
                                                                tmp_path: Path) -> None:
    store = store_for(redis_url, jsonl={"path": str(tmp_path / "a.jsonl")})
    assert store.finish("bad-1", "task-1", "failed", None, "invalid article", "w1")
    assert store.r.xlen(store.keys.outbox) == 0


def test_a_consumer_writes_every_finished_document_once_and_the_backlog_empties(
        redis_url: str, tmp_path: Path) -> None:
    path = tmp_path / "archive.jsonl"
    store = store_for(redis_url, jsonl={"path": str(path)})
    store.prepare_outbox(["jsonl"])
    docs = documents(7)
    finish(store, docs)
    assert [b.total for b in backlogs(store.r, store.keys)] == [7]
    with jsonl_sink(path) as sink:
        stats = Drain(sink, store, Outbox(store.r, store.keys, "jsonl", "c1", 60), 3).run(
            until_empty=True, block_ms=10)
    assert stats.written == 7 and stats.batches == 3
    assert archived_ids(path) == [d.id for d in docs]
    assert [b.total for b in backlogs(store.r, store.keys)] == [0]
    assert store.r.xlen(store.keys.outbox) == 0  # trimmed once every group acknowledged


def test_a_sink_that_cannot_write_keeps_the_batch_pending_and_takes_it_again(
        redis_url: str, tmp_path: Path) -> None:
    blocked = tmp_path / "archive"
    blocked.write_text("a file where the sink's directory should be")
    path = blocked / "documents.jsonl"
    store = store_for(redis_url, jsonl={"path": str(path)})
    store.prepare_outbox(["jsonl"])
    docs = documents(4)
    finish(store, docs)
    outbox = Outbox(store.r, store.keys, "jsonl", "c1", 60)
    sink = jsonl_sink(path)
    first = outbox.take(10, 10)
    with pytest.raises(SinkUnavailable, match="sinks.jsonl.path"):
        Drain(sink, store, outbox, 10)._deliver(first)
    assert [(b.pending, b.lag) for b in backlogs(store.r, store.keys)] == [(4, 0)]
    blocked.unlink()
    assert outbox.take(10, 10) == first  # its own pending entries come first
    stats = Drain(sink, store, outbox, 10).run(until_empty=True, block_ms=10)
    assert stats.written == 4
    assert archived_ids(path) == [d.id for d in docs]


def test_entries_a_dead_consumer_held_are_claimed_by_another_after_claim_after(
        redis_url: str, tmp_path: Path) -> None:
    path = tmp_path / "archive.jsonl"
    store = store_for(redis_url, jsonl={"path": str(path)})
    store.prepare_outbox(["jsonl"])
    docs = documents(5)
    finish(store, docs)
    dead = Outbox(store.r, store.keys, "jsonl", "killed", 60)
    assert len(dead.take(2, 10)) == 2  # taken, never acknowledged
    survivor = Outbox(store.r, store.keys, "jsonl", "survivor", 0.2)
    time.sleep(0.3)
    with jsonl_sink(path) as sink:
        stats = Drain(sink, store, survivor, 10).run(until_empty=True, block_ms=10)
    assert stats.written == 5
    assert sorted(archived_ids(path)) == sorted(d.id for d in docs)


def test_a_document_gone_from_the_store_is_dead_lettered_and_the_others_written(
        redis_url: str, tmp_path: Path) -> None:
    path = tmp_path / "archive.jsonl"
    store = store_for(redis_url, jsonl={"path": str(path)})
    store.prepare_outbox(["jsonl"])
    docs = documents(3)
    finish(store, docs)
    store.r.delete(store.keys.article(docs[1].id))
    with jsonl_sink(path) as sink:
        stats = Drain(sink, store, Outbox(store.r, store.keys, "jsonl", "c1", 60), 10).run(
            until_empty=True, block_ms=10)
    assert stats.dead_ids == [docs[1].id]
    assert archived_ids(path) == [docs[0].id, docs[2].id]
    (backlog,) = backlogs(store.r, store.keys)
    assert (backlog.total, backlog.dead) == (0, 1)
    (letter,) = [json.loads(x) for x in store.r.lrange(store.keys.sink_dead("jsonl"), 0, -1)]
    assert letter["id"] == docs[1].id and "no Document in the result store" in letter["reason"]


def test_entries_another_sink_has_not_read_are_kept(redis_url: str, tmp_path: Path) -> None:
    path = tmp_path / "archive.jsonl"
    store = store_for(redis_url, jsonl={"path": str(path)},
                      parquet={"path": str(tmp_path / "pq")})
    store.prepare_outbox(["jsonl", "parquet"])
    finish(store, documents(3))
    with jsonl_sink(path) as sink:
        Drain(sink, store, Outbox(store.r, store.keys, "jsonl", "c1", 60), 10).run(
            until_empty=True, block_ms=10)
    assert store.r.xlen(store.keys.outbox) == 3
    assert {b.sink: b.total for b in backlogs(store.r, store.keys)} == {"jsonl": 0,
                                                                        "parquet": 3}


def test_the_documents_a_sink_committed_are_marked_archived_and_the_refused_are_not(
        redis_url: str, tmp_path: Path) -> None:
    from copydesk.workers.queue.window import Window

    path = tmp_path / "archive.jsonl"
    store = store_for(redis_url, jsonl={"path": str(path)})
    store.prepare_outbox(["jsonl"])
    docs = documents(3)
    finish(store, docs)
    store.r.delete(store.keys.article(docs[2].id))  # dead-lettered: never archived
    window = Window(store.r, store.keys, Settings().queue)
    with jsonl_sink(path) as sink:
        Drain(sink, store, Outbox(store.r, store.keys, "jsonl", "c1", 60), 10,
              committed=lambda ids: window.mark_archived(ids, "jsonl", ["jsonl"], 3600)
              ).run(until_empty=True, block_ms=10)
    assert set(store.r.zrange(store.keys.archived, 0, -1)) == {docs[0].id, docs[1].id}


def test_a_consumer_archives_and_acknowledges_while_redis_is_over_its_memory_limit(
        tmp_path: Path) -> None:
    from copydesk.workers.queue.window import Window

    from tests.integration.conftest import start_redis_server

    proc, url = start_redis_server(tmp_path, "--maxmemory-policy", "noeviction")
    try:
        path = tmp_path / "archive.jsonl"
        store = store_for(url, jsonl={"path": str(path)})
        store.prepare_outbox(["jsonl"])
        docs = documents(3)
        finish(store, docs)
        store.r.config_set("maxmemory", 1)  # over the limit: Redis refuses writes that grow it
        window = Window(store.r, store.keys, Settings().queue)
        with jsonl_sink(path) as sink:
            stats = Drain(sink, store, Outbox(store.r, store.keys, "jsonl", "c1", 60), 10,
                          committed=lambda ids: window.mark_archived(ids, "jsonl", ["jsonl"],
                                                                     3600)
                          ).run(until_empty=True, block_ms=10)
        assert stats.written == 3
        assert archived_ids(path) == [d.id for d in docs]
        # the window can drop these records to make room: their Documents are archived
        assert store.r.zcard(store.keys.archived) == 3
        assert [b.total for b in backlogs(store.r, store.keys)] == [0]
    finally:
        proc.terminate()
        proc.wait()
