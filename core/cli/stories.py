"""``copydesk stories``: recent stories with their size, label, first and last article.

With FILES it reads Documents (as ``copydesk process --format json|jsonl`` wrote them) and
groups them by ``story.id``. Without, it reads the story index the workers keep in the
shared state (the queue plugin's Redis, through the ``shared_state`` hook). ``--story ID``
shows one story with all its articles; ``--json`` prints the same as ``GET /v1/stories``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import click
from copydesk.jsonsafe import printable
from copydesk.state import MemoryState, SharedState
from copydesk.storyindex import StoryEntry, StoryIndex
from copydesk.views.terminal import out_console
from rich.console import Console
from rich.table import Table

err_console = Console(stderr=True, soft_wrap=True)


def index_from_files(files: Sequence[str]) -> tuple[StoryIndex, list[str]]:
    """A story index of the Documents in ``files``, and the problems met reading them."""
    from copydesk.cli.reprocess import read_documents

    index = StoryIndex(SharedState(MemoryState()))
    problems = []
    for line in read_documents(files):
        if line.document is None:
            problems.append(f"{line.where}: {line.error}")
        else:
            index.record(line.document)
    return index, problems


def shared_index(state: Any) -> StoryIndex:
    """The index in the state the workers share, or a ClickException saying why there is
    none."""
    try:
        backend = state.plugins.shared_state(state.settings)
    except Exception as exc:
        raise click.ClickException(f"cannot reach the shared state: {type(exc).__name__}: "
                                   f"{exc}") from None
    if backend is None:
        raise click.ClickException(
            "no shared state to read: give Document files (the output of copydesk process), "
            "or run with the queue plugin and its Redis")
    return StoryIndex(SharedState(backend))


def stories_table(entries: Sequence[StoryEntry]) -> Table:
    table = Table(title="recent stories", title_justify="left")
    for column in ("story", "size", "label", "first article", "last article"):
        table.add_column(column, overflow="fold", min_width=6 if column == "size" else None)
    for e in entries:
        table.add_row(printable(e.id), str(e.size), printable(e.label),
                      _article(e.first_article), _article(e.last_article))
    return table


def _article(article: Any) -> str:
    when = article.at.strftime("%Y-%m-%d %H:%M")
    return printable(f"{article.id} ({when})")  # titles: --story ID lists them


def register_commands(cli: click.Group) -> None:
    """Add ``stories`` to the ``copydesk`` group."""

    @cli.command()
    @click.argument("files", nargs=-1)
    @click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
                  help="How many stories, newest first.")
    @click.option("--story", "story_id", default=None, metavar="ID",
                  help="Show one story (a merged story's old id finds it) and its articles.")
    @click.option("--json", "as_json", is_flag=True, help="JSON, as GET /v1/stories gives.")
    @click.pass_obj
    def stories(state: Any, files: tuple[str, ...], limit: int, story_id: str | None,
                as_json: bool) -> None:
        """Recent stories: size, label, first and last article (from Document FILES, or
        from the workers' shared state)."""
        if files:
            index, problems = index_from_files(files)
            for problem in problems:
                err_console.print(f"[red]error[/red] {printable(problem)}", highlight=False)
        else:
            index, problems = shared_index(state), []
        try:
            if story_id is not None:
                entry = index.get(story_id)
                if entry is None:
                    raise click.ClickException(f"no story {story_id!r}")
                _print([entry], as_json, one=True)
            else:
                _print(index.recent(limit), as_json, one=False)
        except click.ClickException:
            raise
        except Exception as exc:  # the shared state went away mid-read
            raise click.ClickException(f"cannot read the stories: {type(exc).__name__}: "
                                       f"{exc}") from None
        if problems:
            sys.exit(1)


def _print(entries: Sequence[StoryEntry], as_json: bool, one: bool) -> None:
    if as_json:
        data: Any = (entries[0].model_dump(mode="json") if one else
                     {"stories": [e.model_dump(mode="json", exclude={"articles"})
                                  for e in entries]})
        click.echo(json.dumps(data, indent=2))
        return
    console = out_console()
    console.print(stories_table(entries))
    if one and entries[0].articles:
        table = Table(title="articles", title_justify="left")
        for column in ("article", "time", "title"):
            table.add_column(column, overflow="fold")
        for a in entries[0].articles:
            table.add_row(printable(a.id), a.at.strftime("%Y-%m-%d %H:%M"),
                          printable(a.title or ""))
        console.print(table)
