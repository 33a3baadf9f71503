"""A worker pauses, never exits, when Redis refuses a write because it is full.

Redis over its ``maxmemory`` (with the ``noeviction`` policy the queue needs) refuses every
write that could grow it. Left alone, that error stops a Celery worker's main process
(kombu declares queues and records unacknowledged messages with such writes) and fails the
article a pool process holds. Instead, every Redis connection of a worker process gets
``PauseWhenFull`` as its redis-py retry policy: a command refused for memory is sent again
after ``queue.poll_interval`` until Redis takes it, so the main process simply stops taking
messages and a pool process finishes the article it holds (and never leaves it for the
orphan sweep). Refused scripts and transactions wrote nothing (scripts carry flags that make
Redis check memory before they run; a refused transaction is aborted whole), so sending
them again is safe.

While paused, the worker says so once in its log and in ``P:paused`` (``copydesk queue``),
and deletes the oldest archived records (``workers.queue.window``), which may be what frees
the room; it logs again when it goes on. Connection errors keep the usual bounded retries.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from copydesk.logs import get_logger
from copydesk.settings import Settings
from copydesk.workers.queue.window import Window, is_out_of_memory
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

log = get_logger("copydesk.worker")

T = TypeVar("T")


def pausing_retry(settings: Settings, node: str, max_pause: float | None,
                  retries: int = 3) -> PauseWhenFull:
    """The retry policy for one worker process's Redis connections; its ``Window`` uses a
    connection of its own that does not pause (it is what makes room)."""
    from copydesk.workers.queue.connection import sync_client
    from copydesk.workers.queue.keys import keys_for

    window = Window(sync_client(settings, retries=1), keys_for(settings), settings.queue)
    return PauseWhenFull(node, settings.queue.poll_interval, window, max_pause, retries)


class PauseWhenFull(Retry):
    """redis-py's ``Retry`` that also waits out "OOM command not allowed" refusals.

    ``window`` (optional) is told when the process pauses and goes on, and asked to make
    room; ``max_pause`` (seconds, None: for ever) bounds one command's wait, after which
    the refusal is raised as it would have been."""

    def __init__(self, node: str, poll_interval: float, window: Window | None = None,
                 max_pause: float | None = None, retries: int = 3) -> None:
        super().__init__(ExponentialBackoff(cap=8.0, base=0.25), retries)
        self.node = node
        self.poll_interval = poll_interval
        self.window = window
        self.max_pause = max_pause
        self._lock = threading.Lock()
        self._paused_since: float | None = None
        self._waiting = 0

    def __deepcopy__(self, memo: dict[int, Any]) -> PauseWhenFull:
        # redis-py copies the policy into every connection: the pause is the process's
        return self

    @property
    def paused(self) -> bool:
        return self._paused_since is not None

    def call_with_retry(self, do: Callable[[], T], fail: Callable[..., Any], *args: Any,
                        **kwargs: Any) -> T:
        started: float | None = None
        while True:
            try:
                result = super().call_with_retry(do, fail, *args, **kwargs)
            except Exception as exc:
                if not is_out_of_memory(exc):
                    raise
                now = time.monotonic()
                if started is None:
                    started = now
                    self._enter(str(exc))
                if self.max_pause is not None and now - started >= self.max_pause:
                    self._leave(gave_up=True)
                    raise
                self._make_room()
                time.sleep(self.poll_interval)
                continue
            if started is not None:
                self._leave(gave_up=False)
            return result

    def _enter(self, reason: str) -> None:
        with self._lock:
            self._waiting += 1
            if self._paused_since is not None:
                return
            self._paused_since = time.monotonic()
        log.warning("paused: Redis is full and refuses writes; waiting for room",
                    worker=self.node, reason=reason)
        if self.window is not None:
            self.window.pause(self.node, reason)

    def _leave(self, gave_up: bool) -> None:
        with self._lock:
            self._waiting -= 1
            if self._waiting > 0 or self._paused_since is None:
                return
            paused_for = time.monotonic() - self._paused_since
            self._paused_since = None
        if gave_up:
            log.error("Redis stayed full: a write is given up", worker=self.node,
                      paused_seconds=round(paused_for, 1))
        else:
            log.warning("resumed: Redis took the write", worker=self.node,
                        paused_seconds=round(paused_for, 1))
        if self.window is not None:
            self.window.resume(self.node)

    def _make_room(self) -> None:
        if self.window is None:
            return
        try:
            dropped = self.window.make_room()
        except Exception as exc:  # another refusal, a lost connection: keep waiting
            log.debug("could not make room", error=str(exc))
            return
        if dropped:
            log.info("dropped archived records to make room", worker=self.node,
                     records=dropped)
