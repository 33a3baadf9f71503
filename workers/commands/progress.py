"""What ``copydesk submit`` shows while it works: how many articles went in, at what rate,
and why it waits when the queue has no room.

On a terminal it is a rich progress bar (with a total when the inputs can be counted
cheaply: one article per text or HTML file, one per line of a JSON Lines file); elsewhere a
line on stderr every ``every`` seconds and each time the reason for waiting changes.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

JSONL_SUFFIXES = {".jsonl", ".ndjson"}


def count_inputs(files: tuple[str, ...]) -> int | None:
    """How many articles the files hold, if that can be known without parsing them
    (``None`` for standard input and JSON files)."""
    total = 0
    for name in files:
        path = Path(name)
        if name == "-" or path.suffix.lower() == ".json":
            return None
        if path.suffix.lower() in JSONL_SUFFIXES:
            try:
                with path.open("rb") as f:
                    total += sum(1 for line in f if line.strip())
            except OSError:
                return None
        else:
            total += 1
    return total


class SubmitProgress:
    """Counts submitted articles and shows the rate; ``waiting`` is the client's
    ``on_wait`` callback."""

    def __init__(self, console: Console, total: int | None, every: float = 10.0) -> None:
        self.console = console
        self.total = total
        self.every = every
        self.done = 0
        self.started = time.monotonic()
        self._last_line = self.started
        self._last_reason: str | None = None
        self._progress: Progress | None = None
        self._task: Any = None

    def __enter__(self) -> SubmitProgress:
        if self.console.is_terminal:
            columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TextColumn("{task.fields[rate]}"), TimeElapsedColumn()]
            if self.total:
                columns.append(TimeRemainingColumn())
            self._progress = Progress(*columns, console=self.console, transient=True)
            self._progress.__enter__()
            self._task = self._progress.add_task("submitting", total=self.total, rate="")
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.__exit__(kind, exc, tb)

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def advance(self, count: int) -> None:
        self.done += count
        rate = f"{self.rate:,.0f}/s"
        if self._progress is not None:
            self._progress.update(self._task, advance=count, rate=rate,
                                  description="submitting")
        elif time.monotonic() - self._last_line >= self.every:
            self._line(f"submitted {self.done:,}" + (f" of {self.total:,}" if self.total else "")
                       + f" ({rate})")
        self._last_reason = None

    def waiting(self, pressure: Any, waited: float) -> None:
        reason = str(pressure)
        if self._progress is not None:
            self._progress.update(self._task, description=f"waiting for room: {reason}")
        elif reason != self._last_reason or time.monotonic() - self._last_line >= self.every:
            self._line(f"waiting for room ({waited:.0f} s): {reason}")
        self._last_reason = reason

    def _line(self, text: str) -> None:
        self.console.print(text, highlight=False)
        self._last_line = time.monotonic()
