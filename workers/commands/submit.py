"""``copydesk submit`` and ``copydesk resubmit-dead``: put articles on the queue."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import click
from copydesk.document import Article
from copydesk.extra_fields import counts_line, log_moved_fields
from copydesk.inputs import InputError, read_inputs
from copydesk.workers.commands.common import client_for, err_console, queue_errors
from copydesk.workers.commands.progress import SubmitProgress, count_inputs
from copydesk.workers.queue.failures import failed_stages
from copydesk.workers.queue.failures import summary as failures_summary


class SubmitCounts:
    """Outcomes of one ``copydesk submit`` run, for its last line."""

    def __init__(self) -> None:
        self.queued = self.duplicate = self.refused = 0
        self.moved: Counter[str] = Counter()  # unknown fields kept in metadata, by name

    def add(self, result: Any) -> None:
        if result.outcome == "queued":
            self.queued += 1
        elif result.outcome == "duplicate":
            self.duplicate += 1
        elif result.outcome == "invalid":
            self.refused += 1

    def note_moved_fields(self, article: Article) -> None:
        """Log the article's moved fields and count them for the closing note."""
        log_moved_fields(article, "submit")
        self.moved.update(article.moved_fields)

    def moved_note(self) -> str | None:
        line = counts_line(self.moved)
        return f"[yellow]note[/yellow] {line}" if line else None

    def summary(self, queue: str, rate: float) -> str:
        parts = [f"queued {self.queued} article(s) on {queue!r}"]
        if self.duplicate:
            parts.append(f"{self.duplicate} already queued or done")
        if self.refused:
            parts.append(f"{self.refused} refused")
        return ", ".join(parts) + (f" ({rate:,.0f}/s)" if rate else "")


def _articles(items: Iterable[Article | InputError], counts: SubmitCounts
              ) -> Iterator[Article]:
    """The readable articles of a stream of inputs; each unreadable one is reported."""
    for item in items:
        if isinstance(item, InputError):
            err_console.print(f"[red]refused[/red] {item}", highlight=False)
            counts.refused += 1
            continue
        counts.note_moved_fields(item)
        yield item


def register_commands(cli: click.Group) -> None:
    """Add these commands to ``copydesk``."""

    @cli.command()
    @click.argument("files", nargs=-1, required=True)
    @click.option("--force", is_flag=True, help="Process again even if already done.")
    @click.option("--wait", "wait_", is_flag=True, help="Wait until they are finished.")
    @click.option("--timeout", type=float, default=None, help="Seconds to wait at most.")
    @click.option("--max-wait", type=float, default=None, metavar="SECONDS",
                  help="Longest single wait for room on a full queue before giving up "
                  "(default: queue.max_wait).")
    @click.pass_obj
    def submit(state: Any, files: tuple[str, ...], force: bool, wait_: bool,
               timeout: float | None, max_wait: float | None) -> None:
        """Enqueue articles (.txt, .html, .json, .jsonl or - for stdin); print their ids.

        Files are read as a stream, so a JSON Lines file of any length is submitted in
        constant memory. While the queue holds more than queue.max_waiting articles, or
        Redis is near its maxmemory, it waits (showing why); run again after an
        interruption and what is already queued or done is skipped."""
        client = client_for(state)
        counts = SubmitCounts()
        ids: list[str] = []
        with queue_errors(), SubmitProgress(err_console, count_inputs(files)) as progress:
            inputs = _articles(read_inputs(list(files), state.settings.article_rules()),
                               counts)
            for result in client.iter_submit(inputs, force=force, max_wait=max_wait,
                                             on_wait=progress.waiting):
                progress.advance(1)
                counts.add(result)
                if result.outcome == "invalid":
                    err_console.print(f"[red]refused[/red] {result.id or ''}: "
                                      f"{result.error}", highlight=False)
                    continue
                click.echo(result.id)
                if wait_:
                    ids.append(result.id)
                if result.outcome == "duplicate":
                    err_console.print(f"[yellow]not queued again[/yellow] {result.id}: "
                                      f"already {result.status} (use --force to process it "
                                      "again)", highlight=False)
        if counts.moved_note():
            err_console.print(counts.moved_note(), highlight=False)
        err_console.print(counts.summary(state.settings.worker.queue, progress.rate),
                          highlight=False)
        if wait_ and ids:
            with queue_errors():
                final = client.wait(ids, timeout=timeout)
            unfinished = [i for i, s in final.items() if not (s and s.finished)]
            failed = [i for i, s in final.items() if s and s.status == "failed"]
            with queue_errors():
                partial = failed_stages(client.store, [i for i, s in final.items()
                                                       if s and s.status == "done"])
            err_console.print(", ".join(filter(None, (
                f"finished {len(ids) - len(unfinished)}", f"failed {len(failed)}",
                failures_summary(partial)))), highlight=False)
            if unfinished or failed:
                sys.exit(1)
        if counts.refused:
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
