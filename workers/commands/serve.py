"""The ``copydesk serve`` command: run the HTTP gateway (``workers.gateway.app``) under uvicorn.

Added to the command line by the queue plugin's ``register_commands`` hook
(``copydesk.workers.plugin``). FastAPI and
uvicorn are imported only when the command runs, so the CLI starts fast.
"""

from __future__ import annotations

import json
from typing import Any

import click
from pydantic import SecretStr
from rich.console import Console

err_console = Console(stderr=True, soft_wrap=True)  # a message is one line, however long


def bind_address(host: str | None, has_tokens: bool) -> tuple[str, str | None]:
    """The address to bind, and a notice to print when it differs from what was asked.

    Without a token the gateway accepts anyone who can reach it, so it binds to loopback
    only, whatever was asked; with tokens it binds where asked (default: all interfaces).
    """
    from copydesk.workers.gateway.app import loopback

    if has_tokens:
        return host or "0.0.0.0", None
    if host and not loopback(host):
        return "127.0.0.1", (f"no token is configured, so the gateway binds to 127.0.0.1 "
                             f"(loopback) only, not {host}: set COPYDESK_GATEWAY__TOKENS "
                             "to accept other hosts")
    return host or "127.0.0.1", ("no token is configured: the gateway accepts requests "
                                 "from this machine only (loopback); set "
                                 "COPYDESK_GATEWAY__TOKENS to accept other hosts")


def register_commands(cli: click.Group) -> None:
    """Add ``copydesk serve`` to the top-level group."""

    @cli.command()
    @click.option("--host", default=None,
                  help="Address to bind (default: gateway.host, else 0.0.0.0 with tokens "
                  "and 127.0.0.1 without).")
    @click.option("--port", type=int, default=None, help="Port (default: gateway.port, 8080).")
    @click.option("--token", "tokens", multiple=True,
                  help="Accept this bearer token (repeatable; prefer COPYDESK_GATEWAY__TOKENS, "
                  "command lines are visible to other users).")
    @click.option("--openapi", "print_openapi", is_flag=True,
                  help="Print the OpenAPI document and exit.")
    @click.option("--access-log/--no-access-log", default=True, show_default=True)
    @click.option("--allow-eviction", is_flag=True, default=None,
                  help="Start even if Redis's maxmemory-policy may evict queued articles "
                  "(allkeys-*); default: refuse (worker.allow_eviction).")
    @click.pass_obj
    def serve(state: Any, host: str | None, port: int | None, tokens: tuple[str, ...],
              print_openapi: bool, access_log: bool, allow_eviction: bool | None) -> None:
        """HTTP gateway for other systems: submit articles, read Documents, follow events."""
        from copydesk.workers.gateway.app import create_app

        settings = state.settings
        if tokens:
            settings.gateway.tokens = [*settings.gateway.tokens, *map(SecretStr, tokens)]
        app = create_app(settings)
        if print_openapi:
            click.echo(json.dumps(app.openapi(), indent=2))
            return
        import uvicorn
        from copydesk.workers.commands.common import refuse_evicting_redis

        if allow_eviction:
            settings.worker.allow_eviction = True
        refuse_evicting_redis(settings, "the gateway")
        bind, notice = bind_address(host or settings.gateway.host,
                                    bool(settings.gateway.tokens))
        if notice:
            err_console.print(f"[yellow]{notice}[/yellow]", highlight=False)
        chosen = settings.gateway.port if port is None else port
        err_console.print(f"copydesk gateway on http://{bind}:{chosen} (queue "
                          f"{settings.worker.queue!r}); API docs at /docs (with the token)",
                          highlight=False)
        from copydesk.workers.gateway.connections import (
            ConnectionGuard,
            GatewayServer,
            guarded_protocol,
        )

        guard = ConnectionGuard(settings.gateway.header_timeout,
                                settings.gateway.max_idle_connections)
        config = uvicorn.Config(
            app, host=bind, port=chosen, access_log=access_log,
            log_level=(settings.log_level or "info").lower(), proxy_headers=False,
            http=guarded_protocol(guard), timeout_graceful_shutdown=settings.gateway.shutdown_grace)
        GatewayServer(config, app.state.gateway, guard.refusals).run()
