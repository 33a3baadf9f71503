"""The ``copydesk.process`` task and the worker's process lifecycle.

The task's single argument is the submitted-article JSON object. Per worker, the pipeline
is built and its models loaded once: in the main process before the pool forks (so the
processes share the model's memory) when ``worker.preload`` is on, else in each pool
process as it starts; never per task.

What a task does with one message: validate the article (invalid → ``failed`` with the
reason); claim it in the store (skip it if it is done, or running under a live lease
elsewhere; dead-letter it if its attempts are used up); run the pipeline, publishing the
current stage; write ``done`` (or ``failed`` when a required stage failed) with the Document.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import traceback
from collections.abc import Sequence
from typing import Any

from celery import Celery, Task, signals
from celery.exceptions import Reject, SoftTimeLimitExceeded
from copydesk.document import ID_PATTERN, Article, Document, InvalidArticle
from copydesk.extra_fields import log_moved_fields
from copydesk.logs import get_logger
from copydesk.pipeline import Pipeline
from copydesk.plugin_manager import build_plugin_manager
from copydesk.settings import Settings
from copydesk.sinks import configured_names
from copydesk.state import SharedState
from copydesk.workers.queue.partial import start_or_resume
from copydesk.workers.queue.protocol import REPROCESS_TASK_NAME, TASK_NAME, article_payload
from copydesk.workers.queue.reprocess import reprocess_stored
from copydesk.workers.queue.store import Store
from copydesk.workers.worker.lease import LeaseKeeper, die_with_parent, main_process
from copydesk.workers.worker.lost import oom_kills
from copydesk.workers.worker.routing import (
    Segment,
    check_worker_queues,
    next_step,
    segments,
    served_queues,
    stages_served,
)
from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = get_logger("copydesk.worker")


class _ProcessState:
    """Per-process worker state: the pipeline, the store and the lease keeper."""

    pipeline: Pipeline | None = None
    store: Store | None = None
    keeper: LeaseKeeper | None = None
    #: with pipeline.routes: the pipeline's segments and the queues this worker serves
    routing: tuple[list[Segment], list[str]] | None = None


proc = _ProcessState()


def _settings() -> Settings:
    from copydesk.workers.worker.app import current_settings

    return current_settings()


def routing_for(pipeline: Pipeline, settings: Settings) -> tuple[list[Segment], list[str]] | None:
    """The segments and served queues when ``pipeline.routes`` is set (else None: the whole
    pipeline runs in one task, as without routing); ``RoutingError`` when they do not fit."""
    if not settings.pipeline.routes:
        return None
    segs = segments(pipeline, settings)
    queues = served_queues(settings)
    check_worker_queues(segs, queues)
    return segs, queues


def _setup(pipeline: Pipeline, settings: Settings) -> None:
    """Load the models of the stages this worker runs: all of them, or with routes only
    those of its own queues."""
    routing = routing_for(pipeline, settings)
    proc.routing = routing
    if routing is None:
        pipeline.setup()
    else:
        pipeline.setup(only=stages_served(*routing))


def build_pipeline(settings: Settings) -> Pipeline:
    """Build the pipeline from installed plugins and load its models (once per process)."""
    pipeline = Pipeline.build(settings, build_plugin_manager(settings))
    share_state(pipeline, settings)
    _setup(pipeline, settings)
    pipeline.interrupts = (SoftTimeLimitExceeded,)
    log.info("pipeline ready", stages=pipeline.names, pid=os.getpid(),
             runs=stages_served(*proc.routing) if proc.routing else pipeline.names)
    return pipeline


def share_state(pipeline: Pipeline, settings: Settings) -> None:
    """Give the pipeline's cross-article stages the state all workers share (Redis, from
    the ``shared_state`` hook), with a connection of this process's own."""
    plugins = pipeline.plugins or build_plugin_manager(settings)
    backend = plugins.shared_state(settings)
    if backend is not None:
        pipeline.services.state = SharedState(backend)


