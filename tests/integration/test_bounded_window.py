"""Redis as a bounded window over the archive: a backfill far larger than Redis ends done
and archived, Redis never over its limit, no worker exited; expired ids read back."""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.integration.conftest import COPYDESK, Cluster, new_cluster, start_redis_server

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.postgres]

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "bbc-news-2005.jsonl"


class PeakMemory(threading.Thread):
    """Redis ``used_memory`` sampled every 50 ms while a test runs."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.r = redis.Redis.from_url(url)
        self.peak = 0
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            with contextlib.suppress(redis.RedisError):
                self.peak = max(self.peak, int(self.r.info("memory")["used_memory"]))
            time.sleep(0.05)


@pytest.fixture
def redis_20mb(tmp_path: Path) -> Iterator[str]:
    proc, url = start_redis_server(tmp_path, "--maxmemory", "20mb",
                                   "--maxmemory-policy", "noeviction")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def archived_count(pg_url: str) -> int:
    import psycopg

    with psycopg.connect(pg_url) as conn:
        row = conn.execute("SELECT count(*), count(DISTINCT id) FROM copydesk.documents"
                           ).fetchone()
    assert row is not None and row[0] == row[1]  # none twice
    return int(row[0])


def archive_client(cluster: Cluster, pg_url: str):  # type: ignore[no-untyped-def]
    """A client whose settings name the postgres sink, as the cluster's processes have."""
    from copydesk.settings import SinksSettings
    from copydesk.workers.queue.client import Client

    sinks = SinksSettings.model_validate({"postgres": {"url": pg_url}})
    return Client(cluster.settings().model_copy(update={"sinks": sinks}))


def start(cluster: Cluster, name: str, *args: str) -> subprocess.Popen[bytes]:
    log = open(cluster.logdir / f"{name}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([COPYDESK, *args], env=cluster.env(), stdout=log,
                            stderr=subprocess.STDOUT)
    cluster.workers[name] = proc
    return proc


def test_backfill_of_3000_articles_through_a_20mb_redis_ends_done_and_archived(
        redis_20mb: str, pg_url: str, plugin_path: Path, tmp_path: Path) -> None:
    if not CORPUS.exists():
        pytest.skip("the shared corpus is not beside the clone")
    corpus = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    # 3,000 articles: the corpus, then its first 775 again under ids of their own
    articles = corpus + [{**a, "id": f"again-{a['id']}"} for a in corpus[:3000 - len(corpus)]]
    feed = tmp_path / "backfill.jsonl"
    feed.write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")
    cluster = new_cluster(redis_20mb, plugin_path, tmp_path,
                          COPYDESK_LOAD_PLUGINS="queue,probe,postgres",
                          COPYDESK_PIPELINE__STAGES="probe",
                          COPYDESK_SINKS__POSTGRES__URL=pg_url,
                          COPYDESK_QUEUE__POLL_INTERVAL="0.2")
    watch = PeakMemory(redis_20mb)
    watch.start()
    try:
        cluster.start_worker("only", concurrency=2)
        worker = cluster.workers[f"only@{cluster.prefix}"]
        sink = start(cluster, "sink", "sink", "postgres")
        done = cluster.cli("submit", str(feed), "--max-wait", "600", timeout=900)
        assert done.returncode == 0, done.stderr[-2000:]
        assert len(done.stdout.split()) == 3000
        deadline = time.monotonic() + 600
        while archived_count(pg_url) < 3000:
            assert worker.poll() is None, cluster.log(f"only@{cluster.prefix}")[-3000:]
            assert sink.poll() is None, (tmp_path / "sink.log").read_text()[-3000:]
            assert time.monotonic() < deadline, f"{archived_count(pg_url)} archived"
            time.sleep(1)
        client = archive_client(cluster, pg_url)
        first = client.result(articles[0]["id"])  # long archived: from Redis or the archive
        assert first is not None and first.id == articles[0]["id"]
        assert worker.poll() is None and sink.poll() is None
    finally:
        watch.halt.set()
        watch.join()
        cluster.stop()
    limit = int(redis.Redis.from_url(redis_20mb).info("memory")["maxmemory"])
    assert 0 < watch.peak <= limit
    assert archived_count(pg_url) == 3000


def test_an_id_redis_let_go_after_archiving_reads_back_from_postgres(
        redis_url: str, pg_url: str, plugin_path: Path, tmp_path: Path) -> None:
    cluster = new_cluster(redis_url, plugin_path, tmp_path,
                          COPYDESK_LOAD_PLUGINS="queue,probe,postgres",
                          COPYDESK_PIPELINE__STAGES="probe",
                          COPYDESK_SINKS__POSTGRES__URL=pg_url,
                          COPYDESK_SINKS__KEEP_IN_REDIS="0")
    try:
        cluster.start_worker("archiver", concurrency=1)
        sink = start(cluster, "sink", "sink", "postgres")
        client = archive_client(cluster, pg_url)
        client.submit({"id": "kept-for-good", "text": "The mayor opened the new bridge."})
        assert client.wait("kept-for-good", timeout=60).status == "done"  # type: ignore[union-attr]
        r = redis.Redis.from_url(redis_url)
        deadline = time.monotonic() + 60
        while r.exists(f"{cluster.prefix}:article:kept-for-good"):
            assert sink.poll() is None, (tmp_path / "sink.log").read_text()[-3000:]
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert client.status("kept-for-good") is None  # Redis no longer has it
        doc = client.result("kept-for-good")
        assert doc is not None and doc.text == "The mayor opened the new bridge."
        shown = cluster.cli("result", "kept-for-good")
        assert shown.returncode == 0 and '"kept-for-good"' in shown.stdout
    finally:
        cluster.stop()
