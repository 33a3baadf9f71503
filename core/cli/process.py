"""``copydesk process``: run the pipeline in-process (no Redis) on files, and write the
Documents as JSON, JSON Lines, a terminal view or an HTML page."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import IO

import click
from copydesk.cli.root import CliState, err_console, fail
from copydesk.document import Article, Document
from copydesk.extra_fields import report_moved_fields
from copydesk.inputs import InputError, read_inputs
from copydesk.jsonsafe import printable
from copydesk.nlp import ModelNotInstalled
from copydesk.parallel import resolve_jobs
from copydesk.pipeline import Pipeline
from copydesk.plugin_manager import PluginManager
from copydesk.sinks import SinkSetupError, SinkUnavailable, SinkWriter, build_sinks
from pydantic_core import PydanticSerializationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@click.command()
@click.argument("files", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["json", "jsonl", "text", "html"]),
              default=None, help="Output: Document JSON (default when piped), JSON Lines, "
              "a terminal view (default on a terminal) or an HTML page.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file instead of standard output.")
@click.option("--indent/--no-indent", default=None,
              help="Indent JSON (default when the input is one article).")
@click.option("--published-at", default=None, metavar="ISO-8601",
              help="Publication time for inputs that carry none (.txt, .html without a date): "
              "the anchor for 'Monday' or 'last month'.")
@click.option("--debug", is_flag=True, default=False,
              help="Print the traceback (file and line) of every failed stage; "
              "also COPYDESK_DEBUG=1.")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=1, show_default=True,
              help="Processes to run the pipeline on (0: one per core); models load once, "
              "before they fork, and the output keeps the input order.")
@click.option("--sink", "sink_names", multiple=True, metavar="NAME",
              help="Also write each Document to this configured sink ([sinks.NAME]); "
              "repeatable.")
@click.pass_obj
def process(state: CliState, files: tuple[str, ...], fmt: str | None, output: str | None,
            indent: bool | None, published_at: str | None, debug: bool, jobs: int,
            sink_names: tuple[str, ...]) -> None:
    """Run the pipeline in-process (no Redis) on FILES: .txt, .html, .json, .jsonl or -."""
    anchor = _parse_datetime(published_at) if published_at else None
    try:
        writer = SinkWriter(build_sinks(sink_names, state.settings, state.plugins))
        writer.__enter__()
    except (SinkSetupError, SinkUnavailable) as exc:
        raise fail(str(exc)) from None
    try:
        _process(state, files, fmt, output, indent, anchor, debug, jobs, writer)
    finally:
        writer.__exit__(None, None, None)


def _process(state: CliState, files: tuple[str, ...], fmt: str | None, output: str | None,
             indent: bool | None, anchor: datetime | None, debug: bool, jobs: int,
             writer: SinkWriter) -> None:
    out_stream: IO[str] = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
    try:
        fmt = fmt or ("text" if out_stream.isatty() else "json")
        pipeline = state.pipeline()
        try:
            with err_console.status("loading models…", spinner="dots"):
                pipeline.setup()
        except ModelNotInstalled as exc:
            raise fail(str(exc)) from None
        items = list(read_inputs(list(files), state.settings.article_rules()))
        articles = [a for a in items if isinstance(a, Article)]
        report_moved_fields(articles, "process", err_console)
        if anchor is not None:
            for article in articles:
                if article.published_at is None:
                    article.published_at = anchor
        errors = [e for e in items if isinstance(e, InputError)]
        for error in errors:
            err_console.print(f"[red]error[/red] {error}", highlight=False)
        docs: list[Document] = []
        unwritable: list[str] = []
        try:
            writable = _writable(_run_with_progress(pipeline, articles, resolve_jobs(jobs)),
                                 unwritable)
            # one article asked for: one indented Document; more: JSON Lines, however many
            # of them could be read (the shape does not change with what failed)
            for doc in _emit(writable, fmt, out_stream, indent, single=len(items) == 1,
                             plugins=state.plugins):
                docs.append(doc)
                writer.add(doc)
            writer.flush()
        except SinkUnavailable as exc:
            raise fail(f"{exc} ({sum(writer.written.values())} write(s) done)") from None
        except KeyboardInterrupt:
            out_stream.flush()
            writer.flush()
            err_console.print(f"interrupted: {len(docs)} of {len(articles)} document(s) "
                              "written", highlight=False)
            sys.exit(130)
    finally:
        if output:
            out_stream.close()
    failed = [d for d in docs if d.status == "failed"]
    for doc in failed:
        reason = next((r.error for r in doc.runs if r.status == "failed"), "")
        err_console.print(f"[red]failed[/red] {doc.id}: {reason}", highlight=False)
    _report_tracebacks(docs, debug or state.settings.debug)
    if output:
        err_console.print(f"wrote {len(docs)} document(s) to {output}")
    for sink_name, refusal in writer.refused:
        err_console.print(f"[red]not archived[/red] {refusal.document_id} in sink {sink_name!r}: "
                          f"{printable(refusal.reason)}", highlight=False)
    for sink_name, count in writer.written.items():
        err_console.print(f"archived {count} document(s) in sink {sink_name!r}", highlight=False)
    if errors or failed or unwritable or writer.refused:
        sys.exit(1)


def _writable(docs: Iterable[Document], problems: list[str]) -> Iterator[Document]:
    """The documents that can be written as JSON; each one that cannot is reported at once
    and added to ``problems`` (so one bad document never stops the others being written)."""
    for doc in docs:
        try:
            doc.to_json()
        except PydanticSerializationError as exc:
            line = printable(f"{doc.id}: cannot be written as JSON: {exc}")
            err_console.print(f"[red]error[/red] {line}", highlight=False)
            problems.append(line)
        else:
            yield doc


def _report_tracebacks(docs: list[Document], debug: bool) -> None:
    """With ``debug``, print each failed stage's traceback; without, say how to see them."""
    traced = [(d, r) for d in docs for r in d.runs if r.status == "failed" and r.traceback]
    if not traced:
        return
    if not debug:
        err_console.print(f"{len(traced)} stage run(s) failed; run with --debug (or "
                          "COPYDESK_DEBUG=1) to see the traceback", highlight=False)
        return
    for doc, run in traced:
        err_console.print(f"[red]stage {run.stage!r}[/red] (plugin {run.plugin!r}) failed on "
                          f"{doc.id}:", highlight=False)
        err_console.out(printable(run.traceback or ""), highlight=False)


