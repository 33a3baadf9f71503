"""Reading articles from files: ``.txt``, ``.html``/``.htm``, ``.json`` and ``.jsonl``/``-``.

Each input yields ``Article`` objects or ``InputError``s that name the file (and line),
so one bad input never hides the others' results.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from copydesk.document import DEFAULT_MAX_CHARS, Article, InvalidArticle, parse_article
from copydesk.jsonsafe import UnsafeJSON, loads, printable

HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}


@dataclass
class InputError:
    """An input that could not become an article: where, and why."""

    where: str
    message: str

    def __str__(self) -> str:
        return printable(f"{self.where}: {self.message}")  # file names may hold surrogates


def read_inputs(
    paths: list[str], max_chars: int = DEFAULT_MAX_CHARS
) -> Iterator[Article | InputError]:
    """Articles from each path in turn (``-`` is standard input, read as JSONL or text)."""
    for path in paths:
        yield from read_input(path, max_chars)


def read_input(path: str, max_chars: int = DEFAULT_MAX_CHARS) -> Iterator[Article | InputError]:
    if path == "-":
        data = sys.stdin.buffer.read()
        yield from _from_bytes("<stdin>", data, None, max_chars)
        return
    p = Path(path)
    try:
        if p.is_dir():
            yield InputError(path, "is a directory; give files (e.g. dir/*.txt)")
            return
        size = p.stat().st_size
        if size > max_chars * 4 + 1024 and p.suffix.lower() not in JSONL_SUFFIXES:
            yield InputError(path, f"file of {size:,} bytes is over the article size limit "
                             f"({max_chars:,} characters)")
            return
        data = p.read_bytes()
    except OSError as exc:
        yield InputError(path, f"cannot read: {exc.strerror or exc}")
        return
    yield from _from_bytes(path, data, p, max_chars)


def _decode(where: str, data: bytes) -> str | InputError:
    if b"\x00" in data[:8192]:
        return InputError(where, "binary data (NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return InputError(where, f"not UTF-8 text (byte {exc.start}: {exc.reason})")


def _from_bytes(
    where: str, data: bytes, path: Path | None, max_chars: int
) -> Iterator[Article | InputError]:
    text = _decode(where, data)
    if isinstance(text, InputError):
        yield text
        return
    suffix = path.suffix.lower() if path else ""
    stripped = text.lstrip()
    if suffix in JSONL_SUFFIXES or (path is None and stripped.startswith("{")):
        yield from _jsonl(where, text, max_chars)
    elif suffix == ".json":
        yield from _json(where, text, max_chars)
    elif suffix in HTML_SUFFIXES or (path is None and stripped[:15].lower().startswith(
            ("<!doctype html", "<html"))):
        yield _article(where, {"html": text, "source": where}, max_chars)
    else:
        yield _article(where, {"text": text}, max_chars)


def _article(where: str, data: dict[str, object], max_chars: int) -> Article | InputError:
    try:
        return parse_article({k: v for k, v in data.items() if v is not None}, max_chars)
    except InvalidArticle as exc:
        return InputError(where, str(exc))


def _jsonl(where: str, text: str, max_chars: int) -> Iterator[Article | InputError]:
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield parse_article(line, max_chars)
        except InvalidArticle as exc:
            yield InputError(f"{where}:{lineno}", str(exc))


def _json(where: str, text: str, max_chars: int) -> Iterator[Article | InputError]:
    try:
        data = loads(text)
    except UnsafeJSON as exc:
        yield InputError(where, str(exc))
        return
    items = data if isinstance(data, list) else [data]
    for i, item in enumerate(items):
        try:
            yield parse_article(item, max_chars)
        except InvalidArticle as exc:
            yield InputError(f"{where}[{i}]" if isinstance(data, list) else where, str(exc))
