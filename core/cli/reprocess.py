"""``copydesk reprocess``: bring Documents up to today's pipeline, re-running only what changed.

On files, it reads Documents (as ``copydesk process --format json|jsonl`` wrote them: one
JSON Document, or one a line), plans each against the pipeline the settings build, and
writes the Documents with only their stale, missing and failed stages re-run (a current
Document is written exactly as it was read). ``--dry-run`` prints the plan as a table and
changes nothing. A line that is not a Document is reported with its line number; the others
go on. With ``--stored`` the same is done to the Documents in the Redis store, by workers:
the queue plugin provides that part (the ``reprocess_stored`` hook).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import click
from copydesk.document import Document, describe_validation_error
from copydesk.jsonsafe import UnsafeJSON, loads
from copydesk.nlp import ModelNotInstalled
from copydesk.pipeline import Pipeline
from copydesk.provenance import STALE_REASONS, PipelineSpec, Plan
from copydesk.views.terminal import out_console
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

err_console = Console(stderr=True, soft_wrap=True)

@dataclass
class DocumentLine:
    """One Document read from a file, or why its line is not one."""

    where: str
    raw: str
    document: Document | None = None
    error: str | None = None


def read_documents(paths: Sequence[str]) -> Iterator[DocumentLine]:
    """Documents from files (``-`` = stdin): JSON Lines, or JSON Documents one after another
    (``process --format json`` writes one indented Document, or several with ``--indent``)."""
    for path in paths:
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            yield DocumentLine(path, "", error=f"cannot read: {exc}")
            continue
        lines = text.splitlines()
        first = next((line for line in lines if line.strip()), "")
        if _is_json_object(first):
            for lineno, line in enumerate(lines, 1):
                if line.strip():
                    yield _parse(f"{path}:{lineno}", line)
        else:
            yield from _json_values(path, text)


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(loads(line), dict)
    except UnsafeJSON:
        return False


def _json_values(path: str, text: str) -> Iterator[DocumentLine]:
    """JSON values one after another, each named by the line it starts on; stops at the
    first one that is not JSON (nothing after it can be told apart)."""
    decoder = json.JSONDecoder()
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return
        where = f"{path}:{text.count(chr(10), 0, pos) + 1}"
        try:
            _, end = decoder.raw_decode(text, pos)
        except ValueError as exc:
            yield DocumentLine(where, text[pos:pos + 80], error=f"not JSON: {exc}; the rest of "
                               "the file is skipped")
            return
        yield _parse(where, text[pos:end])
        pos = end


def _parse(where: str, raw: str) -> DocumentLine:
    from pydantic import ValidationError

    try:
        data = loads(raw)
    except UnsafeJSON as exc:
        return DocumentLine(where, raw, error=f"not JSON: {exc}")
    if not isinstance(data, dict):
        return DocumentLine(where, raw, error=f"not a Document: a JSON {type(data).__name__}")
    try:
        return DocumentLine(where, raw, document=Document.model_validate(data))
    except ValidationError as exc:
        return DocumentLine(where, raw, error="not a Document: " + describe_validation_error(exc))


def plan_table(plans: Sequence[Plan], spec: PipelineSpec, title: str) -> Table:
    """Per stage: how many Documents are current, stale (by reason), missing, failed."""
    counts = plan_counts(plans, spec)
    table = Table("stage", "current", "stale", "missing", "failed", title=title)
    for stage, row in counts.items():
        if "removed" in row:
            continue
        reasons = ", ".join(f"{reason} {n}" if n != row["stale"] else reason
                            for reason, n in row["stale_by"].items() if n)
        stale = f"{row['stale']} ({reasons})" if row["stale"] else "0"
        table.add_row(stage, str(row["current"]), stale, str(row["missing"]),
                      str(row["failed"]))
    return table


def plan_counts(plans: Sequence[Plan], spec: PipelineSpec) -> dict[str, dict[str, Any]]:
    """The numbers of ``plan_table``, plus ``removed`` stages, as data (``--json``)."""
    out: dict[str, dict[str, Any]] = {}
    for name in spec.names:
        out[name] = {"current": 0, "stale": 0, "missing": 0, "failed": 0,
                     "stale_by": dict.fromkeys(STALE_REASONS, 0)}
    removed: Counter[str] = Counter()
    for plan in plans:
        for verdict in plan.stages:
            if verdict.state == "removed":
                removed[verdict.stage] += 1
                continue
            row = out[verdict.stage]
            row[verdict.state] += 1
            for reason in verdict.reasons:
                row["stale_by"][reason] += 1
    for name, n in removed.items():
        out[name] = {"removed": n}
    return out


def register_commands(cli: click.Group) -> None:
    """Add ``reprocess`` to the ``copydesk`` group."""

    @cli.command()
    @click.argument("files", nargs=-1)
    @click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
                  default=None, help="Write the Documents here (JSON Lines) instead of stdout.")
    @click.option("--dry-run", is_flag=True,
                  help="Print the plan (per stage: current, stale by reason, missing) only.")
    @click.option("--json", "as_json", is_flag=True,
                  help="Machine-readable output (the plan, with --dry-run).")
    @click.option("--stored", is_flag=True,
                  help="Reprocess Documents in the Redis store, on the workers (no FILES).")
    @click.option("--status", "status", type=click.Choice(["done", "failed"]), default="done",
                  show_default=True, help="With --stored: which stored Documents.")
    @click.option("--limit", type=click.IntRange(min=1), default=None,
                  help="With --stored: at most this many Documents.")
    @click.pass_obj
    def reprocess(state: Any, files: tuple[str, ...], output: str | None, dry_run: bool,
                  as_json: bool, stored: bool, status: str, limit: int | None) -> None:
        """Re-run only the stale, missing and failed stages of Documents (FILES as
        `copydesk process --format json|jsonl` wrote them, or --stored), keeping every
        other layer as it is."""
        if stored:
            if files or output:
                raise click.UsageError("--stored takes no FILES and no --output")
            if not state.plugins.reprocess_stored(state, status, limit, dry_run, as_json):
                raise click.ClickException(
                    "--stored needs the queue plugin (Celery and Redis installed, plugin "
                    "'queue' loaded); see `copydesk plugins`")
            return
        if not files:
            raise click.UsageError("give Document files (JSON or JSON Lines), or --stored")
        _reprocess_files(state, files, output, dry_run, as_json)


def _reprocess_files(state: Any, files: Sequence[str], output: str | None, dry_run: bool,
                     as_json: bool) -> None:
    pipeline: Pipeline = state.pipeline()
    lines = list(read_documents(files))
    bad = [line for line in lines if line.document is None]
    for line in bad:
        err_console.print(f"[red]error[/red] {line.where}: {line.error}", highlight=False)
    good = [line for line in lines if line.document is not None]
    plans = {id(line): pipeline.plan(line.document) for line in good if line.document}
    if dry_run:
        print_plan([plans[id(line)] for line in good], pipeline.spec, as_json,
                    f"plan for {len(good)} document(s)")
        sys.exit(1 if bad else 0)
    try:
        with err_console.status("loading models…", spinner="dots"):
            pipeline.setup()
    except ModelNotInstalled as exc:
        raise click.ClickException(str(exc)) from None
    out: IO[str] = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
    refused = 0
    try:
        for text, ok in _run(pipeline, good, plans):
            refused += not ok
            out.write(text + "\n")
    finally:
        if output:
            out.close()
    changed = sum(1 for line in good if plans[id(line)].changes)
    err_console.print(f"reprocessed {changed - refused} of {len(good)} document(s)"
                      + (f", wrote them to {output}" if output else ""), highlight=False)
    if bad or refused:
        sys.exit(1)


def _as_read(line: DocumentLine) -> str:
    """The Document as it was read, on one line."""
    raw = line.raw.strip()
    if "\n" not in raw or line.document is None:
        return raw
    return line.document.to_json()


def _run(pipeline: Pipeline, lines: list[DocumentLine], plans: dict[int, Plan]
         ) -> Iterator[tuple[str, bool]]:
    """Each Document's JSON after reprocessing (as read when nothing changes), in order,
    and False for one that cannot be reprocessed (reported, written as read)."""
    size = pipeline.settings.pipeline.batch_size
    todo = sum(1 for line in lines if plans[id(line)].changes)
    show = todo > 1 and err_console.is_terminal
    columns = (TextColumn("reprocessing"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True, disable=not show) as bar:
        task = bar.add_task("reprocess", total=todo)
        for start in range(0, len(lines), size):
            batch = lines[start:start + size]
            for line in batch:
                if plans[id(line)].needs_source:
                    err_console.print(f"[red]error[/red] {line.where}: "
                                      f"{_needs_source(plans[id(line)])}", highlight=False)
            work = [line.document for line in batch if line.document is not None
                    and plans[id(line)].changes and not plans[id(line)].needs_source]
            pipeline.reprocess_many(work)
            bar.advance(task, len(work))
            for line in batch:
                plan = plans[id(line)]
                if plan.changes and not plan.needs_source and line.document is not None:
                    yield line.document.to_json(), True
                else:
                    yield _as_read(line), not plan.needs_source


def _needs_source(plan: Plan) -> str:
    return (f"document {plan.document_id}: the stage providing 'text' must run again, but "
            "the Document does not keep the HTML it came from; process the article again "
            "(written unchanged)")


def print_plan(plans: Sequence[Plan], spec: PipelineSpec, as_json: bool, title: str) -> None:
    if as_json:
        click.echo(json.dumps({
            "documents": len(plans),
            "to_reprocess": sum(1 for p in plans if p.changes),
            "stages": plan_counts(plans, spec),
        }, indent=2))
        return
    console = out_console()
    console.print(plan_table(plans, spec, title))
    removed = Counter(s for p in plans for s in p.removed)
    for stage, n in removed.items():
        console.print(f"stage {stage!r} is no longer in the pipeline: its layer is removed "
                      f"from {n} document(s)", highlight=False)
    console.print(f"{sum(1 for p in plans if p.changes)} of {len(plans)} document(s) would "
                  "be reprocessed", highlight=False)
