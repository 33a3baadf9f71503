"""Text normalization for the cleaning stage: one line at a time, meaning kept.

``normalize_line`` repairs mojibake (ftfy), composes Unicode to NFC, turns every kind of
horizontal space (tabs, non-breaking and thin spaces…) into one plain space, drops
invisible zero-width and soft-hyphen characters, and puts spaces around a dash glued
between a word and a number ("strikes—472" → "strikes — 472") so the tokenizer does not
read it as one token. Quotation marks and dashes themselves are kept as they are: quote
attribution and number parsing depend on them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

import ftfy

#: Line separators: CRLF first so it counts once; then the single-character ones Python's
#: ``str.splitlines`` also honours (LF, CR, VT, FF, NEL, LS, PS).
_LINE_BREAK = re.compile(r"\r\n|[\n\r\x0b\x0c\x85\u2028\u2029]")

#: Invisible characters that only get in the way: zero-width space/joiners, direction
#: marks, word joiner and invisible operators, BOM, soft hyphen.
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2060-\u2064\ufeff]")

#: Horizontal whitespace (``\s`` without the line breaks) that is not already a single
#: plain space: runs of two or more, or one tab, NBSP, thin space…
_HSPACE = re.compile(
    r"[^\S\n\r\x0b\x0c\x85\u2028\u2029]{2,}|[^\S\n\r\x0b\x0c\x85\u2028\u2029 ]"
)

#: Mojibake repair reads lines up to this length; a longer "line" is not prose anyone
#: typed (a pasted blob, an attack), and ftfy's heuristics cost ~0.5 s a megabyte.
MAX_REPAIR_CHARS = 100_000

#: An em dash or horizontal bar glued on both sides, where not both sides are letters
#: (spaCy already splits "Putin—a") and not both are digits (a range such as 2019—2020):
#: letter—digit, letter—symbol, digit—letter, digit—symbol, symbol—anything.
_EM_DASH = re.compile(
    r"(?<=[^\W\d_])[\u2014\u2015](?=\d|[^\w\s])"
    r"|(?<=\d)[\u2014\u2015](?=[^\W\d_]|[^\w\s])"
    r"|(?<=[^\w\s])[\u2014\u2015](?=\S)"
)
#: An en dash between a lowercase word of three letters or more and a number, either way
#: round ("strikes–472", "472–drones"); "F–16" or "3–2" are left alone.
_EN_DASH = re.compile(r"(?<=[a-z]{3})\u2013(?=\d)|(?<=\d)\u2013(?=[a-z]{3})")


def iter_lines(text: str) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of every line of ``text``, line breaks excluded."""
    start = 0
    for brk in _LINE_BREAK.finditer(text):
        yield start, brk.start()
        start = brk.end()
    yield start, len(text)


def repair(text: str) -> str:
    """Fix mojibake and compose to NFC (ftfy's last step); quotes, dashes and line breaks
    are untouched."""
    return ftfy.fix_text(
        text,
        uncurl_quotes=False,
        fix_line_breaks=False,
        normalization="NFC",
        explain=False,
    )


def _may_need_repair(text: str) -> bool:
    """False for plain ASCII without HTML entities or escape sequences: nothing for ftfy
    to fix (mojibake needs non-ASCII characters), and most lines are like that."""
    return not text.isascii() or "&" in text or "\x1b" in text


def space_dashes(text: str) -> str:
    """Spaces around a dash glued between a word and a number, so it is its own token."""
    if "\u2014" in text or "\u2015" in text:
        text = _EM_DASH.sub(" \\g<0> ", text)
    if "\u2013" in text:
        text = _EN_DASH.sub(" \u2013 ", text)
    return text


def normalize_line(text: str, fix_encoding: bool = True) -> str:
    """One line of text, repaired and with its spacing made regular (no line breaks)."""
    if fix_encoding and len(text) <= MAX_REPAIR_CHARS and _may_need_repair(text):
        text = repair(text)
    else:
        text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = space_dashes(text)
    return _HSPACE.sub(" ", text).strip()
