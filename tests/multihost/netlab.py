"""A virtual network of hosts for the multi-host tests: Linux network namespaces on a bridge.

Each ``Host`` is a network namespace with one veth link to a private bridge and an address
from the 198.18.0.0/15 benchmarking range. Nothing has a default route, so no packet can
leave the bridge; the bridge itself holds 198.18.N.1, the "observer" the test process uses
to read Redis. Each lab takes a /24 (N) that no interface of the machine holds, so labs of
test processes running side by side (pytest-xdist, two checkouts) never share a subnet.
Faults are made on the links:

* ``host.partition()`` / ``host.heal()``: the host's veth goes down / up;
* latency: ``tc netem`` on every host's link when the kernel has it, otherwise each host
  reaches Redis through a ``delay_proxy`` of its own that holds every chunk for the
  configured delay (in both directions, order kept) — the same round trip a netem delay on
  each end of the link gives.

``Lab`` removes every namespace, link and process it made when closed, also after a failure.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: The labs' /24s are 198.18.N.0/24 for N in this range (198.18.0.0/15 is for benchmarks).
SUBNETS = range(1, 255)
HERE = Path(__file__).parent


def can_build() -> str | None:
    """Why a lab cannot be built here, or None when it can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is missing"
    probe = f"cdprobe{uuid.uuid4().hex[:6]}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"`ip netns add` is not allowed here: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def _ip(*args: str, ns: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    cmd = ["ip", *args] if ns is None else ["ip", "netns", "exec", ns, "ip", *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=check)


def netem_available() -> bool:
    """True when ``tc qdisc ... netem`` works in this kernel (it is a module some lack)."""
    if shutil.which("tc") is None:
        return False
    ns = f"cdnetem{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "netns", "add", ns], capture_output=True)
    try:
        _ip("link", "set", "lo", "up", ns=ns)
        done = subprocess.run(["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", "lo",
                               "root", "netem", "delay", "1ms"], capture_output=True)
        return done.returncode == 0
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


@dataclass
class Host:
    """One namespace on the lab's bridge."""

    lab: Lab
    name: str
    ns: str
    address: str
    veth: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def popen(self, argv: Sequence[str], env: dict[str, str], log: str) -> subprocess.Popen[bytes]:
        """Start ``argv`` inside this host; its output goes to ``<logdir>/<log>.log``."""
        out = open(self.lab.logdir / f"{log}.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen(["ip", "netns", "exec", self.ns, *argv], env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        out.close()
        self.processes.append(proc)
        self.lab.processes.append(proc)
        return proc

    def run(self, argv: Sequence[str], env: dict[str, str], timeout: float = 120,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` inside this host to completion."""
        return subprocess.run(["ip", "netns", "exec", self.ns, *argv], env=env, input=input,
                              capture_output=True, text=True, timeout=timeout)

    def partition(self) -> None:
        """Cut this host's only link."""
        _ip("link", "set", self.veth, "down")

    def heal(self) -> None:
        _ip("link", "set", self.veth, "up")

    def set_netem(self, delay_ms: float, jitter_ms: float) -> None:
        subprocess.run(["ip", "netns", "exec", self.ns, "tc", "qdisc", "replace", "dev", "eth0",
                        "root", "netem", "delay", f"{delay_ms}ms", f"{jitter_ms}ms"],
                       check=True, capture_output=True)


class Lab:
    """A bridge and the hosts on it; a context manager that tears everything down."""

    def __init__(self, logdir: Path) -> None:
        self.tag = uuid.uuid4().hex[:6]
        self.bridge = f"cdbr{self.tag}"
        self.logdir = logdir
        self.hosts: dict[str, Host] = {}
        self.processes: list[subprocess.Popen[bytes]] = []
        self._made_bridge = False
        self.net = 0  # the third octet of the lab's /24, chosen when it is built

    @property
    def observer(self) -> str:
        """The bridge's own address: where the test process reaches the hosts from."""
        return f"198.18.{self.net}.1"

    def __enter__(self) -> Lab:
        _ip("link", "add", self.bridge, "type", "bridge")
        self._made_bridge = True
        for _ in range(20):
            self.net = random.choice([n for n in SUBNETS if n not in _subnets_in_use()])
            _ip("addr", "add", f"{self.observer}/24", "dev", self.bridge)
            # another lab may have taken the same /24 at the same moment: then take another
            if sum(1 for n in _subnets_in_use(all_addresses=True) if n == self.net) == 1:
                break
            _ip("addr", "del", f"{self.observer}/24", "dev", self.bridge)
        else:
            raise RuntimeError("no free 198.18.N.0/24 for the lab's bridge")
        _ip("link", "set", self.bridge, "up")
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add_host(self, name: str, last_octet: int) -> Host:
        index = len(self.hosts)
        ns = f"cd-{self.tag}-{name}"
        veth = f"cd{self.tag}{index:02d}"
        address = f"198.18.{self.net}.{last_octet}"
        _ip("netns", "add", ns)
        host = Host(self, name, ns, address, veth)
        self.hosts[name] = host
        _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
        _ip("link", "set", veth, "master", self.bridge)
        _ip("link", "set", veth, "up")
        _ip("addr", "add", f"{address}/24", "dev", "eth0", ns=ns)
        _ip("link", "set", "eth0", "up", ns=ns)
        _ip("link", "set", "lo", "up", ns=ns)
        return host

    def close(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in self.processes:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for host in self.hosts.values():
            # anything still inside the namespace (a stray child) goes with it
            pids = subprocess.run(["ip", "netns", "pids", host.ns], capture_output=True,
                                  text=True).stdout.split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            _ip("link", "del", host.veth, check=False)
            _ip("netns", "del", host.ns, check=False)
        if self._made_bridge:
            _ip("link", "del", self.bridge, check=False)


def _subnets_in_use(all_addresses: bool = False) -> list[int]:
    """The N of every 198.18.N.x address on the machine's interfaces (namespaces' own are
    not listed: every lab's bridge holds its /24's first address), once per address when
    ``all_addresses``, else once per N."""
    out = _ip("-o", "-4", "addr", "show").stdout
    nets = [int(word.split(".")[2]) for word in out.split()
            if word.startswith("198.18.") and "/" in word]
    return nets if all_addresses else sorted(set(nets))


def python_argv(module_file: Path, *args: str) -> list[str]:
    """Run one of this folder's helper scripts with the test's own interpreter."""
    return [sys.executable, str(module_file), *args]
