"""A real ``copydesk serve`` process in front of the integration cluster (Redis + worker)."""

from __future__ import annotations

import resource
import subprocess
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx

from tests.integration.conftest import COPYDESK, Cluster, free_port

TOKENS = ("alpha-token", "beta-token")


@dataclass
class Gateway:
    """A running gateway: its base URL, the token to send, and its process."""

    url: str
    token: str | None
    proc: subprocess.Popen[bytes]
    log: Path

    def headers(self, **extra: str) -> dict[str, str]:
        auth = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**auth, **extra}

    def client(self, timeout: float = 90) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers(), timeout=timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def limit_open_files(n: int) -> None:
    """In the child before exec: at most ``n`` open file descriptors."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))


def start_gateway(cluster: Cluster, logdir: Path, tokens: tuple[str, ...] = TOKENS,
                  open_files: int | None = None, **env: str) -> Gateway:
    """Start ``copydesk serve`` on a free port with the cluster's settings; wait for /healthz.

    ``open_files``: the process's limit of open file descriptors (``ulimit -n``)."""
    port = free_port()
    log = logdir / f"gateway-{port}.log"
    overrides = {"COPYDESK_GATEWAY__TOKENS": ",".join(tokens), **env}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [COPYDESK, "serve", "--port", str(port), "--no-access-log"],
            env=cluster.env(**overrides), stdout=out, stderr=subprocess.STDOUT,
            preexec_fn=None if open_files is None else partial(limit_open_files, open_files))
    gateway = Gateway(f"http://127.0.0.1:{port}", tokens[0] if tokens else None, proc, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"copydesk serve exited: {log.read_text(errors='replace')}")
        try:
            if httpx.get(gateway.url + "/healthz", timeout=2).status_code == 200:
                return gateway
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    gateway.stop()
    raise RuntimeError(f"copydesk serve did not start: {log.read_text(errors='replace')}")
