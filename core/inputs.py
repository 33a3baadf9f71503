"""Reading articles from files: ``.txt``, ``.html``/``.htm``, ``.json`` and ``.jsonl``/``-``.

Each input yields ``Article`` objects or ``InputError``s that name the file (and line),
so one bad input never hides the others' results.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from copydesk.charset import UndecodableHTML, decode_html
from copydesk.document import Article, ArticleRules, InvalidArticle
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
    paths: list[str], rules: ArticleRules | None = None
) -> Iterator[Article | InputError]:
    """Articles from each path in turn (``-`` is standard input, read as JSONL or text)."""
    for path in paths:
        yield from read_input(path, rules or ArticleRules())


def read_input(path: str, rules: ArticleRules | None = None) -> Iterator[Article | InputError]:
    rules = rules or ArticleRules()
    if path == "-":
        yield from _from_stdin(rules)
        return
    p = Path(path)
    try:
        if p.is_dir():
            yield InputError(path, "is a directory; give files (e.g. dir/*.txt)")
            return
        size = p.stat().st_size
        suffix = p.suffix.lower()
        if suffix in JSONL_SUFFIXES:
            with p.open("rb") as lines:
                yield from _jsonl_lines(path, lines, rules)
            return
        limit, setting = ((rules.max_html_chars, "max_html_chars") if suffix in HTML_SUFFIXES
                          else (rules.max_chars, "max_article_chars"))
        if size > limit * 4 + 1024 and suffix not in JSONL_SUFFIXES | {".json"}:
            yield InputError(path, f"file of {size:,} bytes is over the size limit "
                             f"({limit:,} characters, setting {setting})")
            return
        data = p.read_bytes()
    except OSError as exc:
        yield InputError(path, f"cannot read: {exc.strerror or exc}")
        return
    yield from _from_bytes(path, data, p, rules)


def _decode(where: str, data: bytes, html: bool) -> str | InputError:
    """Text files are UTF-8; an HTML page is read in the charset it declares (``charset``)."""
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    if b"\x00" in data[:8192] and not (html and utf16):
        return InputError(where, "binary data (NUL bytes), not text")
    if html:
        try:
            return decode_html(data)[0]
        except UndecodableHTML as exc:
            return InputError(where, str(exc))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return InputError(where, f"not UTF-8 text (byte {exc.start}: {exc.reason})")


def _looks_like_html(data: bytes) -> bool:
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:15].lower()
    return head.startswith((b"<!doctype html", b"<html"))


def _from_bytes(
    where: str, data: bytes, path: Path | None, rules: ArticleRules
) -> Iterator[Article | InputError]:
    suffix = path.suffix.lower() if path else ""
    html = suffix in HTML_SUFFIXES or (path is None and _looks_like_html(data))
    text = _decode(where, data, html)
    if isinstance(text, InputError):
        yield text
        return
    stripped = text.lstrip()
    if suffix in JSONL_SUFFIXES or (path is None and stripped.startswith("{")):
        yield from _jsonl(where, text, rules)
    elif suffix == ".json":
        yield from _json(where, text, rules)
    elif html:
        yield _article(where, {"html": text, "source": where}, rules)
    else:
        yield _article(where, {"text": text}, rules)


def _article(where: str, data: dict[str, object], rules: ArticleRules) -> Article | InputError:
    try:
        return rules.parse({k: v for k, v in data.items() if v is not None})
    except InvalidArticle as exc:
        return InputError(where, str(exc))


def _jsonl(where: str, text: str, rules: ArticleRules) -> Iterator[Article | InputError]:
    for lineno, line in enumerate(text.splitlines(), 1):
        yield from _jsonl_line(where, lineno, line, rules)


def _jsonl_line(where: str, lineno: int, line: str, rules: ArticleRules
                ) -> Iterator[Article | InputError]:
    if not line.strip():
        return
    try:
        yield rules.parse(line)
    except InvalidArticle as exc:
        yield InputError(f"{where}:{lineno}", str(exc))


def _jsonl_lines(where: str, lines: Iterable[bytes], rules: ArticleRules
                 ) -> Iterator[Article | InputError]:
    """A JSON Lines stream read line by line, so a file of any length is read in constant
    memory (a backfill of millions of articles); each line is decoded on its own."""
    for lineno, raw in enumerate(lines, 1):
        if lineno == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        if b"\x00" in raw:
            yield InputError(f"{where}:{lineno}", "binary data (NUL bytes), not text")
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield InputError(f"{where}:{lineno}",
                             f"not UTF-8 text (byte {exc.start}: {exc.reason})")
            continue
        yield from _jsonl_line(where, lineno, line, rules)


def _from_stdin(rules: ArticleRules) -> Iterator[Article | InputError]:
    """Standard input: JSON Lines (first non-blank byte ``{``) are streamed line by line;
    anything else is read whole as one text or HTML article."""
    stream = sys.stdin.buffer
    head = b""
    while not head.strip(b"\xef\xbb\xbf \t\r\n"):
        line = stream.readline()
        if not line:
            break
        head += line
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        lines = itertools.chain(head.splitlines(keepends=True), stream)
        yield from _jsonl_lines("<stdin>", lines, rules)
        return
    yield from _from_bytes("<stdin>", head + stream.read(), None, rules)


def _json(where: str, text: str, rules: ArticleRules) -> Iterator[Article | InputError]:
    try:
        data = loads(text)
    except UnsafeJSON as exc:
        yield InputError(where, str(exc))
        return
    items = data if isinstance(data, list) else [data]
    for i, item in enumerate(items):
        try:
            yield rules.parse(item)
        except InvalidArticle as exc:
            yield InputError(f"{where}[{i}]" if isinstance(data, list) else where, str(exc))
