"""Reprocessing stored Documents: plan them against the workers' pipeline, enqueue the stale
ones, and the ``copydesk.reprocess`` task that re-runs only their stale stages.

Workers publish the pipeline they run (``PipelineSpec`` JSON in ``P:pipelines``, per node)
when they start, so a client plans against what the workers would do, not against its own
settings. ``copydesk reprocess --stored`` reads the stored Documents of a status, plans each,
and LPUSHes one ``copydesk.reprocess`` message per Document that would change, carrying the
id, the task id of the submission that produced it and its revision. The worker re-reads the
record, reprocesses the Document and replaces it in one Lua script that checks the task id
and revision are still those: a newer submission of the same id, or another reprocess, is
never overwritten by this older one. The event of a replacement has ``reprocessed: 1`` and
the ``stages`` that ran. A message with ``rerun`` (``enqueue_revisits``) names no submission:
its stages run again on whatever finished Document the record holds, and the Document
replaces it the same way (a record still queued or running is waited for). ``coverage``
counts, per stage, the stored Documents that are current, stale, missing or failed
(``copydesk queue``, ``/metrics``, ``GET /v1/coverage``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from copydesk.document import Document, StageRun
from copydesk.logs import get_logger
from copydesk.provenance import PipelineSpec, Plan, plan
from copydesk.workers.queue.protocol import REPROCESS_TASK_NAME, build_message, new_task_id
from copydesk.workers.queue.store import Store

log = get_logger("copydesk.reprocess")

COVERAGE_STATES = ("current", "stale", "missing", "failed")


class NoWorkerPipeline(RuntimeError):
    """No live worker has published its pipeline: nothing to plan against."""


@dataclass(frozen=True)
class StoredPlan:
    """The plan of one stored Document, with what identifies the version planned."""

    id: str
    status: str
    task_id: str
    revision: int
    plan: Plan


def light_document(raw: str) -> Document:
    """What planning reads of a Document (id, texts, runs, extensions), without validating
    every layer: fast enough to plan a whole store."""
    data = json.loads(raw)
    return Document.model_construct(
        id=data["id"], raw_text=data.get("raw_text", ""), text=data.get("text", ""),
        runs=[StageRun.model_construct(**r) for r in data.get("runs", [])],
        extensions=data.get("extensions", {}),
    )


def workers_spec(store: Store, alive: Sequence[str] | None = None
                 ) -> tuple[PipelineSpec, list[str]]:
    """The pipeline the live workers run, and a warning per worker that runs another one.
    ``alive``: node names with a recent heartbeat (None: every node that published)."""
    published = store.pipelines()
    nodes = [n for n in published if alive is None or n in alive]
    if not nodes:
        raise NoWorkerPipeline(
            "no live worker has published its pipeline: start `copydesk worker` (plans are "
            "made against the pipeline the workers run)")
    specs = {n: published[n] for n in nodes}
    first = sorted(nodes)[0]
    warnings = [f"worker {n} runs another pipeline than {first}; planning against {first}'s"
                for n in sorted(nodes) if specs[n] != specs[first]]
    return PipelineSpec.from_json(specs[first]), warnings


def plan_stored(store: Store, spec: PipelineSpec, status: str = "done",
                limit: int | None = None, chunk: int = 200) -> Iterator[StoredPlan]:
    """Plan every stored Document of ``status`` (newest first, at most ``limit``)."""
    ids = store.stored_ids(status, limit)
    for start in range(0, len(ids), chunk):
        for article_id, st, revision, task_id, raw in store.stored_documents(
                ids[start:start + chunk]):
            if raw is None or st != status or task_id is None:
                continue  # expired, moved on, or finished without a Document
            try:
                doc = light_document(raw)
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("stored Document unreadable", document_id=article_id,
                            error=str(exc)[:200])
                continue
            yield StoredPlan(article_id, st, task_id, revision, plan(doc, spec))


def enqueue(store: Store, plans: Sequence[StoredPlan], chunk: int = 500) -> int:
    """One ``copydesk.reprocess`` message per plan that changes its Document; how many."""
    todo = [p for p in plans if p.plan.changes and not p.plan.needs_source]
    for start in range(0, len(todo), chunk):
        pipe = store.r.pipeline(transaction=False)
        for p in todo[start:start + chunk]:
            ref = {"id": p.id, "task_id": p.task_id, "revision": p.revision}
            pipe.lpush(store.keys.queue, build_message(ref, store.keys.queue, new_task_id(),
                                                       task=REPROCESS_TASK_NAME))
        pipe.execute()
    return len(todo)


def enqueue_revisits(store: Store, article_ids: Sequence[str], stage: str,
                     tries: int = 0) -> None:
    """One ``copydesk.reprocess`` message per id asking that ``stage`` run again on the
    stored Document, whatever submission it holds (``services.revisit``: a cross-article
    stage learnt that what it wrote for them is out of date)."""
    pipe = store.r.pipeline(transaction=False)
    for article_id in article_ids:
        ref = {"id": article_id, "rerun": [stage], "tries": tries}
        pipe.lpush(store.keys.queue, build_message(ref, store.keys.queue, new_task_id(),
                                                   task=REPROCESS_TASK_NAME))
    pipe.execute()


def coverage(store: Store, spec: PipelineSpec,
             statuses: Sequence[str] = ("done", "failed")) -> dict[str, dict[str, int]]:
    """Per stage of ``spec``: how many stored Documents are current, stale, missing, failed."""
    out = {name: dict.fromkeys(COVERAGE_STATES, 0) for name in spec.names}
    for status in statuses:
        for stored in plan_stored(store, spec, status):
            for verdict in stored.plan.stages:
                if verdict.stage in out and verdict.state in COVERAGE_STATES:
                    out[verdict.stage][verdict.state] += 1
    return out


def stored_coverage(store: Store) -> dict[str, dict[str, int]] | None:
    """``coverage`` against the pipeline the live workers published; None when none did."""
    alive = [w.node for w in store.queue_info(0).workers if w.alive]
    try:
        spec, _ = workers_spec(store, alive)
    except NoWorkerPipeline:
        return None
    return coverage(store, spec)