def preload(pipeline: Pipeline | None = None) -> None:
    """Build (or adopt) the pipeline in the main process, before the pool forks."""
    if pipeline is None:
        pipeline = build_pipeline(_settings())
    _setup(pipeline, _settings())  # idempotent: a pipeline passed in may not be set up yet
    # the soft time limit ends a run, single or batched, instead of failing one stage
    pipeline.interrupts = (SoftTimeLimitExceeded,)
    proc.pipeline = pipeline


@signals.worker_process_init.connect
def _pool_process_init(**_: Any) -> None:
    die_with_parent()
    settings = _settings()
    proc.store = Store.from_settings(settings, retries=8)
    if proc.pipeline is None:
        proc.pipeline = build_pipeline(settings)
    else:  # preloaded before the fork: a Redis connection of this process's own
        share_state(proc.pipeline, settings)


@signals.worker_ready.connect
def _worker_ready(sender: Any = None, **_: Any) -> None:
    settings = _settings()
    store = Store.from_settings(settings, retries=8)
    main_process.store = store
    main_process.oom_kills = oom_kills()
    node = getattr(sender, "hostname", None) or "copydesk@unknown"
    pool = getattr(getattr(sender, "controller", None), "pool", None)
    concurrency = getattr(pool, "limit", None) or settings.worker.concurrency
    proc.keeper = LeaseKeeper(store, node, settings, concurrency, _plugin_versions(settings))
    proc.keeper.start()
    _publish_pipeline(store, node, settings)
    store.prepare_outbox(configured_names(settings))  # a group per sink, before any finish
    if settings.pipeline.routes:
        store.announce_route_queues(settings.pipeline.routes.values())
    log.info("worker ready", worker=node, queue=settings.worker.queue)


def _plugin_versions(settings: Settings) -> dict[str, str]:
    """The plugins this worker runs (name -> version), for its heartbeat: those of the
    preloaded pipeline, else those the settings load (pool processes load the same)."""
    manager = proc.pipeline.plugins if proc.pipeline is not None else None
    if manager is None:
        manager = build_plugin_manager(settings)
    return {name: info.version for name, info in manager.info.items()}


def _publish_pipeline(store: Store, node: str, settings: Settings) -> None:
    """Publish the pipeline this worker runs, which ``reprocess --stored`` plans against."""
    try:
        pipeline = proc.pipeline or Pipeline.build(settings, build_plugin_manager(settings))
        store.publish_pipeline(node, pipeline.spec.to_json())
    except Exception as exc:  # planning then says no worker published one
        log.warning("could not publish the pipeline", worker=node,
                    error=f"{type(exc).__name__}: {exc}")


@signals.worker_shutdown.connect
def _worker_shutdown(sender: Any = None, **_: Any) -> None:
    keeper = proc.keeper
    if keeper is None:
        return
    keeper.stop()
    try:
        keeper.store.worker_gone(keeper.node)
    except Exception as exc:
        log.warning("could not unregister the worker", error=str(exc))


def _fallback_id(data: Any) -> str:
    """An id for an article too broken to have one, so its failure is still recorded."""
    given = data.get("id") if isinstance(data, dict) else None
    if isinstance(given, str) and re.match(ID_PATTERN, given):
        return given
    raw = json.dumps(data, sort_keys=True, default=str).encode("utf-8", "replace")
    return "invalid-" + hashlib.sha256(raw).hexdigest()[:32]


def process_article(task: Task, article: Any) -> dict[str, Any]:
    """The body of ``copydesk.process`` (``task`` is the bound Celery task).

    Redis going away mid-task (after the store's own retries with backoff) re-queues the
    message instead of failing it, so the article is not lost with the connection."""
    try:
        return _process(task, article)
    except (RedisConnectionError, RedisTimeoutError) as exc:
        log.error("Redis unavailable; message re-queued", error=f"{type(exc).__name__}: {exc}")
        raise Reject(f"Redis unavailable: {exc}", requeue=True) from None


def _ready(settings: Settings) -> tuple[Store, Pipeline]:
    """This process's store and pipeline, made on first use (a pool process normally has
    both from ``worker_process_init``)."""
    if proc.store is None:
        proc.store = Store.from_settings(settings, retries=8)
    if proc.pipeline is None:
        proc.pipeline = build_pipeline(settings)
    return proc.store, proc.pipeline


