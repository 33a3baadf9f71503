"""The worker context: everything one worker process works with, built once at its start.

``copydesk worker`` builds it in the main process (settings, the pipeline with its routing,
the store, the metrics hook) before Celery starts, and hangs it on the Celery app
(``app.context``, see ``workers.worker.app``). A pool process inherits it through the fork
and makes its own connections (``after_fork``); the main process starts the lease keeper
when the worker is ready (``start``) and makes the intake of popped messages on first use
(``intake_for``). Nothing else in the worker keeps process state: the tasks, the batch jobs,
the requests and the transport all reach it from the app.
"""

from __future__ import annotations

import gc
import os
import socket
from dataclasses import dataclass
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from copydesk.logs import get_logger
from copydesk.pipeline import Pipeline
from copydesk.plugin_manager import build_plugin_manager
from copydesk.settings import Settings
from copydesk.sinks import configured_names
from copydesk.state import SharedState
from copydesk.workers.queue.metrics import StageMetrics
from copydesk.workers.queue.reprocess import enqueue_revisits
from copydesk.workers.queue.store import Store
from copydesk.workers.worker.acks import ReservedHolder
from copydesk.workers.worker.intake import Intake
from copydesk.workers.worker.lease import LeaseKeeper, die_with_parent
from copydesk.workers.worker.lost import oom_kills
from copydesk.workers.worker.pause import PauseWhenFull, pausing_retry
from copydesk.workers.worker.progress import StageProgress
from copydesk.workers.worker.routing import Routing, routing_for

log = get_logger("copydesk.worker")


def pool_retry(settings: Settings) -> PauseWhenFull:
    """A pool process's store waits while Redis is full (``workers.worker.pause``), for at
    most half the soft time limit per write: past that the write fails and the article is
    given back (``acks.REDIS_UNAVAILABLE``), never left for the orphan sweep."""
    node = f"{socket.gethostname()}:{os.getpid()}"
    return pausing_retry(settings, node, max_pause=settings.worker.soft_time_limit / 2,
                         retries=8)


