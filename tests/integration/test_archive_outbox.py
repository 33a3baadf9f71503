"""Delivery to the archive with real parts: two ``copydesk worker`` processes running the real
stages, a ``copydesk sink postgres`` consumer and a private PostgreSQL server. Finished
Documents reach PostgreSQL through the outbox stream, and none is lost or written twice
when PostgreSQL crashes for 20 seconds or the consumer is SIGKILLed mid-run."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.archive_helpers import corpus_articles, layer_counts, pg_counts
from tests.integration.conftest import COPYDESK, Cluster, new_cluster

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]

STAGES = "cleaning,entities,numbers,quotes"


@pytest.fixture(scope="module")
def archive_cluster(redis_url: str, plugin_path: Path, postgres_server: Any,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two workers (one pool process each) running the real stages, with the postgres sink
    configured, so they append every finished Document to the outbox."""
    cluster = new_cluster(
        redis_url, plugin_path, tmp_path_factory.mktemp("archive-logs"),
        COPYDESK_LOAD_PLUGINS=f"queue,postgres,{STAGES}",
        COPYDESK_PIPELINE__STAGES=STAGES,
        COPYDESK_SINKS__POSTGRES__URL=postgres_server.url(),
        COPYDESK_SINKS__CLAIM_AFTER="3",
        COPYDESK_WORKER__SOFT_TIME_LIMIT="40",
        COPYDESK_WORKER__TIME_LIMIT="50",
        COPYDESK_WORKER__VISIBILITY_TIMEOUT="60",
        COPYDESK_WORKER__HEARTBEAT_INTERVAL="2",
    )
    cluster.start_worker("w1", 1)
    cluster.start_worker("w2", 1)
    yield cluster
    cluster.stop()


