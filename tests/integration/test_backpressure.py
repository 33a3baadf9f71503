"""Back-pressure at every door: producers wait for room, Redis never goes over its limit,
and a worker pauses instead of exiting when Redis is full (``workers.queue.window``)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.integration.conftest import COPYDESK, Cluster, new_cluster, start_redis_server
from tests.integration.gateway_fixtures import start_gateway

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "bbc-news-2005.jsonl"


@pytest.fixture
def small_redis(tmp_path: Path) -> Iterator[str]:
    """A redis-server of its own with a 4 MB limit and the queue's noeviction policy."""
    proc, url = start_redis_server(tmp_path, "--maxmemory", "4mb",
                                   "--maxmemory-policy", "noeviction")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def articles(count: int, tag: str) -> list[dict[str, str]]:
    return [{"id": f"{tag}-{i}", "text": f"Report number {i}: the council met on Tuesday "
             f"and approved {i + 3} new bus routes for the city."} for i in range(count)]


def write_jsonl(path: Path, items: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(a) + "\n" for a in items), encoding="utf-8")
    return path


def corpus_lines(count: int) -> list[str]:
    if not CORPUS.exists():
        pytest.skip("the shared corpus is not beside the clone")
    with CORPUS.open(encoding="utf-8") as f:
        return [next(f) for _ in range(count)]


def queued(cluster: Cluster) -> int:
    r = redis.Redis.from_url(cluster.redis_url)
    return int(r.zcard(f"{cluster.prefix}:index:queued"))


def used_and_max(url: str) -> tuple[int, int]:
    info = redis.Redis.from_url(url).info("memory")
    return int(info["used_memory"]), int(info["maxmemory"])


def test_client_submit_many_fills_the_queue_to_max_waiting_then_fails_naming_the_setting(
        redis_url: str, plugin_path: Path, tmp_path: Path) -> None:
    from copydesk.workers.queue.client import Client, QueueFull

    cluster = new_cluster(redis_url, plugin_path, tmp_path)
    settings = cluster.settings().model_copy(update={
        "queue": cluster.settings().queue.model_copy(update={"max_waiting": 20,
                                                             "poll_interval": 0.1})})
    with pytest.raises(QueueFull, match=r"queue\.max_waiting = 20"):
        Client(settings).submit_many(articles(50, "full"), max_wait=1)
    assert queued(cluster) == 20


def test_cli_submit_waits_showing_why_and_gives_up_after_max_wait(
        redis_url: str, plugin_path: Path, tmp_path: Path) -> None:
    cluster = new_cluster(redis_url, plugin_path, tmp_path,
                          COPYDESK_QUEUE__MAX_WAITING="15", COPYDESK_QUEUE__POLL_INTERVAL="0.1")
    feed = write_jsonl(tmp_path / "feed.jsonl", articles(40, "cli-full"))
    done = cluster.cli("submit", str(feed), "--max-wait", "1")
    assert done.returncode == 1
    assert "waiting for room" in done.stderr
    assert "15 articles wait on the queue (queue.max_waiting = 15)" in done.stderr
    assert done.stdout.split() == [f"cli-full-{i}" for i in range(15)]  # exactly what went in
    assert queued(cluster) == 15


def test_cli_submit_run_again_after_an_interruption_skips_what_is_already_queued(
        redis_url: str, plugin_path: Path, tmp_path: Path) -> None:
    cluster = new_cluster(redis_url, plugin_path, tmp_path,
                          COPYDESK_QUEUE__MAX_WAITING="10", COPYDESK_QUEUE__POLL_INTERVAL="0.1")
    feed = write_jsonl(tmp_path / "feed.jsonl", articles(25, "again"))
    assert cluster.cli("submit", str(feed), "--max-wait", "0.5").returncode == 1
    cluster.extra_env["COPYDESK_QUEUE__MAX_WAITING"] = "100"
    second = cluster.cli("submit", str(feed))
    assert second.returncode == 0, second.stderr
    assert "queued 15 article(s)" in second.stderr
    assert "10 already queued or done" in second.stderr
    assert queued(cluster) == 25


def test_submit_never_takes_redis_over_maxmemory_and_says_so(
        small_redis: str, plugin_path: Path, tmp_path: Path) -> None:
    cluster = new_cluster(small_redis, plugin_path, tmp_path, COPYDESK_QUEUE__POLL_INTERVAL="0.1")
    feed = tmp_path / "corpus.jsonl"
    feed.write_text("".join(corpus_lines(600)), encoding="utf-8")
    done = cluster.cli("submit", str(feed), "--max-wait", "1")
    assert done.returncode == 1
    assert "maxmemory" in done.stderr and "queue.memory_high" in done.stderr
    used, limit = used_and_max(small_redis)
    assert used <= limit
    assert 0 < len(done.stdout.split()) == queued(cluster) < 600


