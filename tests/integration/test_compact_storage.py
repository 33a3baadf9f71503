"""Compact storage in a real Redis: Documents and articles are stored as zstd frames, read
back as JSON by the client and the CLI, and records written uncompressed still read."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest
import redis
from copydesk.document import Document
from copydesk.settings import Settings, WorkerSettings
from copydesk.workers.queue.client import Client
from copydesk.workers.queue.compact import ZSTD_MAGIC
from copydesk.workers.queue.store import Store

from tests.integration.conftest import COPYDESK

pytestmark = pytest.mark.integration

ARTICLE = {"id": "", "text": "Ministers met in Istanbul on Monday. " * 30}


def settings_for(redis_url: str, compression: str = "zstd") -> Settings:
    prefix = f"c{uuid.uuid4().hex[:8]}"
    return Settings(redis_url=redis_url, worker=WorkerSettings(
        key_prefix=prefix, queue=prefix, compression=compression))


def finish_one(settings: Settings) -> tuple[str, str]:
    """Submit, claim and finish one article through the store, as a worker would."""
    store = Store.from_settings(settings)
    article = ARTICLE | {"id": f"c-{uuid.uuid4().hex[:8]}"}
    task_id = str(uuid.uuid4())
    store.submit(article["id"], article, task_id)
    assert store.claim(article["id"], task_id, "w@t", "w@t:1", article).action == "run"
    doc = Document(id=article["id"], text=article["text"], raw_text=article["text"],
                   status="done")
    store.finish(article["id"], task_id, "done", doc.to_json(), None, "w@t")
    return article["id"], doc.to_json()


def raw_field(redis_url: str, key: str, field: str) -> bytes | None:
    return redis.Redis.from_url(redis_url).hget(key, field)  # type: ignore[return-value]


def test_stored_document_is_a_zstd_frame_and_the_client_returns_its_json(redis_url: str) -> None:
    settings = settings_for(redis_url)
    article_id, doc_json = finish_one(settings)
    stored = raw_field(redis_url, f"{settings.worker.key_prefix}:article:{article_id}",
                       "document")
    assert stored is not None and stored[:4] == ZSTD_MAGIC and len(stored) < len(doc_json) / 3
    assert Client(settings).result_json(article_id) == doc_json


def test_queued_article_is_stored_compressed_and_dead_letters_keep_plain_json(
        redis_url: str) -> None:
    settings = settings_for(redis_url)
    settings.worker.max_retries = 0
    store = Store.from_settings(settings)
    article = ARTICLE | {"id": f"q-{uuid.uuid4().hex[:8]}"}
    store.submit(article["id"], article, "t-1")
    key = f"{settings.worker.key_prefix}:article:{article['id']}"
    assert (raw_field(redis_url, key, "article") or b"")[:4] == ZSTD_MAGIC
    assert store.claim(article["id"], "t-1", "w@t", "w@t:1", article).action == "run"
    assert store.claim(article["id"], "t-1", "w@t", "w@t:1", article).action == "skip"
    redis.Redis.from_url(redis_url).hset(key, "lease_until", "0")  # the holder died
    assert store.claim(article["id"], "t-1", "w@t", "w@t:1", article).action == "dead"
    assert store.dead_letters()[0]["article"] == article


def test_a_document_stored_before_compression_still_reads(redis_url: str) -> None:
    settings = settings_for(redis_url, compression="none")
    article_id, doc_json = finish_one(settings)
    stored = raw_field(redis_url, f"{settings.worker.key_prefix}:article:{article_id}",
                       "document")
    assert stored == doc_json.encode()
    settings.worker.compression = "zstd"  # a newer reader, same record
    assert Client(settings).result_json(article_id) == doc_json


def test_cli_result_prints_the_document_json_of_a_compressed_record(
        redis_url: str, tmp_path: Path) -> None:
    settings = settings_for(redis_url)
    article_id, doc_json = finish_one(settings)
    env = {"COPYDESK_REDIS_URL": redis_url,
           "COPYDESK_WORKER__KEY_PREFIX": settings.worker.key_prefix,
           "COPYDESK_WORKER__QUEUE": settings.worker.queue, "PATH": "/usr/bin:/bin"}
    done = subprocess.run([COPYDESK, "result", article_id, "--no-indent"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(doc_json)
