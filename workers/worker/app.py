"""The Celery application of copydesk, configured from ``core.Settings``.

Reliability defaults (docs/queue.md explains each):

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
from copydesk.settings import Settings, load_settings
from copydesk.workers.queue.connection import broker_transport_options, broker_url
from copydesk.workers.queue.keys import keys_for
from copydesk.workers.queue.protocol import TASK_NAME
from kombu import Exchange, Queue

_app: Celery | None = None
_settings: Settings | None = None


def configure(settings: Settings) -> None:
    """Use these settings for the app (call before ``get_app``; the CLI does)."""
    global _settings, _app
    _settings = settings
    _app = None


def current_settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings


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
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_timeout": False,
        "task_acks_on_failure": True,
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
        # a Redis blip must not kill running articles: their results are written with
        # retries, and the claim in the store keeps a re-delivered copy from running twice
        "worker_cancel_long_running_tasks_on_connection_loss": False,
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


def get_app() -> Celery:
    """The Celery app for the current settings, with the ``copydesk.process`` task."""
    global _app
    if _app is None:
        settings = current_settings()
        app = Celery("copydesk", set_as_current=True)
        app.conf.update(celery_config(settings))
        from copydesk.workers.worker import tasks

        tasks.register(app)
        _app = app
    return _app


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


_log_format = "console"


def set_log_format(fmt: str) -> None:
    global _log_format
    _log_format = fmt


@signals.after_setup_logger.connect
def _json_logs(logger: logging.Logger | None = None, **_: Any) -> None:
    if _log_format != "json" or logger is None:
        return
    for handler in logger.handlers:
        handler.setFormatter(JsonLogFormatter())


@signals.after_setup_task_logger.connect
def _json_task_logs(logger: logging.Logger | None = None, **_: Any) -> None:
    _json_logs(logger=logger)