def _parse_datetime(value: str) -> datetime:
    from pydantic import TypeAdapter, ValidationError

    try:
        return TypeAdapter(datetime).validate_python(value)
    except ValidationError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 date or time (e.g. 2025-06-01T09:00:00+00:00)",
            param_hint="--published-at",
        ) from None


def _run_with_progress(pipeline: Pipeline, articles: list[Article],
                       jobs: int = 1) -> Iterator[Document]:
    """The documents in input order, on ``jobs`` processes, with a progress bar on a
    terminal that counts every finished document whichever process finished it."""
    if jobs > 1 and len(articles) > 1:
        from copydesk.parallel import process_parallel

        def run(advance: Callable[[int], None] | None) -> Iterator[Document]:
            return process_parallel(pipeline, articles, jobs, on_finished=advance)
    else:
        def run(advance: Callable[[int], None] | None) -> Iterator[Document]:
            for doc in pipeline.iter_process(articles):
                if advance is not None:
                    advance(1)
                yield doc
    if len(articles) <= 1 or not err_console.is_terminal:
        yield from run(None)
        return
    columns = (TextColumn("processing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task("process", total=len(articles))
        yield from run(lambda n: progress.advance(task, n))


def _emit(docs: Iterable[Document], fmt: str, out: IO[str], indent: bool | None,
          single: bool, plugins: PluginManager | None = None) -> Iterator[Document]:
    """Write the documents as they come (an interrupted run leaves whole documents written),
    yielding each once it is written; HTML is one page, written at the end."""
    if fmt == "html":
        from copydesk.views.html import render_html

        kept = list(docs)
        out.write(render_html(kept, plugins=plugins))
        yield from kept
        return
    if fmt == "text":
        from copydesk.views.terminal import print_document

        console = Console(file=out, force_terminal=out.isatty(), soft_wrap=False)
        for doc in docs:
            print_document(doc, console, plugins)
            yield doc
        return
    one_indented = fmt == "json" and single and indent is not False
    for doc in docs:
        out.write(doc.to_json(indent=2 if indent or one_indented else None) + "\n")
        out.flush()
        yield doc


def register_commands(cli: click.Group) -> None:
    """Add ``process`` to the ``copydesk`` group."""
    cli.add_command(process)
