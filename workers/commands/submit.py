"""``copydesk submit`` and ``copydesk resubmit-dead``: put articles on the queue."""

from __future__ import annotations

import sys
from typing import Any

import click
from copydesk.document import Article
from copydesk.extra_fields import report_moved_fields
from copydesk.inputs import InputError, read_inputs
from copydesk.workers.commands.common import (
    client_for,
    err_console,
    in_chunks,
    queue_errors,
)


def register_commands(cli: click.Group) -> None:
    """Add these commands to ``copydesk``."""

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
        client = client_for(state)
        results = []
        with queue_errors():
            for chunk in in_chunks(articles, "submitting"):
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
            with queue_errors():
                final = client.wait(ids, timeout=timeout)
            unfinished = [i for i, s in final.items() if not (s and s.finished)]
            failed = [i for i, s in final.items() if s and s.status == "failed"]
            err_console.print(f"finished {len(ids) - len(unfinished)}, failed {len(failed)}",
                              highlight=False)
            if unfinished or failed:
                sys.exit(1)
        if errors or any(r.outcome == "invalid" for r in results):
            sys.exit(1)

    @cli.command("resubmit-dead")
    @click.argument("ids", nargs=-1)
    @click.option("--all", "all_", is_flag=True, help="Re-submit every dead letter.")
    @click.pass_obj
    def resubmit_dead(state: Any, ids: tuple[str, ...], all_: bool) -> None:
        """Re-submit dead-lettered articles (by id, or --all) and clear them from the list."""
        if not ids and not all_:
            raise click.UsageError("give dead-lettered ids, or --all")
        with queue_errors():
            results = client_for(state).resubmit_dead(None if all_ else list(ids))
        for r in results:
            click.echo(r.id)
        err_console.print(f"re-submitted {len(results)} article(s)", highlight=False)
        if ids and len(results) < len(set(ids)):
            err_console.print("[yellow]some ids were not in the dead-letter list[/yellow]")
            sys.exit(1)
