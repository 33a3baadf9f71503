"""A sink's consumer: the loop behind ``copydesk sink NAME``.

It takes batches from the sink's group of the outbox (``outbox.Outbox.take``: its own
unacknowledged entries first, then ones other consumers left idle, then new ones), reads
their Documents from the result store in one round trip, writes them with one
``Sink.write`` and acknowledges the entries only after that returned, i.e. after the sink
committed. ``SinkUnavailable`` or a Redis that cannot be reached leaves the batch
pending and retries it after a pause that doubles up to ``MAX_PAUSE``; a Document the sink
refuses, or one the store no longer has, is dead-lettered with the reason and the rest go
on. The ids of each committed batch are handed to ``committed`` (``copydesk sink`` marks
them archived in the window: ``workers.queue.window``), after the commit and before the ack.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis
from copydesk.document import Document
from copydesk.logs import get_logger
from copydesk.sinks import Sink, SinkConfig, SinkUnavailable
from copydesk.workers.queue.outbox import Entry, Outbox, backlogs
from pydantic import ValidationError

log = get_logger("copydesk.sink")

#: Longest pause between retries of a batch the sink (or Redis) could not take.
MAX_PAUSE = 15.0
#: Trim the outbox after this many batches.
TRIM_EVERY = 20


@dataclass
class DrainStats:
    """What one consumer did."""

    written: int = 0
    batches: int = 0
    dead: int = 0
    retries: int = 0
    superseded: int = 0
    sink_seconds: float = 0.0
    dead_ids: list[str] = field(default_factory=list)


class Drain:
    """Moves one sink's outbox entries into the sink until ``stop()`` (or, with
    ``until_empty``, until its backlog is written). After ``SinkUnavailable`` the sink is
    opened again (reconnected, its directory made) before the batch is retried."""

    def __init__(self, sink: Sink[SinkConfig], store: Any, outbox: Outbox, batch_size: int,
                 sleep: Callable[[float], None] = time.sleep,
                 committed: Callable[[list[str]], None] | None = None) -> None:
        self.sink = sink
        self.store = store
        self.outbox = outbox
        self.batch_size = batch_size
        self.stats = DrainStats()
        self._stopping = False
        self._sleep = sleep
        self._reopen = False
        #: told the ids of each batch the sink committed (the window marks them archived)
        self._committed = committed

    def stop(self) -> None:
        self._stopping = True

    def run(self, until_empty: bool = False, block_ms: int = 1000) -> DrainStats:
        pause = 0.5
        while not self._stopping:
            try:
                entries = self.outbox.take(self.batch_size, block_ms)
                if not entries:
                    if until_empty and self._caught_up():
                        break
                    continue
                if self._reopen:
                    self.sink.close()
                    self.sink.open()
                    self._reopen = False
                self._deliver(entries)
                pause = 0.5
                if self.stats.batches % TRIM_EVERY == 0:
                    self.outbox.trim()
            except SinkUnavailable as exc:
                self._reopen = True
                self.stats.retries += 1
                log.warning("sink cannot take the batch; it stays pending and is retried",
                            sink=self.sink.name, error=str(exc), retry_in=pause)
                self._pause(pause)
                pause = min(pause * 2, MAX_PAUSE)
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                self.stats.retries += 1
                log.warning("Redis cannot be reached; retrying", sink=self.sink.name,
                            error=str(exc), retry_in=pause)
                self._pause(pause)
                pause = min(pause * 2, MAX_PAUSE)
        self._trim_quietly()
        return self.stats

    def _pause(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self._stopping and time.monotonic() < end:
            self._sleep(min(0.2, seconds))

    def _caught_up(self) -> bool:
        mine = [b for b in backlogs(self.outbox.r, self.outbox.keys) if b.sink == self.sink.name]
        return not mine or mine[0].total == 0

    def _trim_quietly(self) -> None:
        try:
            self.outbox.trim()
        except redis.RedisError as exc:
            log.warning("could not trim the outbox", error=str(exc))

    def _deliver(self, entries: Sequence[Entry]) -> None:
        ids = list(dict.fromkeys(e.article_id for e in entries if e.article_id))
        documents: list[Document] = []
        dead: list[tuple[str, str]] = []
        for article_id, status, _revision, _task, document_json in \
                self.store.stored_documents(ids):
            if document_json is None:
                if status in ("queued", "running"):
                    # submitted again since: its next finish appends it to the outbox anew
                    self.stats.superseded += 1
                    continue
                dead.append((article_id, "no Document in the result store (expired, or "
                                         "removed, before it was archived)"))
                continue
            try:
                documents.append(Document.model_validate_json(document_json))
            except ValidationError as exc:
                dead.append((article_id, f"the stored Document is not valid: {exc}"))
        started = time.perf_counter()
        refused = self.sink.write(documents) if documents else []
        self.stats.sink_seconds += time.perf_counter() - started
        dead.extend((r.document_id, r.reason) for r in refused)
        if self._committed is not None:
            refused_ids = {r.document_id for r in refused}
            try:
                self._committed([d.id for d in documents if d.id not in refused_ids])
            except redis.ResponseError as exc:  # e.g. a full Redis: the records keep their TTL
                log.warning("could not mark the batch archived", sink=self.sink.name,
                            error=str(exc))
        for article_id, reason in dead:
            self.outbox.dead_letter(article_id, reason)
            log.error("document dead-lettered by the sink", sink=self.sink.name,
                      document_id=article_id, reason=reason)
        self.outbox.ack(entries)
        self.stats.batches += 1
        self.stats.written += len(documents) - len(refused)
        self.stats.dead += len(dead)
        self.stats.dead_ids.extend(a for a, _ in dead)
        log.info("batch archived", sink=self.sink.name, written=len(documents) - len(refused),
                 dead=len(dead), entries=len(entries))
