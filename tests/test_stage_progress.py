"""Stage progress: a pool process publishes the stage its articles are in only when that
stage is still running after the delay, once, and never after it ended."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from copydesk.workers.worker.progress import StageProgress


class Published:
    def __init__(self) -> None:
        self.calls: list[tuple[tuple[str, ...], str]] = []
        self.event = threading.Event()

    def __call__(self, ids: Sequence[str], stage: str) -> None:
        self.calls.append((tuple(ids), stage))
        self.event.set()


def test_a_stage_still_running_after_the_delay_is_published_once() -> None:
    published = Published()
    progress = StageProgress(published, delay=0.05)
    progress.started(["a", "b"], "entities")
    assert published.event.wait(5)
    time.sleep(0.2)
    progress.finished()
    assert published.calls == [(("a", "b"), "entities")]


def test_stages_that_end_before_the_delay_are_never_published() -> None:
    published = Published()
    progress = StageProgress(published, delay=0.3)
    for stage in ("cleaning", "language", "nlp", "numbers"):
        progress.started(["a"], stage)
        progress.finished()
    time.sleep(0.6)
    assert published.calls == []


def test_after_fast_stages_the_slow_one_is_what_is_published() -> None:
    published = Published()
    progress = StageProgress(published, delay=0.1)
    for stage in ("cleaning", "language"):
        progress.started(["a"], stage)
        progress.finished()
    progress.started(["a"], "quotes")
    assert published.event.wait(5)
    progress.finished()
    assert published.calls == [(("a",), "quotes")]


def test_a_failing_publication_is_not_raised_and_the_next_slow_stage_is_published() -> None:
    calls: list[str] = []
    second = threading.Event()

    def flaky(ids: Sequence[str], stage: str) -> None:
        calls.append(stage)
        if stage == "nlp":
            raise ConnectionError("Redis went away")
        second.set()

    progress = StageProgress(flaky, delay=0.05)
    progress.started(["a"], "nlp")
    time.sleep(0.2)
    progress.finished()
    progress.started(["a"], "summary")
    assert second.wait(5)
    assert calls == ["nlp", "summary"]


def test_a_process_forked_while_a_publication_is_under_way_publishes_on_its_own() -> None:
    import os
    import select
    import signal

    entered, release = threading.Event(), threading.Event()
    child_calls: list[str] = []
    child_published = threading.Event()

    def publish(ids: Sequence[str], stage: str) -> None:
        if os.getpid() == parent:  # the parent's publication holds the lock until released
            entered.set()
            release.wait(10)
        else:
            child_calls.append(stage)
            child_published.set()

    parent = os.getpid()
    progress = StageProgress(publish, delay=0.05)
    progress.started(["a"], "nlp")
    assert entered.wait(5)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.close(read)
        progress.started(["a"], "quotes")
        ok = child_published.wait(5) and child_calls == ["quotes"]
        os.write(write, b"1" if ok else b"0")
        os._exit(0)
    os.close(write)
    release.set()
    ready: list[int] = []
    try:
        ready, _, _ = select.select([read], [], [], 15)
        assert ready, "the forked process is stuck on the lock its parent's thread held"
        assert os.read(read, 1) == b"1"
    finally:
        os.close(read)
        if not ready:
            os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        progress.finished()
