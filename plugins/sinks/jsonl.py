"""The ``jsonl`` sink: finished Documents appended to a JSON Lines file.

``[sinks.jsonl] path = "FILE"``: one Document JSON per line, as ``copydesk result``
prints it. Each batch is written and flushed to disk (fsync) before it counts as stored.
The file is appended to: a Document written twice has two lines, the later one current.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from copydesk.document import Document
from copydesk.hookspecs import hookimpl
from copydesk.sinks import Refusal, Sink, SinkConfig, SinkUnavailable
from pydantic import Field


class JsonlConfig(SinkConfig):
    path: Path = Field(description="The JSON Lines file Documents are appended to.")


class JsonlSink(Sink[JsonlConfig]):
    """Documents appended to a JSON Lines file."""

    name = "jsonl"
    description = "Document JSON appended to a JSON Lines file"

    def open(self) -> None:
        path = self.config.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise SinkUnavailable(f"cannot append to {path} (setting "
                                  f"{self.setting('path')}): {exc.strerror or exc}") from None

    def write(self, documents: Sequence[Document]) -> list[Refusal]:
        lines = "".join(doc.to_json() + "\n" for doc in documents)
        try:
            with self.config.path.open("a", encoding="utf-8") as out:
                out.write(lines)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            raise SinkUnavailable(f"cannot append to {self.config.path} (setting "
                                  f"{self.setting('path')}): {exc.strerror or exc}") from None
        return []


@hookimpl
def register_sinks() -> list[type[Sink[Any]]]:
    return [JsonlSink]
