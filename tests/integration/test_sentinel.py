"""The queue through Redis Sentinel on this machine: a master, a replica and a sentinel on
loopback; the client finds the master by its name, and durable submits wait for the replica."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest
import redis
from copydesk.settings import Settings
from copydesk.workers.queue.client import Client, NotReplicated

from tests.integration.conftest import REDIS_SERVER, free_port, start_redis_server

pytestmark = pytest.mark.integration


def _wait_ping(port: int) -> None:
    client = redis.Redis("127.0.0.1", port, socket_timeout=1)
    for _ in range(100):
        try:
            client.ping()
            return
        except (redis.ConnectionError, redis.TimeoutError):
            time.sleep(0.05)
    raise RuntimeError(f"nothing answers on port {port}")


@pytest.fixture(scope="module")
def sentinel_group(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    work = tmp_path_factory.mktemp("sentinel")
    ports = {"master": free_port(), "replica": free_port(), "sentinel": free_port()}
    procs = [start_redis_server(work, port=ports["master"])[0]]
    procs.append(start_redis_server(work, "--replicaof", "127.0.0.1", str(ports["master"]),
                                    port=ports["replica"])[0])
    master = redis.Redis("127.0.0.1", ports["master"], decode_responses=True)
    deadline = time.monotonic() + 30
    while "online" not in str(master.info("replication").get("slave0", "")):
        assert time.monotonic() < deadline, "the replica never synced"
        time.sleep(0.05)
    conf = work / "sentinel.conf"
    conf.write_text(f"port {ports['sentinel']}\nbind 127.0.0.1\ndir {work}\n"
                    f"sentinel monitor news 127.0.0.1 {ports['master']} 1\n")
    procs.append(subprocess.Popen([REDIS_SERVER, str(conf), "--sentinel"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    _wait_ping(ports["sentinel"])
    yield ports
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


def settings_for(ports: dict[str, int], **sentinel: object) -> Settings:
    return Settings(redis_url="redis://unused/0",
                    sentinel={"hosts": f"127.0.0.1:{ports['sentinel']}", "master": "news",
                              **sentinel},
                    worker={"key_prefix": f"s{time.monotonic_ns()}"})


def test_the_client_submits_to_the_master_it_finds_through_the_sentinel(
        sentinel_group: dict[str, int]) -> None:
    client = Client(settings_for(sentinel_group))
    result = client.submit({"id": "via-sentinel", "text": "Kyiv said on Monday."})
    assert result.outcome == "queued"
    master = redis.Redis("127.0.0.1", sentinel_group["master"], decode_responses=True)
    prefix = client.settings.worker.key_prefix
    assert master.hget(f"{prefix}:article:via-sentinel", "status") == "queued"


def test_a_durable_submit_returns_once_the_replica_has_it(
        sentinel_group: dict[str, int]) -> None:
    client = Client(settings_for(sentinel_group, wait_replicas=1))
    assert client.submit({"id": "durable", "text": "Ankara waited."}).outcome == "queued"
    replica = redis.Redis("127.0.0.1", sentinel_group["replica"], decode_responses=True)
    prefix = client.settings.worker.key_prefix
    assert replica.hget(f"{prefix}:article:durable", "status") == "queued"


def test_a_durable_submit_that_no_replica_acknowledges_is_reported_not_replicated(
        sentinel_group: dict[str, int]) -> None:
    client = Client(settings_for(sentinel_group, wait_replicas=2, wait_timeout_ms=200))
    with pytest.raises(NotReplicated, match="1 of 2 replicas"):
        client.submit({"id": "not-durable", "text": "Moscow said nothing."})
