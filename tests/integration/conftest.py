"""Integration fixtures: a private ``redis-server`` and real ``copydesk worker`` processes.

The session starts its own Redis on a free port (no persistence) and tears it down. Workers
are subprocesses running the real CLI with a tiny pipeline from ``probe_plugin`` (installed
for them as a distribution with a ``copydesk`` entry point), and short lease timeouts so
recovery from a killed worker takes seconds, not minutes.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
COPYDESK = str(Path(sys.executable).with_name("copydesk"))
HERE = Path(__file__).parent

#: Short timeouts so a killed worker's articles come back in seconds.
FAST_WORKER_ENV = {
    "COPYDESK_WORKER__SOFT_TIME_LIMIT": "4",
    "COPYDESK_WORKER__TIME_LIMIT": "6",
    "COPYDESK_WORKER__VISIBILITY_TIMEOUT": "8",
    "COPYDESK_WORKER__HEARTBEAT_INTERVAL": "1",
    "COPYDESK_WORKER__RESTORE_INTERVAL": "1",
    "COPYDESK_WORKER__MAX_RETRIES": "1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis_server(workdir: Path, *extra: str,
                       port: int | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """A redis-server on loopback (no persistence) with ``extra`` options, once it answers;
    returns the process and its URL."""
    if not Path(REDIS_SERVER).exists():
        pytest.skip("redis-server is not installed")
    port = port or free_port()
    proc = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(workdir), *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            return proc, url
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not start")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server for the session."""
    proc, url = start_redis_server(tmp_path_factory.mktemp("redis"))
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory that makes ``probe_plugin`` an installed copydesk plugin when on the path."""
    root = tmp_path_factory.mktemp("site")
    shutil.copy(HERE / "probe_plugin.py", root / "copydesk_probe.py")
    dist = root / "copydesk_probe-0.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: copydesk-probe\n"
                                   "Version: 0.1.0\n")
    (dist / "entry_points.txt").write_text("[copydesk]\nprobe = copydesk_probe\n")
    return root


@dataclass
class Cluster:
    """Settings shared by a set of workers and the clients talking to them."""

    redis_url: str
    plugin_path: Path
    logdir: Path
    prefix: str
    queue: str
    extra_env: dict[str, str] = field(default_factory=dict)
    #: ``worker.batch_size`` of its workers (a test's own setting still wins)
    batch_size: int = 1
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def env(self, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COPYDESK_")}
        env.update(FAST_WORKER_ENV)
        env["COPYDESK_WORKER__BATCH_SIZE"] = str(self.batch_size)
        env.update({
            "COPYDESK_REDIS_URL": self.redis_url,
            "COPYDESK_WORKER__KEY_PREFIX": self.prefix,
            "COPYDESK_WORKER__QUEUE": self.queue,
            "COPYDESK_LOAD_PLUGINS": "queue,probe",
            "COPYDESK_PIPELINE__STAGES": "probe,fragile",
            "PYTHONPATH": os.pathsep.join([str(self.plugin_path), env.get("PYTHONPATH", "")]),
        })
        env.update(self.extra_env)
        env.update(overrides)
        return env

    def settings(self):  # type: ignore[no-untyped-def]
        from copydesk.settings import Settings, WorkerSettings

        values = {k.removeprefix("COPYDESK_WORKER__").lower(): v
                  for k, v in self.env().items() if k.startswith("COPYDESK_WORKER__")}
        return Settings(redis_url=self.redis_url, worker=WorkerSettings(**values))

    def client(self):  # type: ignore[no-untyped-def]
        from copydesk.workers.queue.client import Client

        return Client(self.settings())

    def cli(self, *args: str, input: str | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([COPYDESK, *args], env=self.env(), input=input,
                              capture_output=True, text=True, timeout=timeout)

    def start_worker(self, name: str, concurrency: int = 2, *args: str,
                     **env: str) -> subprocess.Popen[bytes]:
        """Start a worker and wait until it beats; ``args`` are more ``copydesk worker``
        arguments, ``env`` overrides this worker's environment only."""
        node = f"{name}@{self.prefix}"
        log = open(self.logdir / f"{name}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [COPYDESK, "worker", "-n", node, "-c", str(concurrency), "--loglevel", "INFO",
             "--worker-log-format", "json", *args],
            env=self.env(**env), stdout=log, stderr=subprocess.STDOUT,
        )
        self.workers[node] = proc
        self.wait_for_worker(node, proc)
        return proc

    def wait_for_worker(self, node: str, proc: subprocess.Popen[bytes],
                        timeout: float = 60) -> None:
        r = redis.Redis.from_url(self.redis_url, decode_responses=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"worker {node} exited: {self.log(node)[-2000:]}")
            if r.exists(f"{self.prefix}:worker:{node}"):
                return
            time.sleep(0.1)
        raise RuntimeError(f"worker {node} did not become ready: {self.log(node)[-2000:]}")

    def log(self, node: str) -> str:
        name = node.split("@")[0]
        path = self.logdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        for proc in self.workers.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def new_cluster(redis_url: str, plugin_path: Path, logdir: Path, batch_size: int = 1,
                **extra_env: str) -> Cluster:
    tag = uuid.uuid4().hex[:8]
    return Cluster(redis_url=redis_url, plugin_path=plugin_path, logdir=logdir,
                   prefix=f"t{tag}", queue=f"q{tag}", extra_env=extra_env,
                   batch_size=batch_size)


#: The batch sizes the lifecycle's tests run at: a single task is a batch of one, and a
#: batching worker runs the same lifecycle (``pytest.mark.parametrize("batch_size",
#: BATCH_SIZES, indirect=True)`` on a test or module).
BATCH_SIZES = [1, 4]


@pytest.fixture(scope="module")
def batch_size(request: pytest.FixtureRequest) -> int:
    """``worker.batch_size`` of the clusters a test makes: 1 unless parametrized."""
    return int(getattr(request, "param", 1))


@pytest.fixture(scope="module")
def cluster(redis_url: str, plugin_path: Path, batch_size: int,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """One worker (two pool processes) on a queue of its own, for the module's tests."""
    c = new_cluster(redis_url, plugin_path, tmp_path_factory.mktemp("logs"), batch_size)
    c.start_worker("w1")
    yield c
    c.stop()


@pytest.fixture
def make_cluster(redis_url: str, plugin_path: Path, batch_size: int,
                 tmp_path: Path) -> Iterator[object]:
    """Factory for a cluster of its own (own queue and keys), stopped after the test."""
    made: list[Cluster] = []

    def make(**extra_env: str) -> Cluster:
        c = new_cluster(redis_url, plugin_path, tmp_path, batch_size, **extra_env)
        made.append(c)
        return c

    yield make
    for c in made:
        c.stop()
