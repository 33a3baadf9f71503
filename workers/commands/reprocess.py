"""``copydesk reprocess --stored`` and the coverage table of ``copydesk queue``."""

from __future__ import annotations

import time
from typing import Any

import click
from copydesk.cli.reprocess import print_plan
from rich.console import Console
from rich.table import Table

err_console = Console(stderr=True, soft_wrap=True)  # a message is one line, however long


def reprocess_stored(state: Any, status: str, limit: int | None, dry_run: bool,
                     as_json: bool) -> None:
    """Plan the stored Documents of ``status`` against the workers' pipeline; unless
    ``dry_run``, enqueue the ones that would change for the workers to reprocess."""
    import json

    from copydesk.workers.queue.client import Client, QueueUnavailable
    from copydesk.workers.queue.reprocess import NoWorkerPipeline

    client = Client(state.settings)
    try:
        spec, warnings, plans = plan_when_a_worker_publishes(client, status, limit,
                                                             state.settings.queue)
        for warning in warnings:
            err_console.print(f"[yellow]warning[/yellow] {warning}", highlight=False)
        if dry_run:
            print_plan([p.plan for p in plans], spec, as_json,
                       f"plan for {len(plans)} stored {status} document(s)")
            return
        queued = client.enqueue_reprocess(plans)
    except (QueueUnavailable, NoWorkerPipeline) as exc:
        raise click.ClickException(str(exc)) from None
    refused = [p.id for p in plans if p.plan.needs_source]
    for article_id in refused:
        err_console.print(f"[red]error[/red] {article_id}: the stage providing 'text' must "
                          "run again and the Document came from HTML; submit it again "
                          "with --force", highlight=False)
    if as_json:
        click.echo(json.dumps({"documents": len(plans), "enqueued": queued,
                               "refused": refused}))
    else:
        err_console.print(f"enqueued {queued} of {len(plans)} stored {status} document(s) "
                          "for reprocessing", highlight=False)


def plan_when_a_worker_publishes(client: Any, status: str, limit: int | None,
                                 queue: Any) -> tuple[Any, list[str], list[Any]]:
    """``client.plan_stored``, waiting up to ``queue.worker_wait`` seconds (and saying so)
    for a live worker to publish its pipeline: right after ``copydesk worker`` starts, its
    models are still loading. ``NoWorkerPipeline`` when none has after that."""
    from copydesk.workers.queue.reprocess import NoWorkerPipeline

    deadline = time.monotonic() + queue.worker_wait
    waited = False
    while True:
        try:
            with err_console.status("planning stored documents…", spinner="dots"):
                return client.plan_stored(status, limit)
        except NoWorkerPipeline:
            if time.monotonic() >= deadline:
                if waited:
                    raise NoWorkerPipeline(
                        f"no live worker published its pipeline in {queue.worker_wait:g} s "
                        "(setting queue.worker_wait): start `copydesk worker` (plans are "
                        "made against the pipeline the workers run)") from None
                raise
            if not waited:
                err_console.print(f"no live worker has published its pipeline yet; waiting "
                                  f"up to {queue.worker_wait:g} s for one (setting "
                                  "queue.worker_wait)", highlight=False)
                waited = True
            time.sleep(min(queue.poll_interval, max(0.0, deadline - time.monotonic())))


def coverage_table(coverage: dict[str, dict[str, int]]) -> Table:
    """Per stage: stored Documents current, stale, missing and failed."""
    table = Table("stage", "current", "stale", "missing", "failed",
                  title="coverage of stored documents (against the workers' pipeline)")
    for stage, row in coverage.items():
        table.add_row(stage, *(str(row[k]) for k in ("current", "stale", "missing", "failed")))
    return table
