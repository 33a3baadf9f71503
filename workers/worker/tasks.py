"""The ``copydesk.process`` and ``copydesk.reprocess`` tasks.

``copydesk.process`` takes one argument, the submitted-article JSON object, and runs it
through the article lifecycle (``workers.worker.lifecycle``) as a batch of one; a batching
worker's main process groups such messages and sends each group to a pool process as one
job (``workers.worker.batching``), which runs the same lifecycle. Either way the outcome is
settled by the ack policy (``workers.worker.acks``).

The tasks are registered on the app with the worker context they run against (``register``),
so each task reaches the store and the pipeline through it, never through module state.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from copydesk.workers.queue.protocol import REPROCESS_TASK_NAME, TASK_NAME
from copydesk.workers.worker import acks, lifecycle
from copydesk.workers.worker.context import WorkerContext
from copydesk.workers.worker.reprocess import reprocess_stored


class ProcessTask(Task):
    """Task class of ``copydesk.process``: the ack policy's options, a lease-aware request,
    and batches of queued articles per pool process (``worker.batch_size``)."""

    Request = "copydesk.workers.worker.acks:LeaseRequest"
    Strategy = "copydesk.workers.worker.batching:batching_strategy"
    acks_late = acks.TASK_OPTIONS["acks_late"]
    reject_on_worker_lost = acks.TASK_OPTIONS["reject_on_worker_lost"]
    acks_on_timeout = acks.TASK_OPTIONS["acks_on_timeout"]
    ignore_result = acks.TASK_OPTIONS["ignore_result"]
    typing = acks.TASK_OPTIONS["typing"]


class ReprocessTask(Task):
    """Task class of ``copydesk.reprocess``: the same ack policy (a retry is harmless: the
    replacement checks the record's revision)."""

    acks_late = acks.TASK_OPTIONS["acks_late"]
    reject_on_worker_lost = acks.TASK_OPTIONS["reject_on_worker_lost"]
    ignore_result = acks.TASK_OPTIONS["ignore_result"]
    typing = acks.TASK_OPTIONS["typing"]


def node_of(task: Task) -> str:
    return str(task.request.hostname or "copydesk@unknown")


def register(app: Celery, context: WorkerContext) -> Any:
    """Register ``copydesk.process`` and ``copydesk.reprocess`` on ``app``, running against
    ``context``."""

    @app.task(name=TASK_NAME, bind=True, base=ProcessTask)
    def process(self: Task, article: Any) -> dict[str, Any]:
        job = lifecycle.Job(str(self.request.id), node_of(self), article)
        [outcome] = lifecycle.run(context, [job])
        return acks.settle(outcome)

    @app.task(name=REPROCESS_TASK_NAME, bind=True, base=ReprocessTask)
    def reprocess(self: Task, ref: Any) -> dict[str, Any]:
        try:
            return reprocess_stored(ref, context.store, context.pipeline, node_of(self))
        finally:
            context.flush_metrics()

    return process
