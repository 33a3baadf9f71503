"""Pinning a pool process to one CPU (``worker.cpu_affinity``).

A pool process runs one article after another without pause; the worker's main process and
Redis wake many times an article. Left to the scheduler, the pool process is now and then
moved to another CPU as they wake, and starts there with cold caches. Pinned, pool process
``i`` stays on the ``i``-th CPU of the worker's CPU set (modulo its size).
"""

from __future__ import annotations

import os

from billiard.process import current_process
from copydesk.logs import get_logger

log = get_logger("copydesk.worker")


def pin_pool_process() -> int | None:
    """Pin this pool process to its CPU; the CPU, or None when this platform or process
    cannot be pinned (said in the log)."""
    index = getattr(current_process(), "index", None)
    if not hasattr(os, "sched_setaffinity") or index is None:
        log.warning("worker.cpu_affinity is set, but this pool process cannot be pinned",
                    reason="no sched_setaffinity" if index is not None else "no pool index")
        return None
    cpus = sorted(os.sched_getaffinity(0))
    cpu = cpus[index % len(cpus)]
    os.sched_setaffinity(0, {cpu})
    log.info("pool process pinned", cpu=cpu, pool_index=index, of_cpus=len(cpus))
    return cpu
