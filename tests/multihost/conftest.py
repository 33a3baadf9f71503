"""Fixtures of the multi-host tests: a lab of namespaces running Redis, workers, a gateway and
a client, each a real process on its own "host" (see ``netlab``).

Skipped, with the reason, where namespaces cannot be made (not root, no iproute2).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.sentinel import Sentinel

from tests.integration.conftest import FAST_WORKER_ENV, plugin_path  # noqa: F401
from tests.integration.test_scaling import corpus_articles
from tests.multihost.netlab import HERE, Host, Lab, can_build, netem_available, python_argv

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
COPYDESK = str(Path(sys.executable).with_name("copydesk"))
REDIS_PORT = 6379
SENTINEL_PORT = 26379
PREFIX = "mh"
QUEUE = "mhq"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = can_build()
    for item in items:
        if "multihost" in item.keywords and reason:
            item.add_marker(pytest.mark.skip(reason=f"multihost: {reason}"))


@dataclass
class Report:
    """What a scenario did, printed in the test output."""

    scenario: str
    submitted: int = 0
    done: int = 0
    failed: int = 0
    lost: int = 0
    duplicates: int = 0
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        extra = " ".join(f"{k}={v}" for k, v in self.extra.items())
        return (f"[multihost] {self.scenario}: submitted={self.submitted} done={self.done} "
                f"failed={self.failed} lost={self.lost} duplicates={self.duplicates} "
                f"wall={self.seconds:.1f}s {extra}")


@dataclass
class Deployment:
    """Redis (or a Sentinel group), three worker hosts, a gateway host and a client host."""

    lab: Lab
    plugin_path: Path
    redis_hosts: list[Host]
    sentinels: list[Host]
    workers: dict[str, Host]
    gateway: Host
    client: Host
    worker_procs: dict[str, Any] = field(default_factory=dict)
    proxies: dict[str, int] = field(default_factory=dict)
    stage_delay: float = 0.05

    # -- how every process is configured -------------------------------------------------

    def redis_address(self, host: Host) -> tuple[str, int]:
        """Where ``host`` reaches Redis: directly, or through its own delay proxy."""
        if host.name in self.proxies:
            return "127.0.0.1", self.proxies[host.name]
        return self.redis_hosts[0].address, REDIS_PORT

    def env(self, host: Host, **extra: str) -> dict[str, str]:
        import os

        env = {k: v for k, v in os.environ.items() if not k.startswith("COPYDESK_")}
        env.update(FAST_WORKER_ENV)
        address, port = self.redis_address(host)
        env.update({
            "COPYDESK_REDIS_URL": f"redis://{address}:{port}/0",
            "COPYDESK_WORKER__KEY_PREFIX": PREFIX,
            "COPYDESK_WORKER__QUEUE": QUEUE,
            "COPYDESK_LOAD_PLUGINS": "queue,probe",
            "COPYDESK_PIPELINE__STAGES": "probe",
            "COPYDESK_STAGE__PROBE__DELAY": str(self.stage_delay),
            "COPYDESK_GATEWAY__TOKENS": "multihost-token",
            "PYTHONPATH": os.pathsep.join([str(self.plugin_path), env.get("PYTHONPATH", "")]),
        })
        if self.sentinels:
            env["COPYDESK_SENTINEL__HOSTS"] = ",".join(f"{s.address}:{SENTINEL_PORT}"
                                                       for s in self.sentinels)
            env["COPYDESK_SENTINEL__MASTER"] = "copydesk"
        env.update(extra)
        return env

    # -- the observer (the test process, on the bridge's own address) --------------------

    def observer(self) -> redis.Redis:
        if self.sentinels:
            sentinel = Sentinel([(s.address, SENTINEL_PORT) for s in self.sentinels],
                                socket_timeout=2)
            client: redis.Redis = sentinel.master_for("copydesk", decode_responses=True,
                                                      socket_timeout=5)
            return client
        return redis.Redis(self.redis_hosts[0].address, REDIS_PORT, decode_responses=True,
                           socket_timeout=5)

    def count(self, status: str) -> int:
        for _ in range(50):
            try:
                return int(self.observer().zcard(f"{PREFIX}:index:{status}"))
            except (redis.ConnectionError, redis.TimeoutError):
                time.sleep(0.2)
        raise RuntimeError("the observer cannot reach Redis")

    # -- processes ------------------------------------------------------------------------

    def start_workers(self, concurrency: int = 1, **extra: str) -> None:
        for name, host in self.workers.items():
            node = f"{name}@{host.name}"
            self.worker_procs[name] = host.popen(
                [COPYDESK, "worker", "-n", node, "-c", str(concurrency), "--loglevel", "INFO",
                 "--worker-log-format", "json"], self.env(host, **extra), log=name)
        deadline = time.monotonic() + 90
        for name, host in self.workers.items():
            node = f"{name}@{host.name}"
            while True:
                proc = self.worker_procs[name]
                if proc.poll() is not None:
                    raise RuntimeError(f"worker {name} exited: {self.log(name)[-2000:]}")
                try:
                    if self.observer().exists(f"{PREFIX}:worker:{node}"):
                        break
                except (redis.ConnectionError, redis.TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"worker {name} did not start: {self.log(name)[-2000:]}")
                time.sleep(0.2)

    def start_proxies(self, delay_ms: float, jitter_ms: float) -> None:
        """A delay proxy on every host that talks to Redis (netem's stand-in)."""
        target = f"{self.redis_hosts[0].address}:{REDIS_PORT}"
        for seed, host in enumerate([*self.workers.values(), self.gateway, self.client]):
            port = 16379
            host.popen(python_argv(HERE / "delay_proxy.py", f"127.0.0.1:{port}", target,
                                   str(delay_ms), str(jitter_ms), str(seed)),
                       env=self.env(host), log=f"proxy-{host.name}")
            self.proxies[host.name] = port
        time.sleep(1.0)

    def start_gateway(self) -> None:
        self.gateway.popen([COPYDESK, "serve", "--host", self.gateway.address, "--port", "8000"],
                           self.env(self.gateway), log="gateway")
        probe = ("import sys, time, urllib.request\n"
                 "for _ in range(150):\n"
                 "    try:\n"
                 f"        urllib.request.urlopen('http://{self.gateway.address}:8000/healthz',"
                 " timeout=2); sys.exit(0)\n"
                 "    except OSError: time.sleep(0.2)\n"
                 "sys.exit(1)\n")
        done = self.client.run([sys.executable, "-c", probe], env=self.env(self.client))
        if done.returncode != 0:
            raise RuntimeError(f"gateway did not start: {self.log('gateway')[-2000:]}")

    def submit_cli(self, articles: list[dict[str, str]], path: Path,
                   **extra: str) -> subprocess_result:
        """``copydesk submit`` from the client host."""
        path.write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")
        return self.client.run([COPYDESK, "submit", str(path)], env=self.env(self.client, **extra),
                               timeout=300)

    def submit_http(self, articles: list[dict[str, str]], path: Path) -> subprocess_result:
        """POST the articles to the gateway host from the client host, 50 per request."""
        path.write_text(json.dumps(articles), encoding="utf-8")
        script = (
            "import json, sys, urllib.request\n"
            f"items = json.load(open({str(path)!r}))\n"
            "for i in range(0, len(items), 50):\n"
            "    for attempt in range(60):\n"
            f"        req = urllib.request.Request('http://{self.gateway.address}:8000/v1/articles',"
            " data=json.dumps(items[i:i + 50]).encode(), method='POST', headers={"
            "'Content-Type': 'application/json', 'Authorization': 'Bearer multihost-token'})\n"
            "        try:\n"
            "            urllib.request.urlopen(req, timeout=30); break\n"
            "        except Exception as exc:\n"
            "            print('retry', exc, flush=True); import time; time.sleep(0.5)\n"
            "    else:\n"
            "        sys.exit(1)\n"
        )
        return self.client.run([sys.executable, "-c", script], env=self.env(self.client),
                               timeout=300)

    def log(self, name: str) -> str:
        path = self.lab.logdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- outcomes ---------------------------------------------------------------------------

    def wait_finished(self, n: int, timeout: float) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.count("done") + self.count("failed") >= n:
                break
            time.sleep(0.25)
        return time.monotonic() - start

    def report(self, scenario: str, ids: list[str], seconds: float) -> Report:
        r = self.observer()
        pipe = r.pipeline(transaction=False)
        for article_id in ids:
            pipe.hmget(f"{PREFIX}:article:{article_id}", ["status", "completions", "worker"])
        rows = pipe.execute()
        statuses = Counter(row[0] for row in rows)
        events = r.xrange(f"{PREFIX}:events")
        done_events = Counter(f["id"] for _, f in events if f.get("status") == "done")
        by_worker = Counter((row[2] or "?").split("@")[0] for row in rows if row[0] == "done")
        return Report(
            scenario=scenario, submitted=len(ids), done=statuses.get("done", 0),
            failed=statuses.get("failed", 0),
            lost=sum(1 for row in rows if row[0] not in ("done", "failed")),
            duplicates=sum(1 for row in rows if row[1] and int(row[1]) > 1)
            + sum(1 for c in done_events.values() if c > 1),
            seconds=seconds, extra={"by_worker": dict(sorted(by_worker.items()))})


subprocess_result = Any


def start_redis(host: Host, name: str, *extra: str) -> Any:
    workdir = host.lab.logdir / f"{name}-data"
    workdir.mkdir(exist_ok=True)
    proc = host.popen([REDIS_SERVER, "--port", str(REDIS_PORT), "--bind", host.address,
                       "--protected-mode", "no", "--save", "", "--appendonly", "no",
                       "--dir", str(workdir), *extra], env={}, log=name)
    _wait_for_ping(host, REDIS_PORT, "redis")
    return proc


def _wait_for_ping(host: Host, port: int, what: str) -> None:
    for _ in range(100):
        try:
            redis.Redis(host.address, port, socket_timeout=1).ping()
            return
        except (redis.ConnectionError, redis.TimeoutError):
            time.sleep(0.05)
    raise RuntimeError(f"{what} on {host.name} did not start")


def start_sentinel(host: Host, master: Host, name: str) -> Any:
    conf = host.lab.logdir / f"{name}.conf"
    conf.write_text(
        f"port {SENTINEL_PORT}\nbind {host.address}\nprotected-mode no\n"
        f"dir {host.lab.logdir}\n"
        f"sentinel monitor copydesk {master.address} {REDIS_PORT} 2\n"
        "sentinel down-after-milliseconds copydesk 1500\n"
        "sentinel failover-timeout copydesk 5000\n"
        "sentinel parallel-syncs copydesk 1\n", encoding="utf-8")
    proc = host.popen([REDIS_SERVER, str(conf), "--sentinel"], env={}, log=name)
    _wait_for_ping(host, SENTINEL_PORT, "sentinel")
    return proc


@pytest.fixture
def deployment(tmp_path: Path,
               plugin_path: Path) -> Iterator[Callable[..., Deployment]]:  # noqa: F811
    """Factory: build the hosts (plain Redis, or master + replica + three sentinels)."""
    labs: list[Lab] = []

    def build(sentinel: bool = False, stage_delay: float = 0.05) -> Deployment:
        lab = Lab(tmp_path).__enter__()
        labs.append(lab)
        redis_hosts = [lab.add_host("redis", 10)]
        sentinels: list[Host] = []
        if sentinel:
            redis_hosts.append(lab.add_host("replica", 11))
            sentinels = [lab.add_host(f"sentinel{i}", 30 + i) for i in (1, 2, 3)]
        workers = {f"w{i}": lab.add_host(f"worker{i}", 20 + i) for i in (1, 2, 3)}
        dep = Deployment(lab=lab, plugin_path=plugin_path, redis_hosts=redis_hosts,
                         sentinels=sentinels, workers=workers,
                         gateway=lab.add_host("gateway", 40), client=lab.add_host("client", 50),
                         stage_delay=stage_delay)
        start_redis(redis_hosts[0], "redis")
        if sentinel:
            start_redis(redis_hosts[1], "replica", "--replicaof", redis_hosts[0].address,
                        str(REDIS_PORT))
            for i, host in enumerate(sentinels, 1):
                start_sentinel(host, redis_hosts[0], f"sentinel{i}")
        return dep

    yield build
    for lab in labs:
        lab.close()


@pytest.fixture
def articles() -> Callable[[int], list[dict[str, str]]]:
    return corpus_articles


@pytest.fixture(scope="session")
def has_netem() -> bool:
    return can_build() is None and netem_available()
