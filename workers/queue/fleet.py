"""Which plugins the workers of one queue run, and a warning when they differ.

Each worker publishes its queue and its plugins (name -> version, JSON) with its heartbeat
(``workers.worker.lease``). Workers on one queue take the same messages, so one host with a
missing or different plugin writes different Documents for some articles: ``copydesk
queue`` shows the warning these functions make.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from copydesk.workers.queue.records import WorkerInfo


def worker_plugins(worker: WorkerInfo) -> dict[str, str] | None:
    """The plugins a worker published (name -> version), or ``None`` if it published none
    (a worker from before plugins were published) or something unreadable."""
    raw = worker.info.get("plugins")
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return {str(k): str(v) for k, v in data.items()}


def plugin_sets(workers: Sequence[WorkerInfo], queue: str) -> dict[str, list[str]]:
    """The live workers of ``queue`` grouped by the plugin set they run: a readable
    description of each set (``probe 0.1.0, queue 0.1.0``) -> their node names."""
    groups: dict[str, list[str]] = {}
    for worker in workers:
        if not worker.alive or worker.info.get("queue") != queue:
            continue
        plugins = worker_plugins(worker)
        if plugins is None:
            continue
        label = ", ".join(f"{n} {v}" for n, v in sorted(plugins.items())) or "no plugins"
        groups.setdefault(label, []).append(worker.node)
    return groups


def plugin_mismatch(workers: Sequence[WorkerInfo], queue: str) -> list[str]:
    """Lines of a warning when the live workers of ``queue`` run different plugin sets
    (empty when they all run the same set, or fewer than two published one)."""
    groups = plugin_sets(workers, queue)
    if len(groups) < 2:
        return []
    lines = [f"the workers on queue {queue!r} run different plugin sets, so the same "
             "article can come out with different layers:"]
    for label, nodes in sorted(groups.items()):
        lines.append(f"  {', '.join(sorted(nodes))}: {label}")
    return lines
