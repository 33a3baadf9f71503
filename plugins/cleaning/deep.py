"""Visible text of a page without building a tree, for pages lxml cannot hold.

libxml2 refuses to nest elements deeper than its limit (2,048 with ``huge_tree``), and the
text below that depth is lost from its tree. Python's ``html.parser`` is a tokenizer that
keeps only a stack count, so it reads any depth: block elements become line breaks,
``script``/``style``/``template`` and the ``head`` are left out.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: Elements that never have content, so never open a level of nesting.
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                  "param", "source", "track", "wbr"})
#: Elements whose content is not visible text.
HIDDEN = frozenset({"script", "style", "template", "noscript", "head", "title", "svg"})
#: Elements that end a line of text.
BLOCK = frozenset({"address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
                   "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
                   "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section",
                   "table", "td", "th", "tr", "ul"})


class _TextReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.depth = 0
        self.max_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.depth += 1
            self.max_depth = max(self.max_depth, self.depth)
        if tag in HIDDEN:
            self.hidden += 1
        if tag in BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID:
            self.depth = max(0, self.depth - 1)
        if tag in HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        if tag in BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def _read(html: str) -> _TextReader:
    reader = _TextReader()
    reader.feed(html)
    reader.close()
    return reader


def visible_text(html: str) -> str:
    """The page's visible text, one block a line, blank lines between blocks removed."""
    raw = "".join(_read(html).parts)
    lines = (re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in raw.split("\n"))
    return "\n".join(line for line in lines if line)


def nesting_depth(html: str) -> int:
    """How deep the page's elements nest (void elements do not count)."""
    return _read(html).max_depth
