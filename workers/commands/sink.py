"""``copydesk sink NAME``: a consumer that writes finished Documents from the queue's outbox
to one sink (``workers.queue.drain``). Run any number, on any host: they share the sink's
consumer group."""

from __future__ import annotations

import os
import signal
import socket
from typing import Any

import click
from copydesk.workers.commands.common import err_console, queue_errors


def register_commands(cli: click.Group) -> None:
    """Add ``sink`` to ``copydesk``."""

    @cli.command()
    @click.argument("name")
    @click.option("--batch-size", type=click.IntRange(1, 100_000), default=None,
                  help="Most Documents per write (default: the sink's batch_size).")
    @click.option("--consumer", default=None,
                  help="This consumer's name in the sink's group (default: HOST:PID).")
    @click.option("--until-empty", is_flag=True,
                  help="Exit once the sink's backlog is written (a backfill, a test).")
    @click.pass_obj
    def sink(state: Any, name: str, batch_size: int | None, consumer: str | None,
             until_empty: bool) -> None:
        """Write finished Documents from the queue to the sink NAME ([sinks.NAME]), in
        batches, acknowledging each batch once the sink committed it."""
        from copydesk.sinks import (
            SinkSetupError,
            SinkUnavailable,
            build_sink,
            configured_names,
        )
        from copydesk.workers.queue.client import QueueUnavailable
        from copydesk.workers.queue.drain import Drain
        from copydesk.workers.queue.outbox import Outbox
        from copydesk.workers.queue.store import Store
        from copydesk.workers.queue.window import Window

        settings = state.settings
        try:
            target = build_sink(name, settings, state.plugins)
            target.open()
        except (SinkSetupError, SinkUnavailable) as exc:
            raise click.ClickException(str(exc)) from None
        try:
            with queue_errors():
                store = Store.from_settings(settings)
                try:
                    store.r.ping()
                except Exception as exc:
                    raise QueueUnavailable(f"cannot reach Redis at {settings.redis_url} "
                                           f"(setting redis_url): {exc}") from None
            outbox = Outbox(store.r, store.keys, name,
                            consumer or f"{socket.gethostname()}:{os.getpid()}",
                            settings.sinks.claim_after)
            outbox.ensure_group()
            window = Window(store.r, store.keys, settings.queue)
            sinks = configured_names(settings)

            def committed(ids: list[str]) -> None:
                window.mark_archived(ids, name, sinks, settings.sinks.keep_in_redis)
                window.make_room()

            drain = Drain(target, store, outbox, batch_size or target.config.batch_size,
                          committed=committed)
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: drain.stop())
            err_console.print(f"sink {name!r}: consumer {outbox.consumer} started",
                              highlight=False)
            stats = drain.run(until_empty=until_empty)
        finally:
            target.close()
        err_console.print(f"sink {name!r}: wrote {stats.written} document(s) in "
                          f"{stats.batches} batch(es); {stats.dead} dead-lettered",
                          highlight=False)
