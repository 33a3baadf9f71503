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

In the pool process (``run_batch``): the batch runs the article lifecycle of a single task
(``workers.worker.lifecycle``): each article validated and claimed on its own, the claimed
ones run together (whole, or with routes the segments of this worker's queues), each
finished or handed on with its own write. Should the batch itself crash, its articles are
run one at a time.

A batch fits its time limit: the first article a worker runs goes alone, and from then on
the batcher keeps a running mean of the seconds an article takes (``returned`` batches and
single runs) and caps a batch so that it is expected to use at most half of the soft time
limit (``FIT``). A batch that hits the limit all the same sets the mean to at least the
limit over its size, which halves the next one. So a slow pipeline (seconds an article, or
a low limit) runs in smaller batches, or alone, instead of having every batch cut short and
run again article by article.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from celery import current_app
from celery.worker import state as worker_state
from celery.worker.strategy import default as default_strategy
from copydesk.logs import get_logger
from copydesk.workers.worker import acks, lifecycle
from copydesk.workers.worker.acks import Outcome

log = get_logger("copydesk.batching")

#: the share of the soft time limit a batch is expected to use at most
FIT = 0.5
#: the weight of the newest run in the running mean of seconds per article
RECENT = 0.3


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
    """Holds reserved requests until a pool process is free, then sends them on: alone, or
    first deliveries in groups (see the module docstring)."""

    def __init__(self, pool: Any, timer: Any, single: Callable[[Any], None], size: int,
                 wait: float, soft_limit: float, hard_limit: float,
                 processes: int = 1) -> None:
        self.pool = pool
        self.processes = max(1, processes)
        #: the requests of each job sent to the pool and not finished yet
        self.jobs: list[list[Any]] = []
        self.timer = timer
        self.single = single
        self.size = size
        self.wait = wait
        self.soft_limit = soft_limit
        self.hard_limit = hard_limit
        #: reserved requests not sent to the pool yet, in the order they were popped
        self.pending: list[Any] = []
        #: retries of a batch's callback, given back together when it ends
        self.requeuing: list[Any] = []
        self.gathering = False
        self._tref: Any = None
        #: the running mean of seconds an article takes (None: nothing ran yet)
        self.per_article: float | None = None
        #: when each job of one request was sent to the pool (by the request's identity)
        self._sent_alone: dict[int, float] = {}
        self._cap_logged = size

    def cap(self) -> int:
        """How many articles a batch takes now: ``batch_size``, or fewer when a batch that
        size would not fit ``FIT`` of the soft time limit (one until an article was timed)."""
        if self.per_article is None:  # the first article runs alone, and is timed
            return 1
        fits = int(FIT * self.soft_limit / max(self.per_article, 1e-6))
        cap = max(1, min(self.size, fits))
        if cap != self._cap_logged:
            log.info("batch size set to fit the soft time limit", batch_size=cap,
                     seconds_per_article=round(self.per_article, 3),
                     soft_time_limit=self.soft_limit)
            self._cap_logged = cap
        return cap

    def observe(self, seconds: float, articles: int) -> None:
        """A job of ``articles`` ran for ``seconds``: fold it into the running mean."""
        each = seconds / max(1, articles)
        self.per_article = each if self.per_article is None else \
            (1 - RECENT) * self.per_article + RECENT * each

    def add(self, request: Any) -> None:
        self.pending.append(request)
        if not batchable(request) or sum(map(batchable, self.pending)) >= self.cap():
            self.dispatch()
        elif self._tref is None:
            self._tref = self.timer.call_after(self.wait, self.dispatch)

    def busy(self) -> int:
        """Jobs sent to the pool whose requests are not all finished (Celery's worker state
        drops a request when it is done)."""
        live = worker_state.requests  # by task id: a redelivery has the same one
        self.jobs = [job for job in self.jobs if any(live.get(r.id) is r for r in job)]
        if self._sent_alone:  # a single job that ended without saying so is not timed
            running = {id(job[0]) for job in self.jobs if len(job) == 1}
            self._sent_alone = {k: v for k, v in self._sent_alone.items() if k in running}
        return len(self.jobs)

    def dispatch(self) -> None:
        """Send what waits to the pool processes that are free: the oldest request alone when
        it may not share a batch, else up to ``batch_size`` first deliveries together. What
        finds every process busy waits here (and the batch fills); a job that ends
        dispatches again (``job_done``)."""
        if self._tref is not None:
            self._tref.cancel()
            self._tref = None
        self.pending = [r for r in self.pending if not r.revoked()]
        while self.pending and self.busy() < self.processes:
            if not batchable(self.pending[0]):
                self._start([self.pending.pop(0)])
                continue
            group = [r for r in self.pending if batchable(r)][:self.cap()]
            taken = {id(r) for r in group}
            self.pending = [r for r in self.pending if id(r) not in taken]
            self._start(group)

    def job_done(self, request: Any = None) -> None:
        """``request`` finished: a process may be free for what waits."""
        sent = self._sent_alone.pop(id(request), None) if request is not None else None
        if sent is not None:
            self.observe(time.monotonic() - sent, 1)
        if self.pending:
            self.dispatch()

    def requeue(self, request: Any) -> None:
        """Give ``request`` back at the head of the queue (a retry), and every request
        waiting here behind it, so the retry runs first and these follow in their order
        (each is a redelivery from then on, and runs alone). Inside a batch's callback the
        batch's retries are gathered and given back together, the first on top."""
        self.requeuing.append(request)
        if not self.gathering:
            self._give_back()

    def _give_back(self) -> None:
        retries, self.requeuing = self.requeuing, []
        waiting, self.pending = self.pending, []
        if self._tref is not None:
            self._tref.cancel()
            self._tref = None
        if not retries and not waiting:
            return
        if waiting:
            log.info("reserved articles given back behind a retry", count=len(waiting))
        for request in waiting:
            worker_state.task_ready(request)
        order = retries + waiting
        qos = order[0].message.channel.qos
        try:
            qos.restore_at_head([str(r.message.delivery_tag) for r in order])
        except Exception as exc:  # held messages come back through their leases instead
            log.error("could not give messages back to the head of the queue",
                      error=f"{type(exc).__name__}: {exc}", count=len(order))
        for request in order:
            request.acknowledged = True
            request.send_event("task-rejected", requeue=True)

    def _gathered(self, settle: Callable[[], None]) -> None:
        """Run ``settle`` (a batch's acks and rejects), giving back its retries together."""
        self.gathering = True
        try:
            settle()
        finally:
            self.gathering = False
            self._give_back()

    def _start(self, requests: list[Any]) -> None:
        self.jobs.append(requests)
        if len(requests) == 1:
            self._sent_alone[id(requests[0])] = time.monotonic()
            self.single(requests[0])
        else:
            self._send(requests)

    def _send(self, requests: list[Any]) -> None:
        started = [time.monotonic()]

        def accepted(pid: int, time_accepted: float) -> None:
            started[0] = time_accepted
            for r in requests:
                r.on_accepted(pid, time_accepted)

        def timed_out(soft: bool, timeout: float) -> None:
            self.per_article = max(self.per_article or 0.0, timeout / len(requests))
            def settle() -> None:
                for r in requests:
                    r.on_timeout(soft, timeout)
            self._gathered(settle)

        def returned(outcomes: Sequence[Outcome]) -> None:
            runtime = time.monotonic() - started[0]
            self.observe(runtime, len(requests))
            if len(outcomes) != len(requests):  # cannot happen; never ack what did not run
                outcomes = [Outcome.again("the batch returned no outcome for it")] \
                    * len(requests)

            def settle() -> None:
                for r, outcome in zip(requests, outcomes, strict=True):
                    acks.settle_request(r, outcome, runtime)
            self._gathered(settle)
            self.dispatch()

        def failed(einfo: Any) -> None:
            def settle() -> None:
                for r in requests:
                    r.on_failure(einfo)
            self._gathered(settle)
            self.dispatch()

        self.pool.apply_async(
            run_batch,
            args=([(r.id, r.hostname, r.args[0]) for r in requests],),
            accept_callback=accepted, timeout_callback=timed_out,
            callback=returned, error_callback=failed,
            soft_timeout=self.soft_limit, timeout=self.hard_limit,
            correlation_id=requests[0].id,
        )


def batching_strategy(task: Any, app: Any, consumer: Any, **kwargs: Any) -> Any:
    """The execution strategy of ``copydesk.process``: Celery's default, batching at the end
    when ``worker.batch_size`` is above 1 and the pool is prefork."""
    w = app.context.settings.worker
    single = consumer.on_task_request
    if w.batch_size <= 1 or not hasattr(consumer.pool, "apply_async") or \
            type(consumer.pool).__module__ != "celery.concurrency.prefork":
        return default_strategy(task, app, consumer, **kwargs)
    batcher = Batcher(consumer.pool, consumer.timer, single, w.batch_size, w.batch_wait,
                      task.soft_time_limit or w.soft_time_limit, task.time_limit or w.time_limit,
                      processes=getattr(consumer.pool, "limit", None) or 1)
    app.context.holder = batcher  # a retry gives back what waits (acks.LeaseRequest)
    log.info("batching", batch_size=w.batch_size, batch_wait=w.batch_wait)
    return default_strategy(task, app, _ConsumerView(consumer, batcher.add), **kwargs)


# -- pool process: running a batch ---------------------------------------------------


def run_batch(items: list[tuple[str, str, Any]]) -> list[Outcome]:
    """Run a batch of ``(task id, node, article)`` in this pool process, through the
    lifecycle of a single task, against the worker context (the app's: a batch job is sent
    to the pool as a plain function, so it takes Celery's current app); one outcome each."""
    context = current_app.context
    return lifecycle.run(context, [lifecycle.Job(*item) for item in items])