class Consumer:
    """A ``copydesk sink postgres`` process writing to ``url``."""

    def __init__(self, cluster: Cluster, url: str, log: Path, *args: str) -> None:
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [COPYDESK, "sink", "postgres", *args], stdout=out, stderr=subprocess.STDOUT,
                env=cluster.env(COPYDESK_SINKS__POSTGRES__URL=url, COPYDESK_LOG_LEVEL="INFO"))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def submit(cluster: Cluster, tmp_path: Path, count: int, start: int) -> list[str]:
    path = tmp_path / f"articles-{start}.jsonl"
    path.write_text("".join(a.model_dump_json(exclude_none=True) + "\n"
                            for a in corpus_articles(count, start)), encoding="utf-8")
    done = cluster.cli("submit", str(path), timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def archived(url: str) -> int:
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            row = conn.execute("SELECT count(*) FROM copydesk.documents").fetchone()
            return int(row[0]) if row else 0
    except psycopg.Error:
        return -1


def wait_for_rows(url: str, at_least: int, timeout: float, consumer: Consumer) -> None:
    deadline = time.monotonic() + timeout
    while archived(url) < at_least:
        if consumer.proc.poll() is not None:
            raise AssertionError(f"the consumer exited: {consumer.log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{archived(url)} of {at_least} archived; consumer log: "
                                 f"{consumer.log.read_text()[-3000:]}")
        time.sleep(0.5)


def assert_archive_matches_the_results(cluster: Cluster, url: str, ids: list[str]) -> None:
    client = cluster.client()
    statuses = client.wait(ids, timeout=600)
    assert all(s is not None and s.status == "done" for s in statuses.values()), statuses
    expected = {i: layer_counts(client.result(i)) for i in ids}
    assert pg_counts(url) == expected
    assert sum(c["entities"] for c in expected.values()) > 0


def backlog(cluster: Cluster) -> dict[str, Any]:
    done = cluster.cli("queue", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["sinks"]["postgres"]  # type: ignore[no-any-return]


def test_workers_create_the_sinks_group_on_the_outbox_before_any_consumer_runs(
        archive_cluster: Cluster) -> None:
    import redis

    client = redis.Redis.from_url(archive_cluster.redis_url, decode_responses=True)
    groups = client.xinfo_groups(f"{archive_cluster.prefix}:outbox")
    assert [g["name"] for g in groups] == ["postgres"]


def test_two_workers_and_a_sink_archive_sixty_articles_with_their_layers(
        archive_cluster: Cluster, postgres_server: Any, tmp_path: Path) -> None:
    url = postgres_server.new_database()
    consumer = Consumer(archive_cluster, url, tmp_path / "sink.log", "--batch-size", "8")
    try:
        ids = submit(archive_cluster, tmp_path, 60, start=600)
        wait_for_rows(url, 60, 600, consumer)
        assert_archive_matches_the_results(archive_cluster, url, ids)
        assert backlog(archive_cluster)["backlog"] == 0
    finally:
        consumer.stop()


def test_postgres_down_for_twenty_seconds_mid_run_loses_no_document(
        archive_cluster: Cluster, postgres_server: Any, tmp_path: Path) -> None:
    url = postgres_server.new_database()
    consumer = Consumer(archive_cluster, url, tmp_path / "sink.log", "--batch-size", "4")
    try:
        ids = submit(archive_cluster, tmp_path, 60, start=700)
        wait_for_rows(url, 8, 600, consumer)
        postgres_server.stop("immediate")
        try:
            time.sleep(20)
            assert backlog(archive_cluster)["backlog"] > 0
        finally:
            postgres_server.start()
        wait_for_rows(url, 60, 600, consumer)
        assert_archive_matches_the_results(archive_cluster, url, ids)
        assert "stays pending" in consumer.log.read_text()
    finally:
        consumer.stop()


def test_a_sigkilled_consumer_loses_no_document_and_writes_none_twice(
        archive_cluster: Cluster, postgres_server: Any, tmp_path: Path) -> None:
    url = postgres_server.new_database()
    first = Consumer(archive_cluster, url, tmp_path / "sink-1.log", "--batch-size", "4")
    second = None
    try:
        ids = submit(archive_cluster, tmp_path, 60, start=800)
        wait_for_rows(url, 8, 600, first)
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait()
        second = Consumer(archive_cluster, url, tmp_path / "sink-2.log", "--batch-size", "4")
        wait_for_rows(url, 60, 600, second)
        assert_archive_matches_the_results(archive_cluster, url, ids)
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_a_document_postgres_refuses_is_dead_lettered_and_the_others_archived(
        archive_cluster: Cluster, postgres_server: Any, tmp_path: Path) -> None:
    url = postgres_server.new_database()
    lines = [json.loads(a.model_dump_json(exclude_none=True)) for a in corpus_articles(3, 900)]
    lines[1]["title"] = "a NUL \x00 in the title"
    path = tmp_path / "nul.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    consumer = Consumer(archive_cluster, url, tmp_path / "sink.log")
    try:
        done = archive_cluster.cli("submit", str(path), "--wait")
        assert done.returncode == 0, done.stderr
        wait_for_rows(url, 2, 300, consumer)
        deadline = time.monotonic() + 60
        while backlog(archive_cluster)["dead"] < 1 and time.monotonic() < deadline:
            time.sleep(0.5)
        info = backlog(archive_cluster)
        assert info["dead"] == 1
        assert info["dead_letters"][0]["id"] == lines[1]["id"]
        assert "NUL" in info["dead_letters"][0]["reason"]
        assert set(pg_counts(url)) == {lines[0]["id"], lines[2]["id"]}
    finally:
        consumer.stop()


def test_a_sink_url_that_cannot_connect_fails_the_sink_command_naming_the_setting(
        archive_cluster: Cluster) -> None:
    from tests.postgres_server import free_port

    done = subprocess.run(
        [COPYDESK, "sink", "postgres"], capture_output=True, text=True, timeout=60,
        env=archive_cluster.env(
            COPYDESK_SINKS__POSTGRES__URL=f"postgresql://u:pw@127.0.0.1:{free_port()}/db",
            COPYDESK_SINKS__POSTGRES__CONNECT_TIMEOUT="2"))
    assert done.returncode == 1
    assert "cannot connect" in done.stderr
    assert "sinks.postgres.url (COPYDESK_SINKS__POSTGRES__URL)" in done.stderr
