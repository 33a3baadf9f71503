"""Batches in workers: a pool process runs up to ``worker.batch_size`` queued articles at
once through the pipeline's batched path (``nlp.pipe``), each keeping its own message.

How it fits Celery (the main process, ``batching_strategy``): the task's execution strategy
is Celery's default one with its last step replaced. Every message still becomes a normal
``LeaseRequest``, reserved in the worker's state (so the lease keeper renews it) and with its
own ack and reject. Instead of sending each request to the pool, the ``Batcher`` holds it until
``batch_size`` are waiting or ``batch_wait`` seconds (default 0: the current turn of the
event loop) passed since the first, and longer while every pool process is busy (waiting
then costs nothing: the batch fills), then sends the group to one pool process as a single
job (``run_batch``). The job's pool events are fanned
out to every request in it: accepted (time_start: the lease keeper renews their leases),
success (each acked with its own outcome), a soft or hard time limit, a lost process
(each given back and re-queued, as ``reject_on_worker_lost`` does for one).

A request that is alone when the wait ends, a redelivered message (its last attempt was lost:
possibly a poison article), or a message that is not one article, goes the ordinary way, one
task per message. So after a batch is lost to a crash or a time limit, each of its articles is
retried alone with its own limit, and only the bad one fails. A batch has the per-article
time limits: no article runs longer than its own limit in a batch without being retried
alone.

In the pool process (``run_batch``): each article is validated and claimed on its own (a
failed check or claim goes the single-article way, or is skipped); the claimed ones run
through ``Pipeline.process_many``, whose stages already isolate a failing document; each
result is written with its own ``finish``. Should the batch itself crash, its articles are
run one at a time.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from billiard.einfo import ExceptionInfo
from celery.exceptions import Reject, SoftTimeLimitExceeded
from celery.worker import state as worker_state
from celery.worker.strategy import default as default_strategy
from copydesk.document import Article, Document, InvalidArticle, parse_article
from copydesk.logs import get_logger
from copydesk.workers.queue.protocol import article_payload
from copydesk.workers.queue.store import Store
from copydesk.workers.worker import tasks
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = get_logger("copydesk.batching")

#: An outcome per article of a batch: ("ok", task return value) or ("reject", reason),
#: the latter re-queueing the message.
Outcome = tuple[str, Any]


# -- main process: grouping requests -------------------------------------------------


class _ConsumerView:
    """The consumer as Celery's default strategy sees it, with ``on_task_request`` (where a
    ready request goes) replaced."""

    def __init__(self, consumer: Any, on_task_request: Callable[[Any], None]) -> None:
        self._consumer = consumer
        self.on_task_request = on_task_request

    def __getattr__(self, name: str) -> Any:
        return getattr(self._consumer, name)


def batchable(request: Any) -> bool:
    """A first delivery of one article object: may share a batch."""
    info = request.delivery_info or {}
    headers = getattr(request.message, "headers", None) or {}
    if info.get("redelivered") or headers.get("redelivered"):
        return False
    args, kwargs = request.args, request.kwargs
    return isinstance(args, list | tuple) and len(args) == 1 and isinstance(args[0], dict) \
        and not kwargs


class Batcher:
    """Holds ready requests and sends them to the pool in groups (see the module docstring)."""

    def __init__(self, pool: Any, timer: Any, single: Callable[[Any], None], size: int,
                 wait: float, soft_limit: float, hard_limit: float,
                 processes: int = 1) -> None:
        self.pool = pool
        self.processes = max(1, processes)
        #: the request ids of each job sent to the pool and not finished yet
        self.jobs: list[list[str]] = []
        self.timer = timer
        self.single = single
        self.size = size
        self.wait = wait
        self.soft_limit = soft_limit
        self.hard_limit = hard_limit
        self.pending: list[Any] = []
        self._tref: Any = None

    def add(self, request: Any) -> None:
        if not batchable(request):
            self.jobs.append([request.id])
            self.single(request)
            return
        self.pending.append(request)
        if len(self.pending) >= self.size:
            self.flush()
        elif self._tref is None:
            self._tref = self.timer.call_after(self.wait, self.flush)

    def busy(self) -> int:
        """Jobs sent to the pool whose requests are not all finished (Celery's worker state
        drops a request when it is done)."""
        live = worker_state.requests
        self.jobs = [job for job in self.jobs if any(i in live for i in job)]
        return len(self.jobs)

    def flush(self) -> None:
        """Send what is waiting: as one batch, or alone when it is a single request. A batch
        that is not full waits on (``batch_wait`` at a time) while every pool process is
        busy: it could not start sooner anyway, and it fills meanwhile."""
        if self._tref is not None:
            self._tref.cancel()
            self._tref = None
        if not self.pending:
            return
        if len(self.pending) < self.size and self.busy() >= self.processes:
            # a batch that returns flushes at once; this only catches single tasks ending
            self._tref = self.timer.call_after(max(10 * self.wait, 0.05), self.flush)
            return
        ready = [r for r in self.pending if not r.revoked()]
        self.pending = []
        if ready:
            self.jobs.append([r.id for r in ready])
        if len(ready) == 1:
            self.single(ready[0])
        elif ready:
            self._send(ready)

    def _send(self, requests: list[Any]) -> None:
        started = [time.monotonic()]

        def accepted(pid: int, time_accepted: float) -> None:
            started[0] = time_accepted
            for r in requests:
                r.on_accepted(pid, time_accepted)

        def timed_out(soft: bool, timeout: float) -> None:
            for r in requests:
                r.on_timeout(soft, timeout)

        def returned(outcomes: Sequence[Outcome]) -> None:
            runtime = time.monotonic() - started[0]
            if len(outcomes) != len(requests):  # cannot happen; never ack what did not run
                outcomes = [("reject", "the batch returned no outcome for it")] * len(requests)
            for r, (kind, value) in zip(requests, outcomes, strict=True):
                if kind == "ok":
                    r.on_success((False, value, runtime))
                else:
                    r.on_failure(_reject_info(str(value)))
            self.flush()  # a process is free: what waited for one goes now

        def failed(einfo: Any) -> None:
            for r in requests:
                r.on_failure(einfo)
            self.flush()

        self.pool.apply_async(
            run_batch,
            args=([(r.id, r.hostname, r.args[0]) for r in requests],),
            accept_callback=accepted, timeout_callback=timed_out,
            callback=returned, error_callback=failed,
            soft_timeout=self.soft_limit, timeout=self.hard_limit,
            correlation_id=requests[0].id,
        )


def _reject_info(reason: str) -> ExceptionInfo:
    """The failure Celery reports for a task that raised ``Reject(requeue=True)``."""
    try:
        raise Reject(reason, requeue=True)
    except Reject:
        return ExceptionInfo()


def batching_strategy(task: Any, app: Any, consumer: Any, **kwargs: Any) -> Any:
    """The execution strategy of ``copydesk.process``: Celery's default, batching at the end
    when ``worker.batch_size`` is above 1 and the pool is prefork."""
    settings = tasks._settings()
    w = settings.worker
    single = consumer.on_task_request
    if w.batch_size <= 1 or not hasattr(consumer.pool, "apply_async") or \
            type(consumer.pool).__module__ != "celery.concurrency.prefork":
        return default_strategy(task, app, consumer, **kwargs)
    batcher = Batcher(consumer.pool, consumer.timer, single, w.batch_size, w.batch_wait,
                      task.soft_time_limit or w.soft_time_limit, task.time_limit or w.time_limit,
                      processes=getattr(consumer.pool, "limit", None) or 1)
    log.info("batching", batch_size=w.batch_size, batch_wait=w.batch_wait)
    return default_strategy(task, app, _ConsumerView(consumer, batcher.add), **kwargs)


# -- pool process: running a batch ---------------------------------------------------


@dataclass
class _Claimed:
    index: int
    task_id: str
    node: str
    article: Article
    attempt: int


def _single(task_id: str, node: str, article: Any) -> Outcome:
    """One article the ordinary way (``tasks.process_article``), as its own task would."""
    task = SimpleNamespace(request=SimpleNamespace(id=task_id, hostname=node))
    try:
        return "ok", tasks.process_article(task, article)
    except Reject as exc:
        return "reject", str(exc.reason)


def run_batch(items: list[tuple[str, str, Any]]) -> list[Outcome]:
    """Run a batch of ``(task id, node, article)`` in this pool process; one outcome each."""
    settings = tasks._settings()
    if tasks.proc.store is None:
        tasks.proc.store = Store.from_settings(settings, retries=8)
    if tasks.proc.pipeline is None:
        tasks.proc.pipeline = tasks.build_pipeline(settings)
    store = tasks.proc.store
    outcomes: list[Outcome | None] = [None] * len(items)
    claimed: list[_Claimed] = []
    try:
        for i, (task_id, node, data) in enumerate(items):
            try:
                valid = parse_article(data, settings.max_article_chars)
            except InvalidArticle:  # the single-article path records why, as it always has
                outcomes[i] = _single(task_id, node, data)
                continue
            assert valid.id is not None
            try:
                claim = store.claim(valid.id, task_id, node, f"{node}:{os.getpid()}",
                                    article_payload(valid))
            except (RedisConnectionError, RedisTimeoutError) as exc:
                outcomes[i] = ("reject", f"Redis unavailable: {exc}")
                continue
            if claim.action != "run":
                log.info("article not run", document_id=valid.id, action=claim.action,
                         detail=claim.detail)
                status = claim.detail if claim.action == "skip" else "failed"
                outcomes[i] = ("ok", {"id": valid.id, "status": status})
                continue
            attempt = int(claim.detail) if claim.detail.isdigit() else 1
            claimed.append(_Claimed(i, task_id, node, valid, attempt))
        if claimed:
            log.info("batch started", size=len(claimed), pid=os.getpid(),
                     documents=[c.article.id for c in claimed])
            _run_claimed(claimed, outcomes)
    except SoftTimeLimitExceeded:
        _give_back([c for c in claimed if outcomes[c.index] is None], outcomes,
                   f"soft time limit of {settings.worker.soft_time_limit}s exceeded by its "
                   f"batch of {len(items)}; retried alone")
    except Exception as exc:
        log.error("batch crashed", error=f"{type(exc).__name__}: {exc}",
                  traceback=traceback.format_exc())
        _give_back([c for c in claimed if outcomes[c.index] is None], outcomes,
                   f"its batch crashed: {type(exc).__name__}: {exc}; retried alone")
    return [o or ("reject", "not run: its batch stopped early") for o in outcomes]


def _run_claimed(claimed: list[_Claimed], outcomes: list[Outcome | None]) -> None:
    settings = tasks._settings()
    store, pipeline = tasks.proc.store, tasks.proc.pipeline
    assert store is not None and pipeline is not None
    by_id = {c.article.id: c for c in claimed}
    started = time.monotonic()

    def publish_stage(stage: str, docs: Sequence[Document]) -> None:
        try:
            store.set_stage([d.id for d in docs], stage)
        except Exception as exc:  # progress is informative only
            log.debug("could not publish the stage", error=str(exc))

    def save_partial(stage: str, docs: Sequence[Document]) -> None:
        if time.monotonic() - started < settings.worker.partial_after:
            return
        for d in docs:
            c = by_id.get(d.id)
            if c is None:
                continue
            try:
                store.save_partial(d.id, c.task_id, c.attempt, d, stage)
            except Exception as exc:  # a retry then starts over: slower, never wrong
                log.warning("could not save the partial Document", document_id=d.id,
                            error=f"{type(exc).__name__}: {exc}")

    pipeline.stage_listener = publish_stage
    pipeline.stage_finished = save_partial
    pipeline.worker = claimed[0].node
    try:
        try:
            docs = pipeline.process_many([c.article for c in claimed])
        except SoftTimeLimitExceeded:
            raise
        except Exception as exc:  # not a stage (stages are isolated): the batch machinery
            log.warning("batch failed; its articles run one at a time",
                        error=f"{type(exc).__name__}: {exc}")
            for c in claimed:
                _finish_alone(c, outcomes)
            return
    finally:
        pipeline.stage_listener = None
        pipeline.stage_finished = None
    for c, doc in zip(claimed, docs, strict=True):
        outcomes[c.index] = _finish(c, doc)


def _finish_alone(c: _Claimed, outcomes: list[Outcome | None]) -> None:
    pipeline, store = tasks.proc.pipeline, tasks.proc.store
    assert pipeline is not None and store is not None
    try:
        doc = pipeline.process(c.article)
    except SoftTimeLimitExceeded:
        raise
    except Exception as exc:
        crash = f"the pipeline crashed: {type(exc).__name__}: {exc}"
        store.finish(c.article.id or "", c.task_id, "failed", None, crash, c.node,
                     traceback.format_exc())
        outcomes[c.index] = ("ok", {"id": c.article.id, "status": "failed"})
        return
    outcomes[c.index] = _finish(c, doc)


def _finish(c: _Claimed, doc: Document) -> Outcome:
    """Write one article's result, as ``tasks`` does for a single one."""
    settings = tasks._settings()
    store = tasks.proc.store
    assert store is not None
    article_id = c.article.id or doc.id
    try:
        timed_out = next((r for r in doc.runs
                          if r.error and r.error.startswith("SoftTimeLimitExceeded")), None)
        if timed_out is not None:
            reason = (f"soft time limit of {settings.worker.soft_time_limit}s exceeded in "
                      f"stage {timed_out.stage!r} (in a batch); retried alone")
            store.release(article_id, c.task_id, reason)
            return "reject", reason
        error: str | None = None
        if doc.status == "failed":
            failed = [r for r in doc.runs if r.status == "failed"]
            error = "; ".join(f"required stage {r.stage!r} failed: {r.error}" for r in failed) \
                or "a required stage failed"
        store.finish(article_id, c.task_id, doc.status, doc.to_json(), error, c.node,
                     tasks._log_tracebacks(doc))
    except (RedisConnectionError, RedisTimeoutError) as exc:
        log.error("Redis unavailable; message re-queued", document_id=article_id,
                  error=f"{type(exc).__name__}: {exc}")
        return "reject", f"Redis unavailable: {exc}"
    return "ok", {"id": article_id, "status": doc.status}


def _give_back(claimed: list[_Claimed], outcomes: list[Outcome | None], reason: str) -> None:
    """Release the claimed articles of a stopped batch; their messages are re-queued."""
    store = tasks.proc.store
    for c in claimed:
        try:
            if store is not None:
                store.release(c.article.id or "", c.task_id, reason)
        except Exception as exc:  # the lease lapses instead
            log.error("could not give the article back", document_id=c.article.id,
                      error=f"{type(exc).__name__}: {exc}")
        outcomes[c.index] = ("reject", reason)
    log.warning("batch stopped; its articles are re-queued", reason=reason,
                documents=[c.article.id for c in claimed])
