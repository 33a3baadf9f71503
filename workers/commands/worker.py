"""``copydesk worker``: start a Celery worker for copydesk (Celery is imported when it runs)."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click
from copydesk.workers.commands.common import (
    redact,
    refuse_broken_plugins,
    refuse_evicting_redis,
)


def register_commands(cli: click.Group) -> None:
    """Add these commands to ``copydesk``."""

    @cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    @click.option("-Q", "--queue", default=None, help="Queue to consume (default: worker.queue).")
    @click.option("--queues", "queues", multiple=True, metavar="NAME[,NAME]",
                  help="Routed queues to serve (pipeline.routes): the worker loads and runs "
                  "only the stages routed to them. Repeat or comma-separate.")
    @click.option("-c", "--concurrency", type=int, default=None,
                  help="Pool processes (default: worker.concurrency, else CPU count).")
    @click.option("-n", "--hostname", default=None,
                  help="Node name, unique per worker (default: copydesk.PID@HOST).")
    @click.option("--pool", default="prefork", show_default=True,
                  help="Celery pool: prefork, solo, threads.")
    @click.option("--worker-log-format", "log_format", type=click.Choice(["console", "json"]),
                  default=None, help="Worker log lines (default: the --log-format setting; "
                  "auto = json when not a terminal).")
    @click.option("-l", "--loglevel", default="INFO", show_default=True)
    @click.option("--show-config", is_flag=True, help="Print the Celery configuration and exit.")
    @click.option("--allow-eviction", is_flag=True, default=None,
                  help="Start even if Redis's maxmemory-policy may evict queued articles "
                  "(allkeys-*); default: refuse (worker.allow_eviction).")
    @click.option("--allow-broken-plugins", is_flag=True, default=None,
                  help="Start even if an installed plugin fails to load (its stages would be "
                  "missing from every Document); default: refuse, naming it "
                  "(worker.allow_broken_plugins).")
    @click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
    @click.pass_obj
    def worker(state: Any, queue: str | None, queues: tuple[str, ...],
               concurrency: int | None, hostname: str | None,
               pool: str, log_format: str | None, loglevel: str, show_config: bool,
               allow_eviction: bool | None, allow_broken_plugins: bool | None,
               celery_args: tuple[str, ...]) -> None:
        """Start a Celery worker for copydesk; any other Celery worker option passes through."""
        from copydesk.nlp import ModelNotInstalled
        from copydesk.workers.worker import app as app_module
        from copydesk.workers.worker.context import WorkerContext
        from copydesk.workers.worker.routing import RoutingError, served_queues

        settings = state.settings
        if queue:
            settings.worker.queue = queue
        if queues:
            settings.worker.queues = [q.strip() for part in queues for q in part.split(",")
                                      if q.strip()]
        if concurrency:
            settings.worker.concurrency = concurrency
        if show_config:
            config = app_module.celery_config(settings)
            config["task_queues"] = [q.name for q in config["task_queues"]]
            config["broker_url"] = redact(config["broker_url"])
            click.echo(json.dumps(config, indent=2, default=str))
            return
        fmt = log_format or (settings.log_format if settings.log_format != "auto"
                             else "console" if sys.stderr.isatty() else "json")
        from copydesk.logs import configure_logging

        configure_logging(fmt, loglevel)
        if allow_broken_plugins:
            settings.worker.allow_broken_plugins = True
        refuse_broken_plugins(state.plugins, settings)
        if allow_eviction:
            settings.worker.allow_eviction = True
        refuse_evicting_redis(settings, "the worker")
        pipeline = state.pipeline()  # a build error stops here, with its message
        try:
            context = WorkerContext.build(settings, pipeline, log_format=fmt)
        except RoutingError as exc:
            raise click.ClickException(str(exc)) from None
        if settings.worker.queues and context.routing is None:
            raise click.ClickException(
                "--queues serves routed stages, but pipeline.routes is empty: route a stage "
                "first (e.g. [pipeline.routes] summary = \"heavy\"), or use -Q to rename "
                "the one queue")
        if settings.worker.preload and pool == "prefork":
            try:  # before the pool forks, so the processes share the models
                context.load_models()
            except ModelNotInstalled as exc:
                raise click.ClickException(str(exc)) from None
        app = app_module.create_app(context)
        argv = ["worker", "-Q", ",".join(served_queues(settings)), "--pool", pool, "-l", loglevel,
                "-n", hostname or f"copydesk.{os.getpid()}@%h",
                "--prefetch-multiplier", str(app_module.prefetch_multiplier(settings))]
        if settings.worker.concurrency:
            argv += ["-c", str(settings.worker.concurrency)]
        argv += list(celery_args)
        app.worker_main(argv)
