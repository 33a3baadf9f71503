"""Leases: how a killed worker's articles come back in about a minute, and never run twice.

Celery on Redis keeps a delivered, unacknowledged message in kombu's ``unacked`` hash and
re-queues it once it is older than the visibility timeout, counted from *delivery*. So a
short timeout re-runs slow (or merely queued-behind) articles while they still run, and a
long one leaves a killed worker's articles stuck for an hour (celery/celery#3541, #4984,
#7924). copydesk keeps the timeout short and turns it into a lease: the ``LeaseKeeper``
thread of each worker's main process

* re-stamps kombu's ``unacked_index`` for every message the worker holds (reserved or
  running), so the transport re-queues a message only when its holder stopped renewing,
  i.e. the whole worker died (pool processes die with it: see ``die_with_parent``);
* renews ``lease_until`` on the status record of every article it is running, which is what
  a second delivery checks before it starts (a live lease means: skip, someone has it);
* publishes the worker's heartbeat (``copydesk queue`` lists workers from it);
* re-queues "orphans": records still ``running`` well after their lease lapsed whose
  message is gone, and records ``queued`` for long whose message is neither in the queue
  nor held by any worker (lost by a worker killed between its BRPOP and recording the
  delivery): the safety net under kombu's own restore.

When only a pool process dies (a crash, the OOM killer, the hard time limit), the main
process sees it at once: ``LeaseRequest`` (``workers.worker.acks``) marks the record
``queued`` with the reason and the message goes back to the head of the queue, so the retry
starts immediately and counts an attempt; after ``max_retries`` the next delivery parks the
article in the dead-letter list.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import signal
import socket
import threading
import time
from typing import Any

from celery.worker import state as worker_state
from copydesk.document import InvalidArticle, parse_article
from copydesk.logs import get_logger
from copydesk.settings import Settings
from copydesk.workers.queue.store import Store

log = get_logger("copydesk.lease")

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> bool:
    """Ask Linux to SIGKILL this (pool) process when its parent dies, so a SIGKILLed worker
    leaves no orphan still running an article that another worker is about to take over."""
    if not hasattr(os, "fork") or os.uname().sysname != "Linux":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    # the parent may already be gone between fork and prctl
    if os.getppid() == 1:
        os._exit(1)
    return True


def article_id_of(args: Any) -> str | None:
    """The article id a task's positional args refer to (given, or derived from content)."""
    if not args or not isinstance(args[0], dict):
        return None
    data = args[0]
    given = data.get("id")
    if isinstance(given, str) and given:
        return given
    try:
        return parse_article(data).id
    except InvalidArticle:
        return None


class LeaseKeeper(threading.Thread):
    """The heartbeat thread of a worker's main process (see the module docstring)."""

    def __init__(self, store: Store, node: str, settings: Settings,
                 concurrency: int | None = None,
                 plugins: dict[str, str] | None = None) -> None:
        super().__init__(name="copydesk-lease", daemon=True)
        self.store = store
        self.node = node
        self.settings = settings
        self.concurrency = concurrency
        #: the plugins this worker runs, name -> version, published with every heartbeat
        self.plugins = dict(sorted((plugins or {}).items()))
        self.interval = settings.worker.heartbeat_interval
        self.started_at = time.time()
        self._stop_event = threading.Event()
        self._ids: dict[str, str | None] = {}
        self._beats = 0
        w = settings.worker
        self.orphan_grace = w.visibility_timeout + w.restore_interval + 2 * w.heartbeat_interval

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.beat()
            except Exception as exc:  # Redis away: keep trying, the client retries with backoff
                log.warning("heartbeat failed", worker=self.node,
                            error=f"{type(exc).__name__}: {exc}")
            self._stop_event.wait(self.interval)

    def _requests(self) -> list[Any]:
        for _ in range(5):
            try:
                return list(worker_state.requests.values())
            except RuntimeError:  # changed size during iteration
                continue
        return []

    def _article_id(self, request: Any) -> str | None:
        if request.id not in self._ids:
            self._ids[request.id] = article_id_of(request.args)
        return self._ids[request.id]

    def beat(self) -> None:
        requests = self._requests()
        tags = [str(r.message.delivery_tag) for r in requests
                if getattr(r, "message", None) is not None and r.message.delivery_tag]
        self.store.renew_messages(tags)
        held = []
        for request in requests:
            article_id = self._article_id(request)
            if article_id is not None and request.time_start:
                held.append((article_id, request.id))
        self.store.renew(held)
        live = {r.id for r in requests}
        self._ids = {k: v for k, v in self._ids.items() if k in live}
        self.store.heartbeat(self.node, {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "concurrency": self.concurrency or "",
            "active": len(held),
            "reserved": len(requests),
            "processed": worker_state.all_total_count[0],
            "started_at": self.started_at,
            # the queues it consumes, comma-separated (several with --queues)
            "queue": ",".join(self.settings.worker.queues or [self.settings.worker.queue]),
            "plugins": json.dumps(self.plugins),
        }, ttl=3 * self.interval)
        self._beats += 1
        requeued = self.store.requeue_orphans(self.orphan_grace)
        if self._beats % 5 == 0:
            requeued += self.store.requeue_lost(self.orphan_grace)
        for article_id in requeued:
            log.warning("orphaned article re-queued", document_id=article_id)
