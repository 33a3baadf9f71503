"""Per-stage duration histograms that workers record in Redis, for the gateway's ``/metrics``.

Each worker process adds the ``runs`` of every document it finishes to one Redis hash
(``P:metrics:stage_seconds``): a count per (stage, bucket), a sum and a count per stage.
Any number of workers on any hosts add to the same hash, so one scrape of any gateway
sees the whole fleet. Only worker processes record: their context registers the
``StageMetrics`` hook below with the worker's store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from copydesk import hookimpl
from copydesk.document import Document, StageRun
from copydesk.settings import Settings

#: Upper bounds of the histogram buckets, in seconds (Prometheus ``le``), +Inf implied.
STAGE_BUCKETS: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)
_SEP = "|"


def _bucket_label(seconds: float) -> str:
    for bound in STAGE_BUCKETS:
        if seconds <= bound:
            return repr(bound)
    return "+Inf"


def record_runs(client: Any, key: str, runs: Iterable[StageRun]) -> None:
    """Add the duration of each stage that ran (ok or failed; skipped ones did not run),
    summed per field first, so many documents' runs cost a few increments per stage."""
    counts: dict[str, int] = {}
    sums: dict[str, float] = {}
    for run in runs:
        if run.status == "skipped":
            continue
        seconds = max(run.duration_ms, 0.0) / 1000.0
        for field_name in (f"{run.stage}{_SEP}{_bucket_label(seconds)}",
                           f"{run.stage}{_SEP}count"):
            counts[field_name] = counts.get(field_name, 0) + 1
        total = f"{run.stage}{_SEP}sum"
        sums[total] = sums.get(total, 0.0) + seconds
    if not counts:
        return
    pipe = client.pipeline(transaction=False)
    for field_name, count in counts.items():
        pipe.hincrby(key, field_name, count)
    for field_name, seconds_sum in sums.items():
        pipe.hincrbyfloat(key, field_name, seconds_sum)
    pipe.execute()


@dataclass
class StageHistogram:
    """One stage's durations: non-cumulative counts per bucket bound, sum and count."""

    stage: str
    buckets: dict[str, int] = field(default_factory=dict)
    sum: float = 0.0
    count: int = 0

    def cumulative(self) -> list[tuple[str, int]]:
        """``(le, count)`` pairs as Prometheus wants them, ending with ``+Inf``."""
        out = []
        running = 0
        for bound in STAGE_BUCKETS:
            running += self.buckets.get(repr(bound), 0)
            out.append((repr(bound), running))
        out.append(("+Inf", self.count))
        return out


def read_histograms(client: Any, key: str) -> list[StageHistogram]:
    """The recorded histograms, one per stage, sorted by stage name."""
    raw: dict[str, str] = client.hgetall(key)
    stages: dict[str, StageHistogram] = {}
    for name, value in raw.items():
        stage, _, part = str(name).rpartition(_SEP)
        hist = stages.setdefault(stage, StageHistogram(stage))
        if part == "sum":
            hist.sum = float(value)
        elif part == "count":
            hist.count = int(value)
        elif part != "+Inf":
            hist.buckets[part] = int(value)
    return [stages[name] for name in sorted(stages)]


class StageMetrics:
    """The ``document_finished`` hook of a worker: adds each finished document's stage
    durations to the shared histograms, through the store ``store_of()`` gives (the worker
    context's, which a pool process replaces after the fork). Registered on the worker's
    plugin manager by its context, so no other process records.

    The durations wait in the process until ``flush`` (the worker calls it after each task
    or batch), so a batch's go in one round trip; at most ``HELD`` documents wait."""

    HELD = 64

    def __init__(self, store_of: Callable[[], Any]) -> None:
        self.store_of = store_of
        self.waiting: list[StageRun] = []
        self.documents = 0

    @hookimpl
    def document_finished(self, document: Document, settings: Settings) -> None:
        self.waiting.extend(document.runs)
        self.documents += 1
        if self.documents >= self.HELD:
            self.flush()

    def flush(self) -> None:
        """Add what waits to the shared histograms."""
        runs, self.waiting, self.documents = self.waiting, [], 0
        if not runs:
            return
        store = self.store_of()
        try:
            record_runs(store.r, store.keys.stage_metrics, runs)
        except Exception:  # metrics must never fail a document
            return
