"""Find the stretches of text that stand inside quotation marks.

Handles straight and curly double quotes, low-9 and guillemet openers, single quotes
used as quotation marks (British style) told apart from apostrophes, quotes nested in
other quotes, and quotes running over several paragraphs the way newspapers write them:
an opening mark at the start of every paragraph and a closing mark only at the end.

The result is a list of top-level :class:`Quoted` spans (from the opening mark to one
past the closing mark), each holding the quotes nested inside it. Marks that never
close within their paragraph (and do not continue in the next one) are dropped: an
unbalanced mark is no evidence of a quote.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field

#: Opening mark -> the closing marks that may end it.
CURLY_DOUBLE = {"“": "”", "„": "”“", "«": "»"}
CURLY_SINGLE = {"‘": "’", "‚": "’‘", "‹": "›"}
CLOSERS_DOUBLE = set("”»")
CLOSERS_SINGLE = set("’›")
STRAIGHT_DOUBLE = '"'
STRAIGHT_SINGLE = "'"
ALL_MARKS = set(CURLY_DOUBLE) | set(CURLY_SINGLE) | CLOSERS_DOUBLE | CLOSERS_SINGLE | {
    STRAIGHT_DOUBLE,
    STRAIGHT_SINGLE,
}
_OPEN_BEFORE = set("([{—–-/:;,") | set(CURLY_DOUBLE) | set(CURLY_SINGLE) | {'"', "'"}
_CLOSE_AFTER = set(".,;:!?)]}—–-/…") | CLOSERS_DOUBLE | CLOSERS_SINGLE | {'"', "'"}

DOUBLE = "double"
SINGLE = "single"


@dataclass
class Quoted:
    """A span inside quotation marks: ``text[start:end]`` includes both marks."""

    start: int
    end: int
    family: str  # "double" or "single"
    depth: int = 0
    open_len: int = 1
    close_len: int = 1
    #: Offsets of the paragraph-opening marks of a multi-paragraph quote (after the first).
    continuations: list[int] = field(default_factory=list)
    nested: list[Quoted] = field(default_factory=list)

    @property
    def inner_start(self) -> int:
        return self.start + self.open_len

    @property
    def inner_end(self) -> int:
        return self.end - self.close_len

    def inner(self, text: str) -> str:
        return text[self.inner_start : self.inner_end]

    @property
    def paragraphs(self) -> int:
        return 1 + len(self.continuations)


@dataclass
class _Open:
    pos: int
    family: str
    mark: str
    length: int = 1
    continuations: list[int] = field(default_factory=list)
    children: list[Quoted] = field(default_factory=list)


def _is_space(ch: str) -> bool:
    return ch == "" or ch.isspace()


def _opening_context(prev: str, nxt: str) -> bool:
    return (_is_space(prev) or prev in _OPEN_BEFORE) and not _is_space(nxt)


def _closing_context(prev: str, nxt: str) -> bool:
    return not _is_space(prev) and (_is_space(nxt) or nxt in _CLOSE_AFTER)


def _family_open(stack: list[_Open], family: str) -> int | None:
    """Index in ``stack`` of the innermost open quote of ``family``."""
    for i in range(len(stack) - 1, -1, -1):
        if stack[i].family == family:
            return i
    return None


def _classify(text: str, i: int, stack: list[_Open]) -> str | None:
    """'open', 'close' or None (not a quotation mark here, e.g. an apostrophe)."""
    ch = text[i]
    prev = text[i - 1] if i > 0 else ""
    nxt = text[i + 1] if i + 1 < len(text) else ""
    if ch in CURLY_DOUBLE:
        return "open"
    if ch in CLOSERS_DOUBLE:
        return "close" if _family_open(stack, DOUBLE) is not None else None
    if ch == STRAIGHT_DOUBLE:
        opening, closing = _opening_context(prev, nxt), _closing_context(prev, nxt)
        has_open = _family_open(stack, DOUBLE) is not None
        if opening and not closing:
            # straight quotes cannot nest in themselves: an open one is closed here
            straight_open = any(o.mark == STRAIGHT_DOUBLE for o in stack)
            return "close" if straight_open else "open"
        if closing and not opening:
            return "close" if has_open else None
        return "close" if has_open else "open"
    if ch in CURLY_SINGLE:
        if (_is_space(prev) or prev in _OPEN_BEFORE) and nxt.isalpha():
            return "open"
        return None
    if ch in CLOSERS_SINGLE or ch == STRAIGHT_SINGLE:
        if prev.isalnum() and nxt.isalnum():
            return None  # apostrophe inside a word: don't, Ukraine’s
        if ch == STRAIGHT_SINGLE and _opening_context(prev, nxt) and nxt.isalpha():
            return "open"
        if _closing_context(prev, nxt) and _family_open(stack, SINGLE) is not None:
            return "close"
        return None
    return None


DOUBLED_SINGLE = "''"


def _as_straight(text: str, i: int) -> tuple[str, int]:
    """The characters around the two apostrophes at ``i``, read as one straight double
    quote, and the position of that quote in them."""
    before = text[i - 1 : i] if i > 0 else ""
    return before + STRAIGHT_DOUBLE + text[i + 2 : i + 3], len(before)


def _next_paragraph_opener(text: str, i: int) -> int | None:
    """Offset of the first non-space character after the line break at ``i``."""
    j = i
    while j < len(text) and text[j].isspace():
        j += 1
    return j if j < len(text) else None


def _continues(text: str, opener: _Open, j: int | None) -> bool:
    if j is None:
        return False
    ch = text[j]
    if opener.family == DOUBLE:
        return ch in CURLY_DOUBLE or ch == STRAIGHT_DOUBLE or text.startswith(DOUBLED_SINGLE, j)
    return ch in CURLY_SINGLE or ch == STRAIGHT_SINGLE


def find_quoted(text: str) -> list[Quoted]:
    """Every top-level quoted span of ``text``, in order, with nested quotes inside."""
    top: list[Quoted] = []
    stack: list[_Open] = []
    skip: set[int] = set()
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            j = _next_paragraph_opener(text, i)
            if stack:
                bottom = stack[0]
                if _continues(text, bottom, j) and j is not None:
                    # a multi-paragraph quote: the next paragraph reopens it
                    bottom.continuations.append(j)
                    skip.add(j)
                    if text.startswith(DOUBLED_SINGLE, j):
                        skip.add(j + 1)
                    for dropped in stack[1:]:
                        bottom.children.extend(dropped.children)
                    del stack[1:]
                else:
                    _drop_unclosed(stack, top)
            i = n if j is None else j
            continue
        if ch not in ALL_MARKS or i in skip:
            i += 1
            continue
        length = 1
        if text.startswith(DOUBLED_SINGLE, i):
            # ''like this'': two apostrophes standing for a straight double quote
            length = 2
            window, local = _as_straight(text, i)
            kind = _classify(window, local, stack)
            family = DOUBLE
            ch = STRAIGHT_DOUBLE
        else:
            kind = _classify(text, i, stack)
            family = DOUBLE if ch in CURLY_DOUBLE or ch in CLOSERS_DOUBLE or ch == '"' else SINGLE
        if kind == "open":
            stack.append(_Open(i, family, ch, length))
        elif kind == "close":
            k = _family_open(stack, family)
            if k is not None:
                # anything opened inside and never closed was not a quote
                for dropped in stack[k + 1 :]:
                    stack[k].children.extend(dropped.children)
                del stack[k + 1 :]
                opener = stack.pop()
                quoted = Quoted(
                    start=opener.pos,
                    end=i + length,
                    family=family,
                    depth=len(stack),
                    open_len=opener.length,
                    close_len=length,
                    continuations=opener.continuations,
                    nested=opener.children,
                )
                if stack:
                    stack[-1].children.append(quoted)
                else:
                    top.append(quoted)
        i += length
    _drop_unclosed(stack, top)
    top.sort(key=lambda q: q.start)
    return top


def _drop_unclosed(stack: list[_Open], top: list[Quoted]) -> None:
    """Forget unclosed openers; quotes closed inside them become top-level."""
    for opener in stack:
        for child in opener.children:
            _set_depth(child, 0)
            top.append(child)
    stack.clear()


def _set_depth(quoted: Quoted, depth: int) -> None:
    quoted.depth = depth
    for child in quoted.nested:
        _set_depth(child, depth + 1)


class SpanIndex:
    """Non-overlapping ``(start, end)`` spans, asked "is this offset inside one?" fast."""

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        self.spans = sorted(spans)
        self.starts = [s for s, _ in self.spans]

    def contains(self, pos: int) -> bool:
        k = bisect_right(self.starts, pos) - 1
        return k >= 0 and pos < self.spans[k][1]

    def span_at(self, pos: int) -> tuple[int, int] | None:
        """The span holding offset ``pos``, or None."""
        k = bisect_right(self.starts, pos) - 1
        if k >= 0 and pos < self.spans[k][1]:
            return self.spans[k]
        return None

    def covered(self, start: int, end: int) -> int:
        """How many characters of ``[start, end)`` lie inside the spans."""
        total = 0
        k = max(0, bisect_right(self.starts, start) - 1)
        while k < len(self.spans) and self.spans[k][0] < end:
            s, e = self.spans[k]
            total += max(0, min(end, e) - max(start, s))
            k += 1
        return total
