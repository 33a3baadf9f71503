"""``worker.cpu_affinity``: each pool process pinned to a CPU of its own; off by default."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.conftest import Cluster

pytestmark = pytest.mark.integration

MakeCluster = Callable[..., Cluster]


def pool_processes(main: int) -> list[int]:
    """The worker's pool processes: its main process's children (Linux /proc)."""
    children: list[int] = []
    for task in Path(f"/proc/{main}/task").iterdir():
        children += [int(c) for c in (task / "children").read_text().split()]
    return children


def settled_affinities(main: int, count: int, pinned: bool) -> list[set[int]]:
    """The CPU sets of the ``count`` pool processes, once each set up (pinned or not)."""
    deadline = time.monotonic() + 60
    while True:
        sets = [os.sched_getaffinity(pid) for pid in pool_processes(main)]
        done = len(sets) == count and (not pinned or all(len(s) == 1 for s in sets))
        if done or time.monotonic() > deadline:
            return sets
        time.sleep(0.2)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")
def test_with_cpu_affinity_each_pool_process_runs_on_a_cpu_of_its_own(
        make_cluster: MakeCluster) -> None:
    cluster = make_cluster(COPYDESK_WORKER__CPU_AFFINITY="true")
    worker = cluster.start_worker("pinned", 2)
    sets = settled_affinities(worker.pid, 2, pinned=True)
    assert all(len(s) == 1 for s in sets) and sets[0] != sets[1]
    assert os.sched_getaffinity(worker.pid) == os.sched_getaffinity(0)  # the main process
    client = cluster.client()
    done = client.wait(client.submit({"id": "pinned-1", "text": "Rain fell in Leeds."}).id
                       or "", timeout=60)
    assert done is not None and done.status == "done"


def test_by_default_pool_processes_may_run_on_any_cpu(make_cluster: MakeCluster) -> None:
    worker = make_cluster().start_worker("free", 2)
    assert settled_affinities(worker.pid, 2, pinned=False) == [os.sched_getaffinity(0)] * 2
