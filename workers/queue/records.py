"""What the store reads back: an article's status, a claim's result, the workers and the
queue (plain data, shared by the sync store and its async twin)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from copydesk.workers.queue.keys import FINISHED, RecordField


@dataclass
class ArticleStatus:
    """What the store knows about one article (``status()``)."""

    id: str
    status: str
    attempts: int = 0
    stage: str | None = None
    worker: str | None = None
    task_id: str | None = None
    error: str | None = None
    #: tracebacks of the stages that raised (or of a pipeline crash), with file and line
    traceback: str | None = None
    submitted_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    updated_at: float | None = None
    lease_until: float | None = None
    completions: int = 0
    has_document: bool = False
    #: with pipeline.routes: the segment it is in or waits for ("2/2 heavy: summary")
    segment: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_record(cls, article_id: str, rec: dict[str, str]) -> ArticleStatus:
        def num(name: RecordField) -> float | None:
            value = rec.get(name.value)
            try:
                return float(value) if value not in (None, "", "0") else None
            except ValueError:
                return None

        return cls(
            id=article_id,
            status=rec.get(RecordField.status.value, "unknown"),
            attempts=int(rec.get(RecordField.attempts.value) or 0),
            stage=rec.get(RecordField.stage.value) or None,
            worker=rec.get(RecordField.worker.value) or None,
            task_id=rec.get(RecordField.task_id.value) or None,
            error=rec.get(RecordField.error.value) or None,
            traceback=rec.get(RecordField.traceback.value) or None,
            submitted_at=num(RecordField.submitted_at),
            started_at=num(RecordField.started_at),
            finished_at=num(RecordField.finished_at),
            updated_at=num(RecordField.updated_at),
            lease_until=num(RecordField.lease_until),
            completions=int(rec.get(RecordField.completions.value) or 0),
            has_document=RecordField.document.value in rec,
            segment=rec.get(RecordField.segment.value) or None,
        )


@dataclass
class ClaimResult:
    """What a worker may do with a delivered message: ``run``, ``skip`` or ``dead``."""

    action: str
    detail: str  # run: the attempt number; skip: the status found; dead: the reason


@dataclass
class WorkerInfo:
    """One worker as its heartbeat shows it (``alive``: it beat within three intervals)."""

    node: str
    last_seen: float
    alive: bool
    info: dict[str, str] = field(default_factory=dict)


@dataclass
class QueueInfo:
    """``copydesk queue``: depth, counts per status, unacked messages, workers, dead letters."""

    queue: str
    depth: int
    unacked: int
    counts: dict[str, int]
    workers: list[WorkerInfo]
    dead_letters: list[dict[str, Any]]
    dead_letter_count: int
    #: malformed messages rejected at intake so far, per reason code (``workers.worker.intake``)
    rejected: dict[str, int] = field(default_factory=dict)
    #: per queue (the default one and every routed one): messages waiting, live workers
    queues: dict[str, dict[str, int]] = field(default_factory=dict)


# -- the store -------------------------------------------------------------------------
