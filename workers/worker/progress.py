"""Stage progress: the stage a pool process's articles are in, published once it runs long.

``copydesk status`` shows the stage a running article is in. Publishing every stage of
every run as it starts cost a Redis round trip each (about one an article with the default
pipeline and batches of 8), for stages that mostly end within milliseconds, before anyone
could look. Instead the pool process notes the stage it starts (``started``) and when it
ends (``finished``); a thread of its own publishes a stage still running after ``delay``
seconds. What ``status`` shows is then the stage a run is slow in, at most ``delay`` late,
and a stage that ended is never published after it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence

from copydesk.logs import get_logger

log = get_logger("copydesk.worker")

#: Publishes ``(article ids, stage)``: ``Store.set_stage``.
Publish = Callable[[Sequence[str], str], None]


class StageProgress:
    """The stage one pool process is running, and the thread that publishes a slow one."""

    DELAY = 0.5

    def __init__(self, publish: Publish, delay: float = DELAY) -> None:
        self.publish = publish
        self.delay = delay
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        #: the stage running: (article ids, stage, monotonic start); None between stages
        self._current: tuple[tuple[str, ...], str, float] | None = None
        self._thread_pid: int | None = None

    def started(self, article_ids: Sequence[str], stage: str) -> None:
        """``stage`` starts for ``article_ids``."""
        self._ensure_thread()
        with self._lock:
            self._current = (tuple(article_ids), stage, time.monotonic())
            self._wake.notify()

    def finished(self) -> None:
        """The stage running ended: it is not published from now on."""
        with self._lock:
            self._current = None

    def _ensure_thread(self) -> None:
        # threads do not survive a fork: each pool process starts its own, with a lock of
        # its own (the parent's thread may have held the inherited one)
        if self._thread_pid == os.getpid():
            return
        self._thread_pid = os.getpid()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._current = None
        threading.Thread(target=self._run, name="copydesk-progress", daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._lock:
                while self._current is None:
                    self._wake.wait()
                ids, stage, since = self._current
                due = since + self.delay - time.monotonic()
                if due > 0:
                    self._wake.wait(due)
                    continue
                # published under the lock, so ``finished`` (and the write of the result
                # after it) waits for a publication under way instead of being overtaken
                self._current = None
                try:
                    self.publish(ids, stage)
                except Exception as exc:  # progress is informative only
                    log.debug("could not publish the stage", error=str(exc))
