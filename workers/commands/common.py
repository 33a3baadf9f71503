"""What the queue's commands share: the client, one-line errors for an unreachable Redis,
progress over many articles, and the start-up refusals (broken plugins, an evicting Redis)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

err_console = Console(stderr=True, soft_wrap=True)  # a message is one line, however long


def client_for(state: Any) -> Any:
    from copydesk.workers.queue.client import Client

    return Client(state.settings)


@contextmanager
def queue_errors() -> Iterator[None]:
    """Report an unreachable Redis as a one-line command error, not a traceback."""
    from copydesk.workers.queue.client import QueueUnavailable

    try:
        yield
    except QueueUnavailable as exc:
        raise click.ClickException(str(exc)) from None


def utc_time(ts: float | None) -> str:
    if not ts:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def refuse_broken_plugins(plugins: Any, settings: Any) -> None:
    """Stop a worker from starting when an installed plugin fails to load or declares a
    malformed stage, naming each one, unless ``worker.allow_broken_plugins``: a worker
    without a plugin silently writes Documents without its layer."""
    plugins.stages()  # a malformed stage declaration marks its plugin broken
    broken = list(plugins.broken)
    if not broken:
        return
    listed = "; ".join(f"plugin {b.name!r}: {b.error}" for b in broken)
    if settings.worker.allow_broken_plugins:
        err_console.print(f"[yellow]starting with broken plugins[/yellow] ({escape(listed)})",
                          highlight=False)
        return
    raise click.ClickException(
        f"refusing to start: {listed}. A worker without them would write Documents without "
        "their stages; fix or uninstall them, or start with --allow-broken-plugins "
        "(COPYDESK_WORKER__ALLOW_BROKEN_PLUGINS=1)")


def refuse_evicting_redis(settings: Any, what: str) -> None:
    """Stop with a one-line error if Redis may evict queued articles
    (``workers.queue.eviction``)."""
    from copydesk.workers.queue.connection import sync_client
    from copydesk.workers.queue.eviction import EvictionRisk, check_eviction_policy

    client = sync_client(settings, retries=1, connect_timeout=3.0)
    try:
        check_eviction_policy(client, settings.worker.allow_eviction, what)
    except EvictionRisk as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        client.close()


def redact(url: str) -> str:
    from copydesk.workers.queue.connection import redact_url

    return redact_url(url)

