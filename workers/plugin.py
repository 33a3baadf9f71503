"""The queue plugin: its commands on the ``copydesk`` command line (``worker``, ``submit``,
``status``, ``result``, ``queue``, ``resubmit-dead``, ``serve``, ``sink``, ``reprocess
--stored``; one module each under ``copydesk.workers.commands``) and the shared state on the
queue's Redis.

Only this module and the command modules are imported when the CLI starts; Celery when
``worker`` runs, FastAPI when ``serve`` does.
"""

from __future__ import annotations

from typing import Any

import click
from copydesk import hookimpl
from copydesk.workers.commands import reprocess, serve, sink, status, submit, worker

#: The modules of the queue's commands, each with ``register_commands(cli)``.
COMMANDS = (worker, submit, status, serve, sink)


@hookimpl
def register_commands(cli: click.Group) -> None:
    """Add the queue commands to ``copydesk``."""
    for module in COMMANDS:
        module.register_commands(cli)


@hookimpl
def reprocess_stored(state: Any, status: str, limit: int | None, dry_run: bool,
                     as_json: bool) -> bool:
    """``copydesk reprocess --stored``: through the workers (``commands.reprocess``)."""
    reprocess.reprocess_stored(state, status, limit, dry_run, as_json)
    return True


@hookimpl
def shared_state(settings: Any) -> Any:
    """The Redis backend of the shared state, on the queue's Redis (``copydesk.state``)."""
    from copydesk.workers.queue.connection import sync_client
    from copydesk.workers.queue.redis_state import RedisState

    return RedisState(sync_client(settings, retries=3), settings.worker.key_prefix)
