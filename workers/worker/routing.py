"""Routing stages to their own worker queues: the pipeline cut into segments.

``[pipeline.routes]`` maps a stage name to a queue (``summary = "heavy"``); every other stage
runs on ``worker.queue``. The resolved stage order is cut wherever the queue changes, so each
*segment* is a run of consecutive stages on one queue. An article runs a segment in one task
on a worker of that queue, which then saves the partial Document and hands the article to the
next segment's queue (``Store.hand_off``); the last segment writes the result as an unrouted
worker does. A worker (``copydesk worker --queues …``) sets up, and so loads the models of,
only the stages of its own queues.

With no routes there is one segment on ``worker.queue`` and the worker runs the whole
pipeline in one task, exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from copydesk.document import Document
from copydesk.pipeline import Pipeline
from copydesk.settings import Settings


class RoutingError(ValueError):
    """``pipeline.routes`` or a worker's ``--queues`` do not fit the pipeline."""


@dataclass(frozen=True)
class Segment:
    """Consecutive stages that run on one queue, in one task."""

    index: int
    total: int
    queue: str
    stages: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.index + 1}/{self.total} {self.queue}: {', '.join(self.stages)}"


def served_queues(settings: Settings) -> list[str]:
    """The queues a worker with these settings consumes."""
    return list(settings.worker.queues) or [settings.worker.queue]


def segments(pipeline: Pipeline, settings: Settings) -> list[Segment]:
    """Cut the pipeline's stage order into segments by queue; ``RoutingError`` when a route
    names a stage the pipeline does not run, or a stage would run before what it needs."""
    routes = settings.pipeline.routes
    unknown = sorted(set(routes) - set(pipeline.names))
    if unknown:
        raise RoutingError(
            f"pipeline.routes names {', '.join(map(repr, unknown))}, which the pipeline does "
            f"not run (its stages: {', '.join(pipeline.names)})")
    default = settings.worker.queue
    groups: list[tuple[str, list[str]]] = []
    for name in pipeline.names:
        queue = routes.get(name, default)
        if groups and groups[-1][0] == queue:
            groups[-1][1].append(name)
        else:
            groups.append((queue, [name]))
    out = [Segment(i, len(groups), queue, tuple(names))
           for i, (queue, names) in enumerate(groups)]
    _check_order(pipeline, out)
    return out


def _check_order(pipeline: Pipeline, segs: Sequence[Segment]) -> None:
    where = {name: seg.index for seg in segs for name in seg.stages}
    providers: dict[str, list[str]] = {}
    for bound in pipeline.stages:
        for cap in bound.stage.provides:
            providers.setdefault(cap, []).append(bound.name)
    for bound in pipeline.stages:
        for cap in bound.stage.requires:
            late = [p for p in providers.get(cap, []) if where[p] > where[bound.name]]
            if late:
                raise RoutingError(
                    f"stage {bound.name!r} requires {cap!r}, but its provider "
                    f"{late[0]!r} is routed to a later segment")


def check_worker_queues(segs: Sequence[Segment], queues: Sequence[str]) -> None:
    """Refuse a worker for a queue that no segment runs on (a typo would idle forever)."""
    used = {s.queue for s in segs}
    idle = [q for q in queues if q not in used]
    if idle:
        raise RoutingError(
            f"no stage runs on queue {', '.join(map(repr, idle))}: the pipeline's segments "
            f"are {'; '.join(s.label for s in segs)} (see pipeline.routes)")


def stages_served(segs: Sequence[Segment], queues: Sequence[str]) -> list[str]:
    """The stages a worker of ``queues`` runs (and sets up)."""
    return [name for s in segs if s.queue in queues for name in s.stages]


@dataclass(frozen=True)
class Step:
    """What a worker of some queues does next with a Document."""

    run: tuple[Segment, ...]  # the segments to run here now (consecutive, on our queues)
    then: Segment | None  # where the article goes afterwards (None: it is finished)


def next_step(pipeline: Pipeline, doc: Document, segs: Sequence[Segment],
              queues: Sequence[str]) -> Step:
    """The segments this worker runs on ``doc`` now and the one it hands it to after: from
    the first segment with a stage not current in ``doc``, the following ones while they
    are on this worker's queues (none when that first one is not: hand it on at once)."""
    pending = set(pipeline.plan(doc).to_run)
    todo = [s for s in segs if pending & set(s.stages)]
    if not todo:
        return Step((), None)
    run: list[Segment] = []
    for seg in segs[todo[0].index:]:
        if seg.queue not in queues:
            # what runs here makes everything after it stale, so the next segment always runs
            return Step(tuple(run), seg)
        run.append(seg)
    return Step(tuple(run), None)


@dataclass(frozen=True)
class Routing:
    """A worker's routing: the pipeline's segments and the queues this worker serves."""

    segments: tuple[Segment, ...]
    queues: tuple[str, ...]

    def stages_served(self) -> list[str]:
        return stages_served(self.segments, self.queues)

    def next_step(self, pipeline: Pipeline, doc: Document) -> Step:
        return next_step(pipeline, doc, self.segments, self.queues)


def routing_for(pipeline: Pipeline, settings: Settings) -> Routing | None:
    """The routing when ``pipeline.routes`` is set (else None: the whole pipeline runs in
    one task, as without routing); ``RoutingError`` when this worker's queues do not fit."""
    if not settings.pipeline.routes:
        return None
    segs = segments(pipeline, settings)
    queues = served_queues(settings)
    check_worker_queues(segs, queues)
    return Routing(tuple(segs), tuple(queues))
