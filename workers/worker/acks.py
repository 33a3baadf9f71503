"""The ack policy: when a message is acknowledged, and when it goes back on the queue.

Every decision about a message's fate is made here; the rest of the worker reports what
happened to an article (an ``Outcome``) and this module turns it into Celery's terms.

Why (docs/queue.md, "Reliability defaults"):

* **Late acknowledgement** (``acks_late``): a message is acknowledged only after its article
  is written to the store (``done`` or ``failed``), so a worker that dies mid-article
  loses nothing: the message is still in kombu's unacked hash and comes back.
* **A lost pool process re-queues** (``reject_on_worker_lost``): a crash, the OOM killer or
  the hard time limit kills the process; the main process gives the article back in the
  store at once (``LeaseRequest``: the record says why, the attempt counts) and the message
  goes to the head of the queue, so the retry starts immediately. After ``max_retries``
  the next delivery parks the article in the dead-letter list (the store's claim decides).
* **Not acknowledged on a hard timeout** (``acks_on_timeout`` off): the message is re-queued
  and the attempt counted, as for a lost process.
* **Acknowledged on failure** (``acks_on_failure``): an article the pipeline failed is
  written ``failed`` with its reason; running it again would fail again.
* **Given back, not failed** (``Outcome.again``): a soft time limit (the run ends; the
  record is released with the reason, the message re-queued and retried, alone when it was
  in a batch), Redis unreachable after the store's own retries (the article must not be
  lost with the connection), and an article of a batch that stopped early.
* **A Redis blip does not cancel running articles**
  (``worker_cancel_long_running_tasks_on_connection_loss`` off): their results are
  written with retries, and the claim keeps a redelivered copy from running twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from billiard.einfo import ExceptionInfo
from celery.exceptions import Reject, WorkerLostError
from celery.worker.request import Request
from copydesk.logs import get_logger
from copydesk.workers.worker.lease import article_id_of
from copydesk.workers.worker.lost import lost_reason, oom_kills
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = get_logger("copydesk.acks")

#: Errors that mean Redis is unreachable (after the store's retries), or full for longer
#: than a pool process waits (``workers.worker.pause``): give the article back.
REDIS_UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OutOfMemoryError)

#: The options of copydesk's task classes (``copydesk.process``, ``copydesk.reprocess``).
TASK_OPTIONS: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "acks_on_timeout": False,
    "ignore_result": True,
    "typing": False,
}


def celery_settings() -> dict[str, Any]:
    """The acknowledgement part of the Celery configuration (``app.celery_config``)."""
    return {
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_timeout": False,
        "task_acks_on_failure": True,
        "worker_cancel_long_running_tasks_on_connection_loss": False,
    }


@dataclass(frozen=True)
class Outcome:
    """What becomes of one message: acknowledged with a result, or given back (re-queued)
    with a reason. Plain data, so a batch's outcomes cross from a pool process."""

    result: dict[str, Any] | None = None
    requeue: str | None = None

    @classmethod
    def done(cls, result: dict[str, Any]) -> Outcome:
        return cls(result=result)

    @classmethod
    def again(cls, reason: str) -> Outcome:
        return cls(requeue=reason)


def store_unavailable(exc: BaseException) -> Outcome:
    """The outcome of an article whose store write failed because Redis is unreachable."""
    log.error("Redis unavailable; message re-queued", error=f"{type(exc).__name__}: {exc}")
    return Outcome.again(f"Redis unavailable: {exc}")


def settle(outcome: Outcome) -> dict[str, Any]:
    """A single task's end: its result (acknowledged), or ``Reject`` to re-queue it."""
    if outcome.requeue is not None:
        raise Reject(outcome.requeue, requeue=True)
    return outcome.result or {}


def settle_request(request: Any, outcome: Outcome, runtime: float) -> None:
    """A batched request's end, as Celery would settle it had it run alone."""
    if outcome.requeue is None:
        request.on_success((False, outcome.result or {}, runtime))
    else:
        request.on_failure(_reject_info(outcome.requeue))


def _reject_info(reason: str) -> ExceptionInfo:
    """The failure Celery reports for a task that raised ``Reject(requeue=True)``."""
    try:
        raise Reject(reason, requeue=True)
    except Reject:
        return ExceptionInfo()


class ReservedHolder(Protocol):
    """Where a worker keeps the requests it reserved and has not started yet (the batcher,
    ``workers.worker.batching``)."""

    def requeue(self, request: Any) -> None:
        """Give ``request`` back at the head of the queue, with every request that has not
        started behind it."""

    def job_done(self, request: Any = None) -> None:
        """``request`` ended: send on what waits, if a pool process is free."""


def _holder(app: Any) -> ReservedHolder | None:
    holder: ReservedHolder | None = getattr(getattr(app, "context", None), "holder", None)
    return holder


class LeaseRequest(Request):
    """Celery's request, plus: give the article back when its pool process is lost or hits
    the hard time limit, so the re-queued message is taken over at once (with the reason).
    The store is the worker context's (on the app, ``app.context``)."""

    def on_failure(self, exc_info: Any, send_failed_event: bool = True,
                   return_ok: bool = False) -> Any:
        exc = getattr(exc_info.exception, "exc", exc_info.exception)
        if isinstance(exc, WorkerLostError | SystemExit | KeyboardInterrupt):
            context = getattr(self.app, "context", None)
            at_start = getattr(context, "oom_kills_at_start", None)
            self._give_back(lost_reason(str(exc), at_start, oom_kills()))
        try:
            return super().on_failure(exc_info, send_failed_event=send_failed_event,
                                      return_ok=return_ok)
        finally:
            self._done()

    def on_timeout(self, soft: bool, timeout: float) -> None:
        if not soft:
            self._give_back(f"hard time limit of {timeout}s exceeded")
        super().on_timeout(soft, timeout)

    def reject(self, requeue: bool = False) -> None:
        """Re-queued at the head of the queue (``transport.HeadFirstQoS``): what this worker
        reserved and has not started goes back first, so this retry lands on top of it and
        runs before the articles that were queued behind it."""
        holder = _holder(self.app)
        if requeue and not self.acknowledged and holder is not None:
            holder.requeue(self)
        else:
            super().reject(requeue=requeue)
        self._done()

    def acknowledge(self) -> None:
        super().acknowledge()
        self._done()

    def _done(self) -> None:
        holder = _holder(self.app)
        if holder is not None:
            holder.job_done(self)

    def _give_back(self, reason: str) -> None:
        store = getattr(getattr(self.app, "context", None), "store", None)
        article_id = article_id_of(self.args)
        if store is None or article_id is None:
            return
        try:
            if store.release(article_id, self.id, reason):
                log.warning("article given back", document_id=article_id, reason=reason)
        except Exception as exc:
            log.error("could not give the article back; its lease will lapse instead",
                      document_id=article_id, error=f"{type(exc).__name__}: {exc}")