@dataclass
class WorkerContext:
    """One worker process's settings, pipeline, routing, store, lease keeper and intake."""

    settings: Settings
    pipeline: Pipeline
    #: the pipeline's segments and the queues this worker serves (``pipeline.routes``), or
    #: None: the whole pipeline runs in one task
    routing: Routing | None
    #: this process's store (a pool process makes its own after the fork)
    store: Store
    #: the cgroup's OOM-kill count when the worker started (``workers.worker.lost``)
    oom_kills_at_start: int | None = None
    #: the worker's log format (``console`` or ``json``), for Celery's own loggers
    log_format: str = "console"
    #: the heartbeat thread of the main process, once the worker is ready
    keeper: LeaseKeeper | None = None
    #: the check of every popped message (main process, on first use)
    intake: Intake | None = None
    #: the batcher holding reserved requests until a pool process is free (main process,
    #: with ``worker.batch_size`` above 1)
    holder: ReservedHolder | None = None
    #: the stage this process's run is in, published once it runs long (pool process)
    progress: StageProgress | None = None
    #: the stage-duration histograms' hook, holding a task's or batch's until it ends
    metrics: StageMetrics | None = None

    @classmethod
    def build(cls, settings: Settings, pipeline: Pipeline | None = None,
              log_format: str = "console") -> WorkerContext:
        """The context of a worker with ``settings``; ``RoutingError`` when this worker's
        queues do not fit the routes, ``PipelineError`` when the pipeline cannot be built."""
        if pipeline is None:
            pipeline = Pipeline.build(settings, build_plugin_manager(settings))
        # the soft time limit ends a run, single or batched, instead of failing one stage
        pipeline.interrupts = (SoftTimeLimitExceeded,)
        context = cls(settings, pipeline, routing_for(pipeline, settings),
                      Store.from_settings(settings, retries=8), oom_kills(),
                      log_format=log_format)
        share_state(pipeline, settings)
        pipeline.services.on_revisit = context.revisit
        if pipeline.plugins is not None:  # stage durations into the fleet's histograms
            context.metrics = StageMetrics(context.current_store)
            pipeline.plugins.add_observer(context.metrics, "copydesk-stage-metrics")
        return context

    def flush_metrics(self) -> None:
        """Send the stage durations of the documents finished since the last call."""
        if self.metrics is not None:
            self.metrics.flush()

    def stage_progress(self) -> StageProgress:
        """The stage progress of this process (``workers.worker.progress``)."""
        if self.progress is None:
            self.progress = StageProgress(lambda ids, stage: self.store.set_stage(ids, stage))
        return self.progress

    def current_store(self) -> Store:
        return self.store

    def revisit(self, article_ids: list[str], stage: str) -> None:
        """``services.revisit``: queue the finished Documents for ``stage`` to run again."""
        enqueue_revisits(self.store, article_ids, stage)
        log.info("documents queued to be revisited", stage=stage, documents=article_ids[:20],
                 count=len(article_ids))

    @property
    def serves(self) -> list[str]:
        """The stages this worker runs: all of them, or with routes those of its queues."""
        return self.routing.stages_served() if self.routing else self.pipeline.names

    def load_models(self) -> None:
        """Set up the stages this worker runs (in the main process before the pool forks,
        with ``worker.preload``, so the processes share the models; else in each one)."""
        self.pipeline.setup(only=self.serves)
        log.info("pipeline ready", stages=self.pipeline.names, pid=os.getpid(),
                 runs=self.serves)

    def after_fork(self) -> None:
        """In a new pool process: die with the parent, connections of its own, the models."""
        die_with_parent()
        self.store = Store.from_settings(self.settings, retries=8,
                                         retry=pool_retry(self.settings))
        share_state(self.pipeline, self.settings)
        self.load_models()
        # what the process holds now (models, Celery, the plugins) lives as long as it does:
        # the collector stops walking it (about 1% of the CPU an article in-process)
        gc.freeze()

    def start(self, node: str, concurrency: int | None) -> None:
        """In the main process, once the worker is ready: the lease keeper (heartbeat), the
        pipeline published for ``reprocess --stored``, the routed queues announced."""
        self.keeper = LeaseKeeper(self.store, node, self.settings, concurrency,
                                  self.plugin_versions())
        self.keeper.start()
        try:
            self.store.publish_pipeline(node, self.pipeline.spec.to_json())
        except Exception as exc:  # planning then says no worker published one
            log.warning("could not publish the pipeline", worker=node,
                        error=f"{type(exc).__name__}: {exc}")
        # a consumer group per configured sink on the outbox, before any finish
        self.store.prepare_outbox(configured_names(self.settings))
        if self.settings.pipeline.routes:
            self.store.announce_route_queues(self.settings.pipeline.routes.values())
        log.info("worker ready", worker=node, queue=self.settings.worker.queue)

    def stop(self) -> None:
        """In the main process, at shutdown: stop the heartbeat and leave the fleet."""
        keeper = self.keeper
        if keeper is None:
            return
        keeper.stop()
        try:
            keeper.store.worker_gone(keeper.node)
        except Exception as exc:
            log.warning("could not unregister the worker", error=str(exc))

    def plugin_versions(self) -> dict[str, str]:
        """The plugins this worker runs (name -> version), for its heartbeat."""
        manager = self.pipeline.plugins or build_plugin_manager(self.settings)
        return {name: info.version for name, info in manager.info.items()}

    def intake_for(self, task_names: list[str]) -> Intake:
        """The intake check of popped messages, made on first use (main process)."""
        if self.intake is None:
            worker = f"{socket.gethostname()}:{os.getpid()}"
            self.intake = Intake(Store.from_settings(self.settings, retries=3), task_names,
                                 worker)
        return self.intake


def share_state(pipeline: Pipeline, settings: Settings) -> None:
    """Give the pipeline's cross-article stages the state all workers share (Redis, from
    the ``shared_state`` hook), with a connection of this process's own."""
    plugins = pipeline.plugins or build_plugin_manager(settings)
    backend: Any = plugins.shared_state(settings)
    if backend is not None:
        pipeline.services.state = SharedState(backend)
