"""The queue plugin: contributes ``worker``, ``submit``, ``status``, ``result``, ``queue`` and
``resubmit-dead`` to the ``copydesk`` command line through the ``register_commands`` hook.

Only this module is imported when the CLI starts; Celery is imported when ``worker`` runs.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import click
from copydesk import hookimpl
from copydesk.document import Article
from copydesk.extra_fields import report_moved_fields
from copydesk.inputs import InputError, read_inputs
from copydesk.workers.queue.metrics import document_finished  # noqa: F401  (hook: stage duration histograms)
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

err_console = Console(stderr=True, soft_wrap=True)  # a message is one line, however long


def _client(state: Any) -> Any:
    from copydesk.workers.queue.client import Client

    return Client(state.settings)


@contextmanager
def _queue_errors() -> Iterator[None]:
    """Report an unreachable Redis as a one-line command error, not a traceback."""
    from copydesk.workers.queue.client import QueueUnavailable

    try:
        yield
    except QueueUnavailable as exc:
        raise click.ClickException(str(exc)) from None


def _when(ts: float | None) -> str:
    if not ts:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


@hookimpl
def register_commands(cli: click.Group) -> None:
    """Add the queue commands to ``copydesk``."""

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
        from copydesk.workers.worker import tasks
        from copydesk.workers.worker.routing import RoutingError, served_queues

        settings = state.settings
        if queue:
            settings.worker.queue = queue
        if queues:
            settings.worker.queues = [q.strip() for part in queues for q in part.split(",")
                                      if q.strip()]
        if concurrency:
            settings.worker.concurrency = concurrency
        app_module.configure(settings)
        if show_config:
            config = app_module.celery_config(settings)
            config["task_queues"] = [q.name for q in config["task_queues"]]
            config["broker_url"] = _redact(config["broker_url"])
            click.echo(json.dumps(config, indent=2, default=str))
            return
        fmt = log_format or (settings.log_format if settings.log_format != "auto"
                             else "console" if sys.stderr.isatty() else "json")
        app_module.set_log_format(fmt)
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
            routing = tasks.routing_for(pipeline, settings)
        except RoutingError as exc:
            raise click.ClickException(str(exc)) from None
        if settings.worker.queues and routing is None:
            raise click.ClickException(
                "--queues serves routed stages, but pipeline.routes is empty: route a stage "
                "first (e.g. [pipeline.routes] summary = \"heavy\"), or use -Q to rename "
                "the one queue")
        if settings.worker.preload and pool == "prefork":
            try:
                tasks.preload(pipeline)
            except ModelNotInstalled as exc:
                raise click.ClickException(str(exc)) from None
        app = app_module.get_app()
        argv = ["worker", "-Q", ",".join(served_queues(settings)), "--pool", pool, "-l", loglevel,
                "-n", hostname or f"copydesk.{os.getpid()}@%h",
                "--prefetch-multiplier", str(app_module.prefetch_multiplier(settings))]
        if settings.worker.concurrency:
            argv += ["-c", str(settings.worker.concurrency)]
        argv += list(celery_args)
        app.worker_main(argv)

    @cli.command()
    @click.argument("files", nargs=-1, required=True)
    @click.option("--force", is_flag=True, help="Process again even if already done.")
    @click.option("--wait", "wait_", is_flag=True, help="Wait until they are finished.")
    @click.option("--timeout", type=float, default=None, help="Seconds to wait at most.")
    @click.pass_obj
    def submit(state: Any, files: tuple[str, ...], force: bool, wait_: bool,
               timeout: float | None) -> None:
        """Enqueue articles (.txt, .html, .json, .jsonl or - for stdin); print their ids."""
        items = list(read_inputs(list(files), state.settings.article_rules()))
        errors = [i for i in items if isinstance(i, InputError)]
        articles = [i for i in items if isinstance(i, Article)]
        report_moved_fields(articles, "submit", err_console)
        for error in errors:
            err_console.print(f"[red]refused[/red] {error}", highlight=False)
        client = _client(state)
        results = []
        with _queue_errors():
            for chunk in _progress(articles, "submitting"):
                results.extend(client.submit_many(chunk, force=force))
        ids = []
        for result in results:
            if result.outcome == "invalid":
                err_console.print(f"[red]refused[/red] {result.id or ''}: {result.error}",
                                  highlight=False)
                continue
            ids.append(result.id)
            click.echo(result.id)
            if result.outcome == "duplicate":
                err_console.print(f"[yellow]not queued again[/yellow] {result.id}: already "
                                  f"{result.status} (use --force to process it again)",
                                  highlight=False)
        queued = sum(1 for r in results if r.outcome == "queued")
        err_console.print(f"queued {queued} article(s) on {state.settings.worker.queue!r}",
                          highlight=False)
        if wait_ and ids:
            with _queue_errors():
                final = client.wait(ids, timeout=timeout)
            unfinished = [i for i, s in final.items() if not (s and s.finished)]
            failed = [i for i, s in final.items() if s and s.status == "failed"]
            err_console.print(f"finished {len(ids) - len(unfinished)}, failed {len(failed)}",
                              highlight=False)
            if unfinished or failed:
                sys.exit(1)
        if errors or any(r.outcome == "invalid" for r in results):
            sys.exit(1)

    @cli.command()
    @click.argument("ids", nargs=-1)
    @click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
    @click.option("-n", "--recent", "recent", type=click.IntRange(1, 10_000), default=20,
                  show_default=True, help="Without ids: how many recent articles to list.")
    @click.pass_obj
    def status(state: Any, ids: tuple[str, ...], as_json: bool, recent: int) -> None:
        """Show the status of articles in the queue's result store (without ids: the most
        recently changed ones, newest first)."""
        with _queue_errors():
            if ids:
                found = _client(state).statuses(list(ids))
            else:
                listed = _client(state).recent(recent)
                found = {item.id: item for item in listed}
                ids = tuple(found)
                if not ids:
                    err_console.print("no articles in the result store yet (submit one with "
                                      "`copydesk submit`)", highlight=False)
                    return
        missing = False
        if as_json:
            for article_id in ids:
                item = found.get(article_id)
                missing |= item is None
                click.echo(json.dumps(item.to_dict() if item else
                                      {"id": article_id, "status": "unknown"}))
        else:
            routed = any(v is not None and v.segment for v in found.values())
            columns = ["id", "status", *(["segment"] if routed else []), "stage", "attempts",
                       "worker", "finished (UTC)"]
            table = Table(*columns)
            errors = []
            traces: list[tuple[str, str]] = []
            for article_id in ids:
                item = found.get(article_id)
                if item is None:
                    missing = True
                    table.add_row(article_id, "unknown", *[""] * (len(columns) - 2))
                    continue
                segment = [item.segment or ""] if routed else []
                table.add_row(item.id, item.status, *segment, item.stage or "",
                              str(item.attempts), item.worker or "", _when(item.finished_at))
                if item.error:
                    errors.append(f"{item.id}: {item.error}")
                if item.traceback:
                    traces.append((item.id, item.traceback))
            console = Console()
            console.print(table)
            for line in errors:
                console.print(line, highlight=False, soft_wrap=True)
            for article_id, trace in traces:
                console.print(f"[b]{article_id}[/b]: traceback of the stages that raised",
                              highlight=False)
                console.out(trace.rstrip("\n"), highlight=False)
        if missing:
            sys.exit(1)

    @cli.command()
    @click.argument("ids", nargs=-1, required=True)
    @click.option("--wait", "wait_", is_flag=True, help="Wait until they are finished.")
    @click.option("--timeout", type=float, default=None, help="Seconds to wait at most.")
    @click.option("--indent/--no-indent", default=None, help="Indent JSON (default for one).")
    @click.pass_obj
    def result(state: Any, ids: tuple[str, ...], wait_: bool, timeout: float | None,
               indent: bool | None) -> None:
        """Print the Document JSON of finished articles (one per line for several)."""
        client = _client(state)
        with _queue_errors():
            if wait_:
                client.wait(list(ids), timeout=timeout)
            found = client.statuses(list(ids))
            problems = 0
            for article_id in ids:
                raw = client.result_json(article_id)
                item = found.get(article_id)
                if raw is None:
                    problems += 1
                    what = item.status if item else "unknown"
                    why = f": {item.error}" if item and item.error else ""
                    err_console.print(f"[red]no result[/red] {article_id}: {what}{why}",
                                      highlight=False)
                    continue
                pretty = indent if indent is not None else len(ids) == 1
                click.echo(json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
                           if pretty else raw)
                if item and item.status == "failed":
                    problems += 1
        if problems:
            sys.exit(1)

    @cli.command("queue")
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    @click.option("--dead", "dead_limit", type=int, default=10, show_default=True,
                  help="How many dead letters to list.")
    @click.pass_obj
    def queue_(state: Any, as_json: bool, dead_limit: int) -> None:
        """Queue depth, running/done/failed counts, workers and dead letters."""
        from copydesk.workers.queue.fleet import plugin_mismatch, worker_plugins
        from copydesk.workers.queue.keys import keys_for

        with _queue_errors():
            client = _client(state)
            info = client.queue_info(dead_limit=max(dead_limit, 0))
            coverage = client.coverage()
        if as_json:
            data = {
                "queue": info.queue, "depth": info.depth, "unacked": info.unacked,
                "queues": info.queues, "counts": info.counts,
                "workers": [{"node": w.node, "alive": w.alive, "last_seen": w.last_seen,
                             "counts_age_seconds": round(max(0.0, time.time() - w.last_seen), 1),
                             **w.info, "plugins": worker_plugins(w)} for w in info.workers],
                "heartbeat_interval": state.settings.worker.heartbeat_interval,
                "plugin_warning": plugin_mismatch(info.workers, info.queue),
                "dead_letter_count": info.dead_letter_count,
                "rejected_messages": info.rejected,
                "dead_letters": [{k: v for k, v in d.items() if k != "article"}
                                 for d in info.dead_letters],
                "coverage": coverage,
            }
            click.echo(json.dumps(data, indent=2))
            return
        console = Console()
        console.print(f"queue [b]{info.queue}[/b]: {info.depth} waiting, {info.unacked} "
                      f"delivered and not yet acknowledged", highlight=False)
        if len(info.queues) > 1:  # routed stages: every queue on its own line
            for name, each in info.queues.items():
                console.print(f"  queue [b]{name}[/b]: {each['depth']} waiting, "
                              f"{each['workers']} live workers", highlight=False)
        console.print("articles: " + ", ".join(f"{k} {v}" for k, v in info.counts.items()),
                      highlight=False)
        beat = state.settings.worker.heartbeat_interval
        table = Table("worker", "alive", "host", "pid", "processes", "running", "processed",
                      "counts as of", title="workers",
                      caption=f"running and processed are counted by each worker at its "
                      f"heartbeat (every {beat:g}s); 'counts as of' is the age of the last one")
        now = time.time()
        for w in info.workers:
            table.add_row(w.node, "yes" if w.alive else "no", w.info.get("host", ""),
                          w.info.get("pid", ""), w.info.get("concurrency", ""),
                          w.info.get("active", ""), w.info.get("processed", ""),
                          f"{max(0.0, now - w.last_seen):.0f}s ago")
        if info.workers:
            console.print(table)
        else:
            console.print("workers: none alive (start one with `copydesk worker`)")
        for i, line in enumerate(plugin_mismatch(info.workers, info.queue)):
            console.print(("[yellow]warning[/yellow]: " if i == 0 else "") + escape(line),
                          highlight=False, soft_wrap=True)
        console.print(f"dead letters: {info.dead_letter_count}", highlight=False)
        for d in info.dead_letters:
            console.print(f"  [red]{d.get('id')}[/red] ({d.get('attempts')} attempts, "
                          f"{_when(d.get('at'))}): {d.get('reason')}", highlight=False)
        if info.dead_letter_count:
            console.print("re-submit them with `copydesk resubmit-dead --all` "
                          "(or give ids)", highlight=False)
        if info.rejected:
            console.print(f"malformed messages rejected: {sum(info.rejected.values())} ("
                          + ", ".join(f"{k} {v}" for k, v in sorted(info.rejected.items()))
                          + f"); kept in {keys_for(state.settings).rejected}", highlight=False)
        if coverage:
            from copydesk.workers.commands.reprocess import coverage_table

            console.print(coverage_table(coverage))

    @cli.command("resubmit-dead")
    @click.argument("ids", nargs=-1)
    @click.option("--all", "all_", is_flag=True, help="Re-submit every dead letter.")
    @click.pass_obj
    def resubmit_dead(state: Any, ids: tuple[str, ...], all_: bool) -> None:
        """Re-submit dead-lettered articles (by id, or --all) and clear them from the list."""
        if not ids and not all_:
            raise click.UsageError("give dead-lettered ids, or --all")
        with _queue_errors():
            results = _client(state).resubmit_dead(None if all_ else list(ids))
        for r in results:
            click.echo(r.id)
        err_console.print(f"re-submitted {len(results)} article(s)", highlight=False)
        if ids and len(results) < len(set(ids)):
            err_console.print("[yellow]some ids were not in the dead-letter list[/yellow]")
            sys.exit(1)

    from copydesk.workers.commands import reprocess as reprocess_cli  # `reprocess --stored`

    reprocess_cli.register()
    from copydesk.workers.commands.serve import add_serve_command  # `serve`: the HTTP gateway

    add_serve_command(cli)


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


def _progress(articles: list[Article], label: str, size: int = 200) -> Iterator[list[Article]]:
    chunks = [articles[i:i + size] for i in range(0, len(articles), size)]
    if len(articles) <= size or not err_console.is_terminal:
        yield from chunks
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task(label, total=len(articles))
        for chunk in chunks:
            yield chunk
            progress.advance(task, len(chunk))


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


def _redact(url: str) -> str:
    from copydesk.workers.queue.connection import redact_url

    return redact_url(url)


@hookimpl
def shared_state(settings):
    """The Redis backend of the shared state, on the queue's Redis (``copydesk.state``)."""
    from copydesk.workers.connection import sync_client
    from copydesk.workers.redis_state import RedisState

    return RedisState(sync_client(settings, retries=3), settings.worker.key_prefix)
