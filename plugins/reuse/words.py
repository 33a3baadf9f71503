"""Words of a text with their offsets, and the normalised form duplicates are compared in.

Two texts are the same when they are equal after folding case, writing every quotation
mark and apostrophe as a plain one and collapsing whitespace; ``fingerprint`` is a digest
of that form. ``words`` finds the words (runs of letters and digits, casefolded) with
their character offsets, which shingles and passages are built from.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

#: Quotation marks and apostrophes of many scripts, written as the plain ones.
_QUOTES = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u0060": "'",
    "\u00b4": "'", "\u2039": "'", "\u203a": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"',
    "\u00bb": '"', "\u300c": '"', "\u300d": '"',
})
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


def normalise(text: str) -> str:
    """``text`` with case folded, quotes made plain and whitespace collapsed to one space."""
    return _SPACE.sub(" ", text.translate(_QUOTES).casefold()).strip()


def fingerprint(text: str) -> str:
    """A digest of the normalised text: equal for texts that differ only in case, quotes
    and whitespace."""
    return hashlib.sha256(normalise(text).encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(frozen=True)
class Words:
    """The words of a text: their folded forms and where each starts and ends."""

    forms: list[str]
    starts: list[int]
    ends: list[int]

    def __len__(self) -> int:
        return len(self.forms)


def words(text: str) -> Words:
    """Every word of ``text`` (letters and digits; case folded) with its offsets."""
    spans = [m.span() for m in _WORD.finditer(text)]
    folded = text.casefold()
    if len(folded) != len(text):  # a letter whose folded form is longer (ß -> ss)
        forms = [text[a:b].casefold() for a, b in spans]
    else:
        forms = [folded[a:b] for a, b in spans]
    return Words(forms, [a for a, _ in spans], [b for _, b in spans])


def shingles(forms: list[str], size: int) -> list[str]:
    """The runs of ``size`` consecutive words (the whole text when it is shorter)."""
    if len(forms) < size:
        return [" ".join(forms)] if forms else []
    return [" ".join(forms[i:i + size]) for i in range(len(forms) - size + 1)]
