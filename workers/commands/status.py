"""``copydesk status``, ``result`` and ``queue``: read back from the store."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click
from copydesk.views.terminal import out_console
from copydesk.workers.commands.common import (
    client_for,
    err_console,
    queue_errors,
    utc_time,
)
from copydesk.workers.queue.failures import failed_stages
from rich.markup import escape
from rich.table import Table


def room_line(room: dict[str, Any]) -> str:
    """``room: 120 of 50,000 may wait; Redis 3.1 of 20.0 MB (submits wait from 90%)``."""
    line = f"room: {room['waiting']:,} of {room['max_waiting']:,} may wait"
    if room["maxmemory"]:
        line += (f"; Redis {room['used_memory'] / 2**20:.1f} of {room['maxmemory'] / 2**20:.1f}"
                 f" MB (submits wait from {room['memory_high']:.0%})")
    else:
        line += f"; Redis {room['used_memory'] / 2**20:.1f} MB, no maxmemory set"
    if room["archived_in_redis"]:
        line += f"; {room['archived_in_redis']:,} archived records held"
    if room["full"]:
        line += f" [yellow]full: {room['full']}[/yellow]"
    return line


def register_commands(cli: click.Group) -> None:
    """Add these commands to ``copydesk``."""

    @cli.command()
    @click.argument("ids", nargs=-1)
    @click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
    @click.option("-n", "--recent", "recent", type=click.IntRange(1, 10_000), default=20,
                  show_default=True, help="Without ids: how many recent articles to list.")
    @click.pass_obj
    def status(state: Any, ids: tuple[str, ...], as_json: bool, recent: int) -> None:
        """Show the status of articles in the queue's result store (without ids: the most
        recently changed ones, newest first)."""
        with queue_errors():
            client = client_for(state)
            if ids:
                found = client.statuses(list(ids))
            else:
                listed = client.recent(recent)
                found = {item.id: item for item in listed}
                ids = tuple(found)
                if not ids:
                    err_console.print("no articles in the result store yet (submit one with "
                                      "`copydesk submit`)", highlight=False)
                    return
        missing = False
        with queue_errors():
            partial = failed_stages(client.store, [i for i, v in found.items()
                                                   if v is not None and v.status == "done"])
        if as_json:
            for article_id in ids:
                item = found.get(article_id)
                missing |= item is None
                click.echo(json.dumps(
                    {**item.to_dict(), "failed_stages": partial.get(article_id, [])} if item
                    else {"id": article_id, "status": "unknown"}))
        else:
            routed = any(v is not None and v.segment for v in found.values())
            columns = ["id", "status", *(["segment"] if routed else []), "stage", "attempts",
                       "worker", "finished (UTC)", *(["failed stages"] if partial else [])]
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
                failed = [", ".join(partial.get(item.id, []))] if partial else []
                table.add_row(item.id, item.status, *segment, item.stage or "",
                              str(item.attempts), item.worker or "", utc_time(item.finished_at),
                              *failed)
                if item.error:
                    errors.append(f"{item.id}: {item.error}")
                if item.traceback:
                    traces.append((item.id, item.traceback))
            console = out_console()
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
        client = client_for(state)
        with queue_errors():
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

        with queue_errors():
            client = client_for(state)
            info = client.queue_info(dead_limit=max(dead_limit, 0))
            coverage = client.coverage()
            room = client.room()
            sinks = client.sink_backlogs(max(dead_limit, 0))
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
                "room": room,
                "sinks": sinks,
            }
            click.echo(json.dumps(data, indent=2))
            return
        console = out_console()
        console.print(f"queue [b]{info.queue}[/b]: {info.depth} waiting, {info.unacked} "
                      f"delivered and not yet acknowledged", highlight=False)
        if len(info.queues) > 1:  # routed stages: every queue on its own line
            for name, each in info.queues.items():
                console.print(f"  queue [b]{name}[/b]: {each['depth']} waiting, "
                              f"{each['workers']} live workers", highlight=False)
        console.print("articles: " + ", ".join(f"{k} {v}" for k, v in info.counts.items()),
                      highlight=False)
        console.print(room_line(room), highlight=False)
        for node, why in room["paused_workers"].items():
            console.print(f"[yellow]paused[/yellow] {escape(node)} since "
                          f"{utc_time(why.get('since'))}: {escape(str(why.get('reason')))}",
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
                          f"{utc_time(d.get('at'))}): {d.get('reason')}", highlight=False)
        if info.dead_letter_count:
            console.print("re-submit them with `copydesk resubmit-dead --all` "
                          "(or give ids)", highlight=False)
        if info.rejected:
            console.print(f"malformed messages rejected: {sum(info.rejected.values())} ("
                          + ", ".join(f"{k} {v}" for k, v in sorted(info.rejected.items()))
                          + f"); kept in {keys_for(state.settings).rejected}", highlight=False)
        for name, each in sinks.items():
            console.print(f"sink [b]{escape(name)}[/b]: {each['backlog']} document(s) waiting "
                          f"({each['pending']} delivered, not yet committed), "
                          f"{each['consumers']} consumer(s), {each['dead']} dead-lettered",
                          highlight=False)
            for d in each["dead_letters"]:
                console.print(f"  [red]{escape(str(d.get('id')))}[/red] "
                              f"({utc_time(d.get('at'))}): {escape(str(d.get('reason')))}",
                              highlight=False)
        if coverage:
            from copydesk.workers.commands.reprocess import coverage_table

            console.print(coverage_table(coverage))
