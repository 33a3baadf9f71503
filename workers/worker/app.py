"""The Celery application of copydesk: configured from ``Settings``, built around the worker
context (``create_app``), which it carries as ``app.context``.

Reliability defaults (docs/queue.md explains each; the ack policy is ``workers.worker.acks``):

* Every message popped off the queue is checked before kombu or Celery parse it
  (``workers.worker.intake`` through ``workers.worker.transport``): one that is not a well-formed
  ``copydesk.process`` message (not JSON, not an envelope, a body that is not base64, a
  content type other than JSON, which includes pickle, YAML and msgpack, an unknown
  task, wrong arguments, bad headers) is rejected, kept with its reason in ``P:rejected``,
  counted, and recorded under its article id when one can be read; the worker goes on.
* Late acknowledgement, and a message whose worker process died is re-queued
  (``acks_late``, ``reject_on_worker_lost``), so a crash loses nothing.
* Prefetch 1: a worker reserves no more messages than it has processes.
* A soft and a hard time limit per article; the Redis visibility timeout is longer than the
  hard limit, and the worker's heartbeat re-stamps the messages it holds, so a message is only
  handed to another worker when its holder stopped renewing it (it died), never because it
  is slow or waited behind another article.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from celery import Celery, signals
from copydesk.settings import Settings
from copydesk.workers.queue.connection import broker_transport_options, broker_url
from copydesk.workers.queue.keys import keys_for
from copydesk.workers.queue.protocol import TASK_NAME
from copydesk.workers.worker import acks, tasks
from copydesk.workers.worker.context import WorkerContext
from kombu import Exchange, Queue


class CopydeskCelery(Celery):
    """The Celery app of a copydesk worker, with its worker context."""

    context: WorkerContext


def broker_transport(settings: Settings) -> str:
    """The kombu transport class: ``workers.worker.transport``'s, Sentinel-aware when configured."""
    name = "SentinelTransport" if settings.sentinel.hosts else "Transport"
    return f"copydesk.workers.worker.transport:{name}"


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery configuration for ``settings`` (also printed by ``copydesk worker --show``)."""
    w = settings.worker
    keys = keys_for(settings)
    return {
        "broker_url": broker_url(settings),
        # kombu's Redis (or Sentinel) transport, plus the intake check of every popped
        # message (workers.worker.intake): a malformed message is rejected and recorded, never fatal
        "broker_transport": broker_transport(settings),
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,
        "broker_transport_options": {
            "visibility_timeout": int(w.visibility_timeout),
            "unacked_key": keys.unacked,
            "unacked_index_key": keys.unacked_index,
            "unacked_mutex_key": keys.unacked_mutex,
            "unacked_mutex_expire": max(5, int(w.restore_interval * 3)),
            "unacked_restore_interval": max(1, int(w.restore_interval)),
            "unacked_restore_throttle": 1,
            "socket_keepalive": True,
            "health_check_interval": 25,
            **broker_transport_options(settings),
        },
        "task_serializer": "json",
        "result_serializer": "json",
        "event_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "task_ignore_result": True,
        "task_store_errors_even_if_ignored": False,
        **acks.celery_settings(),
        "task_soft_time_limit": w.soft_time_limit,
        "task_time_limit": w.time_limit,
        "task_default_queue": w.queue,
        "task_queues": [Queue(q, Exchange(q), routing_key=q) for q in _queue_names(settings)],
        "task_routes": {TASK_NAME: {"queue": w.queue}},
        "worker_prefetch_multiplier": prefetch_multiplier(settings),
        "worker_send_task_events": False,
        "worker_enable_remote_control": True,
        "worker_hijack_root_logger": True,
        "worker_redirect_stdouts": False,
        "enable_utc": True,
    }


def prefetch_multiplier(settings: Settings) -> int:
    """Messages a worker reserves per pool process: with batching, two batches' worth, so
    the next batch is already reserved when one returns (else the process idles while it
    is fetched message by message)."""
    w = settings.worker
    return max(w.prefetch_multiplier, 2 * w.batch_size if w.batch_size > 1 else 1)


def _queue_names(settings: Settings) -> list[str]:
    """The default queue, the ones this worker serves and every routed one."""
    names = [settings.worker.queue, *settings.worker.queues,
             *settings.pipeline.routes.values()]
    return list(dict.fromkeys(names))


def create_app(context: WorkerContext) -> CopydeskCelery:
    """The Celery app of a worker running against ``context``: configured from its settings,
    with the copydesk tasks, and the process signals (pool process started, worker ready,
    shutdown, log setup) connected to the context."""
    app = CopydeskCelery("copydesk", set_as_current=True)
    app.context = context
    app.conf.update(celery_config(context.settings))
    tasks.register(app, context)
    uid = f"copydesk-{id(context)}"

    def pool_process_started(**_: Any) -> None:
        context.after_fork()

    def worker_ready(sender: Any = None, **_: Any) -> None:
        node = getattr(sender, "hostname", None) or "copydesk@unknown"
        pool = getattr(getattr(sender, "controller", None), "pool", None)
        context.start(node, getattr(pool, "limit", None) or context.settings.worker.concurrency)

    def worker_shutdown(**_: Any) -> None:
        context.stop()

    def json_logs(logger: logging.Logger | None = None, **_: Any) -> None:
        if context.log_format != "json" or logger is None:
            return
        for handler in logger.handlers:
            handler.setFormatter(JsonLogFormatter())

    signals.worker_process_init.connect(pool_process_started, weak=False, dispatch_uid=uid)
    signals.worker_ready.connect(worker_ready, weak=False, dispatch_uid=uid)
    signals.worker_shutdown.connect(worker_shutdown, weak=False, dispatch_uid=uid)
    signals.after_setup_logger.connect(json_logs, weak=False, dispatch_uid=uid)
    signals.after_setup_task_logger.connect(json_logs, weak=False, dispatch_uid=uid)
    return app


class JsonLogFormatter(logging.Formatter):
    """One JSON object per log line, for log shippers (``copydesk worker --log-format json``)."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "timestamp": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "process": record.processName,
            "event": record.getMessage(),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)
