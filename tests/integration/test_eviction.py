"""Redis that could evict the queue: workers and the gateway refuse an ``allkeys-*`` policy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.integration.conftest import Cluster, free_port, new_cluster, start_redis_server

pytestmark = pytest.mark.integration


@pytest.fixture
def lru_redis(tmp_path: Path) -> Iterator[str]:
    """A redis-server of its own, started with ``--maxmemory-policy allkeys-lru``."""
    proc, url = start_redis_server(tmp_path, "--maxmemory", "100mb",
                                   "--maxmemory-policy", "allkeys-lru")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_worker_refuses_a_redis_with_allkeys_lru_naming_the_setting(
        lru_redis: str, plugin_path: Path, tmp_path: Path) -> None:
    cluster = new_cluster(lru_redis, plugin_path, tmp_path)
    done = cluster.cli("worker", "-c", "1", timeout=60)
    assert done.returncode != 0
    assert "maxmemory-policy is 'allkeys-lru'" in done.stderr
    assert "noeviction" in done.stderr and "--allow-eviction" in done.stderr
    assert not redis.Redis.from_url(lru_redis).keys(f"{cluster.prefix}:worker:*")


def test_worker_starts_against_allkeys_lru_with_allow_eviction(
        lru_redis: str, plugin_path: Path, tmp_path: Path) -> None:
    cluster = new_cluster(lru_redis, plugin_path, tmp_path)
    cluster.extra_env["COPYDESK_WORKER__ALLOW_EVICTION"] = "true"
    try:
        cluster.start_worker("brave", concurrency=1)  # raises if it exits or never beats
    finally:
        cluster.stop()


def test_worker_starts_against_a_redis_with_noeviction(redis_url: str, plugin_path: Path,
                                                       tmp_path: Path) -> None:
    policy = redis.Redis.from_url(redis_url, decode_responses=True).config_get("maxmemory-policy")
    assert policy == {"maxmemory-policy": "noeviction"}
    cluster: Cluster = new_cluster(redis_url, plugin_path, tmp_path)
    try:
        cluster.start_worker("careful", concurrency=1)
        client = cluster.client()
        client.submit({"id": "eviction-ok", "text": "A worker on a safe Redis runs this."})
        status = client.wait("eviction-ok", timeout=60)
        assert status is not None and status.status == "done"
    finally:
        cluster.stop()


def test_gateway_refuses_a_redis_with_allkeys_lru_naming_the_setting(
        lru_redis: str, plugin_path: Path, tmp_path: Path) -> None:
    cluster = new_cluster(lru_redis, plugin_path, tmp_path)
    done = cluster.cli("serve", "--port", str(free_port()), timeout=60)
    assert done.returncode != 0
    assert "maxmemory-policy is 'allkeys-lru'" in done.stderr
