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

#: Horizontal whitespace of any kind (``\s`` without the line breaks), runs of it.
_HSPACE = re.compile(r"[^\S\n\r\x0b\x0c\x85\u2028\u2029]+")

#: An em dash or horizontal bar glued on both sides, where not both sides are letters
#: (spaCy already splits "Putin—a") and not both are digits (a range such as 2019—2020).
_EM_DASH = re.compile(r"(?<=\S)[\u2014\u2015](?=\S)")
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
    """Fix mojibake and compose to NFC; quotes, dashes and line breaks are untouched."""
    fixed = ftfy.fix_text(
        text,
        uncurl_quotes=False,
        fix_line_breaks=False,
        normalization="NFC",
        explain=False,
    )
    return unicodedata.normalize("NFC", fixed)


def space_dashes(text: str) -> str:
    """Spaces around a dash glued between a word and a number, so it is its own token."""
    text = _EM_DASH.sub(_spaced_em_dash, text)
    return _EN_DASH.sub(" \u2013 ", text)


def _spaced_em_dash(match: re.Match[str]) -> str:
    text = match.string
    left, right = text[match.start() - 1], text[match.end()]
    if (left.isalpha() and right.isalpha()) or (left.isdigit() and right.isdigit()):
        return match.group()
    return f" {match.group()} "


def normalize_line(text: str, fix_encoding: bool = True) -> str:
    """One line of text, repaired and with its spacing made regular (no line breaks)."""
    text = repair(text) if fix_encoding else unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = space_dashes(text)
    return _HSPACE.sub(" ", text).strip()