def test_queue_drains_through_a_small_max_waiting_with_a_worker_running(
        redis_url: str, plugin_path: Path, tmp_path: Path) -> None:
    cluster = new_cluster(redis_url, plugin_path, tmp_path,
                          COPYDESK_QUEUE__MAX_WAITING="5", COPYDESK_QUEUE__POLL_INTERVAL="0.1")
    feed = write_jsonl(tmp_path / "feed.jsonl", articles(30, "drain"))
    try:
        cluster.start_worker("drainer", concurrency=2)
        done = cluster.cli("submit", str(feed), "--wait", "--timeout", "120", timeout=180)
        assert done.returncode == 0, done.stderr
        assert "finished 30, failed 0" in done.stderr
    finally:
        cluster.stop()


def test_gateway_answers_503_queue_full_with_retry_after(
        redis_url: str, plugin_path: Path, tmp_path: Path) -> None:
    cluster = new_cluster(redis_url, plugin_path, tmp_path, COPYDESK_QUEUE__MAX_WAITING="3")
    gateway = start_gateway(cluster, tmp_path)
    try:
        with gateway.client() as http:
            first = http.post("/v1/articles", json=articles(3, "gw-full"))
            assert first.status_code == 202
            refused = http.post("/v1/articles", json={"text": "One more, while it is full."})
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "queue_full"
        assert "queue.max_waiting = 3" in refused.json()["error"]["message"]
        assert int(refused.headers["Retry-After"]) > 0
        assert queued(cluster) == 3
    finally:
        gateway.stop()


def test_worker_started_on_a_full_redis_pauses_and_goes_on_when_memory_frees(
        small_redis: str, plugin_path: Path, tmp_path: Path) -> None:
    cluster = new_cluster(small_redis, plugin_path, tmp_path, COPYDESK_QUEUE__POLL_INTERVAL="0.2")
    client = cluster.client()
    client.submit({"id": "waits-for-room", "text": "Filed before Redis filled up."})
    r = redis.Redis.from_url(small_redis)
    r.config_set("maxmemory", "64mb")
    r.set("filler", b"x" * 4_200_000)
    r.config_set("maxmemory", "4mb")  # now over it: Redis refuses every write that grows it
    used, limit = used_and_max(small_redis)
    assert used > limit
    node = f"patient@{cluster.prefix}"
    log = open(tmp_path / "patient.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([COPYDESK, "worker", "-n", node, "-c", "1", "--loglevel", "INFO",
                             "--worker-log-format", "json"], env=cluster.env(),
                            stdout=log, stderr=subprocess.STDOUT)
    cluster.workers[node] = proc
    try:
        deadline = time.monotonic() + 60
        while b"paused: Redis is full" not in (tmp_path / "patient.log").read_bytes():
            assert proc.poll() is None, (tmp_path / "patient.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "patient.log").read_text()
            time.sleep(0.2)
        shown = cluster.cli("queue")
        assert "paused" in shown.stdout, shown.stdout
        r.delete("filler")
        status = client.wait("waits-for-room", timeout=90)
        assert status is not None and status.status == "done"
        assert proc.poll() is None
        assert b"resumed" in (tmp_path / "patient.log").read_bytes()
        assert not r.hgetall(f"{cluster.prefix}:paused")
    finally:
        cluster.stop()



def test_an_article_running_when_redis_fills_is_finished_by_its_worker_once_memory_frees(
        small_redis: str, plugin_path: Path, tmp_path: Path) -> None:
    # Redis stays full for 5 s from the claim, so the pool process waits about 2 s in its
    # writes after the 3 s stage: the time limits leave room for that wait.
    cluster = new_cluster(small_redis, plugin_path, tmp_path, COPYDESK_QUEUE__POLL_INTERVAL="0.2",
                          COPYDESK_STAGE__PROBE__DELAY="3",
                          COPYDESK_WORKER__SOFT_TIME_LIMIT="20", COPYDESK_WORKER__TIME_LIMIT="25",
                          COPYDESK_WORKER__VISIBILITY_TIMEOUT="30")
    r = redis.Redis.from_url(small_redis)
    try:
        cluster.start_worker("holder", concurrency=1)
        client = cluster.client()
        client.submit({"id": "in-flight", "text": "Redis fills up while this one runs."})
        deadline = time.monotonic() + 60
        while (client.status("in-flight") or Empty).status != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        r.config_set("maxmemory", "64mb")
        r.set("filler", b"x" * 4_200_000)
        r.config_set("maxmemory", "4mb")  # the finish of the running article is refused now
        time.sleep(5)
        assert (client.status("in-flight") or Empty).status == "running"
        r.delete("filler")
        status = client.wait("in-flight", timeout=60)
        assert status is not None and status.status == "done"
        assert status.attempts == 1 and status.completions == 1  # no orphan sweep, no retry
        assert cluster.workers[f"holder@{cluster.prefix}"].poll() is None
        assert "paused: Redis is full" in cluster.log(f"holder@{cluster.prefix}")
    finally:
        cluster.stop()


class Empty:
    status = None