def _process(task: Task, article: Any) -> dict[str, Any]:
    settings = _settings()
    store, pipeline = _ready(settings)
    task_id = str(task.request.id)
    node = str(task.request.hostname or "copydesk@unknown")
    try:
        valid = settings.article_rules().parse(article)
    except InvalidArticle as exc:
        article_id = _fallback_id(article)
        store.finish(article_id, task_id, "failed", None, f"invalid article: {exc}", node)
        log.warning("invalid article refused", document_id=article_id, error=str(exc))
        return {"id": article_id, "status": "failed"}
    assert valid.id is not None
    log_moved_fields(valid, "worker")
    article_id = valid.id
    claim = store.claim(article_id, task_id, node, f"{node}:{os.getpid()}",
                        article_payload(valid))
    if claim.action != "run":
        log.info("article not run", document_id=article_id, action=claim.action,
                 detail=claim.detail)
        return {"id": article_id, "status": claim.detail if claim.action == "skip" else "failed"}

    current = {"stage": "(before the first stage)"}

    def publish_stage(stage: str, docs: Sequence[Document]) -> None:
        current["stage"] = stage
        try:
            store.set_stage([d.id for d in docs], stage)
        except Exception as exc:  # progress is informative only
            log.debug("could not publish the stage", error=str(exc))

    attempt = int(claim.detail) if claim.detail.isdigit() else 1
    started = time.monotonic()

    def save_partial(stage: str, docs: Sequence[Document]) -> None:
        if time.monotonic() - started < settings.worker.partial_after:
            return
        for d in docs:
            try:
                store.save_partial(d.id, task_id, attempt, d, stage)
            except Exception as exc:  # a retry then starts over: slower, never wrong
                log.warning("could not save the partial Document", document_id=d.id,
                            error=f"{type(exc).__name__}: {exc}")

    pipeline.stage_listener = publish_stage
    pipeline.stage_finished = save_partial
    pipeline.worker = node
    then: Segment | None = None
    carried: bytes | None = None
    try:
        if proc.routing is None:
            partial = store.load_partial(article_id, task_id) if attempt > 1 else None
            doc = start_or_resume(pipeline, valid, partial)
        else:
            doc, then, carried = _run_routed(store, pipeline, valid, task_id, proc.routing)
    except SoftTimeLimitExceeded:
        _timed_out(store, article_id, task_id, settings, f"in stage {current['stage']!r}")
        raise  # unreachable: _timed_out raises Reject
    except Exception as exc:
        crash = f"the pipeline crashed: {type(exc).__name__}: {exc}"
        trace = traceback.format_exc()
        store.finish(article_id, task_id, "failed", None, crash, node, trace)
        log.error("pipeline crashed", document_id=article_id, error=crash, traceback=trace)
        return {"id": article_id, "status": "failed"}
    finally:
        pipeline.stage_listener = None
        pipeline.stage_finished = None
    timed_out = next((r for r in doc.runs
                      if r.error and r.error.startswith("SoftTimeLimitExceeded")), None)
    if timed_out is not None:
        _timed_out(store, article_id, task_id, settings, f"in stage {timed_out.stage!r}")
    if then is not None and doc.status != "failed":
        last = doc.runs[-1].stage if doc.runs else ""
        if not store.hand_off(article_id, task_id, doc, last, article_payload(valid),
                              then.queue, then.label, carried):
            log.warning("article not handed on: another submission holds it",
                        document_id=article_id)
        log.info("article handed on", document_id=article_id, queue=then.queue,
                 segment=then.label)
        return {"id": article_id, "status": "queued", "queue": then.queue}
    error: str | None = None
    if doc.status == "failed":
        failed = [r for r in doc.runs if r.status == "failed"]
        error = "; ".join(f"required stage {r.stage!r} failed: {r.error}" for r in failed) \
            or "a required stage failed"
    store.finish(article_id, task_id, doc.status, doc.to_json(), error, node,
                 _log_tracebacks(doc))
    return {"id": article_id, "status": doc.status}


def _run_routed(store: Store, pipeline: Pipeline, article: Article, task_id: str,
                routing: tuple[list[Segment], list[str]]
                ) -> tuple[Document, Segment | None, bytes | None]:
    """Run the segments of this worker's queues that are due on ``article`` (from its
    partial Document, if an earlier segment or attempt saved one); return the Document, the
    segment it goes to next (None when it is finished) and, when that segment reads the
    spaCy parse, the parse to carry to it (a DocBin: far cheaper than parsing again)."""
    segs, queues = routing
    assert article.id is not None
    partial = store.load_partial(article.id, task_id)
    doc: Document | None = None
    if partial is not None:
        try:
            doc = partial.document()
        except ValidationError as exc:
            log.warning("partial Document unreadable; starting over", document_id=article.id,
                        error=str(exc)[:200])
    if doc is None or doc.id != article.id:
        doc = Document.from_article(article)
    shared = pipeline.services.shared_parse
    if partial is not None and partial.parse and doc.id == partial.article_id:
        shared.adopt(doc, partial.parse)
    step = next_step(pipeline, doc, segs, queues)
    if not step.run and step.then is None:  # nothing left to run: a finished Document
        doc.status = "done"
    if step.run:
        store.set_segment(article.id, step.run[0].label, step.run[0].queue)
        names = [name for seg in step.run for name in seg.stages]
        pipeline.run_segment(doc, names, final=step.then is None)
    carried = None
    if step.then is not None and _reads_parse(pipeline, step.then):
        carried = shared.pack(doc)
    shared.release(doc)
    return doc, step.then, carried


def _reads_parse(pipeline: Pipeline, segment: Segment) -> bool:
    wanted = set(segment.stages)
    return any(b.stage.uses_parse for b in pipeline.stages if b.name in wanted)


def _log_tracebacks(doc: Document) -> str | None:
    """Log each stage that raised, with its traceback; return them all for the record."""
    parts = []
    for run in doc.runs:
        if run.status == "failed" and run.traceback:
            log.error("stage failed", document_id=doc.id, stage=run.stage, plugin=run.plugin,
                      version=run.version, error=run.error, traceback=run.traceback)
            parts.append(f"stage {run.stage!r} (plugin {run.plugin!r} {run.version}):\n"
                         f"{run.traceback}")
    return "\n".join(parts) or None


def _timed_out(store: Store, article_id: str, task_id: str, settings: Settings,
               where: str) -> None:
    reason = f"soft time limit of {settings.worker.soft_time_limit}s exceeded {where}"
    store.release(article_id, task_id, reason)
    log.warning("article timed out; re-queued", document_id=article_id, reason=reason)
    raise Reject(reason, requeue=True)


class ProcessTask(Task):
    """Task class of ``copydesk.process``: late acks, re-queue on worker loss, lease-aware."""

    Request = "copydesk.workers.worker.lease:LeaseRequest"
    #: batches of queued articles per pool process (worker.batch_size; workers/worker/batching.py)
    Strategy = "copydesk.workers.worker.batching:batching_strategy"
    acks_late = True
    reject_on_worker_lost = True
    acks_on_timeout = False
    ignore_result = True
    typing = False


def register(app: Celery) -> Any:
    """Register ``copydesk.process`` on ``app``."""

    @app.task(name=TASK_NAME, bind=True, base=ProcessTask)
    def process(self: Task, article: Any) -> dict[str, Any]:
        return process_article(self, article)

    @app.task(name=REPROCESS_TASK_NAME, bind=True, base=ReprocessTask)
    def reprocess(self: Task, ref: Any) -> dict[str, Any]:
        store, pipeline = _ready(_settings())
        node = str(self.request.hostname or "copydesk@unknown")
        return reprocess_stored(ref, store, pipeline, node)

    return process


class ReprocessTask(Task):
    """Task class of ``copydesk.reprocess``: late acks and re-queue on worker loss (a retry
    is harmless: the replacement checks the record's revision)."""

    acks_late = True
    reject_on_worker_lost = True
    ignore_result = True
    typing = False
