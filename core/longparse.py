"""Parse long texts in pieces cut at paragraph breaks, joined back into one ``Doc``.

A whole long article in one ``nlp()`` call keeps the process inside spaCy's compiled
code for tens of seconds, where no time limit can interrupt it. ``parse_texts`` gives
spaCy texts of at most ``max_chars`` characters: a longer text is cut just after a
paragraph break (a whitespace run holding a newline, which starts a sentence anyway),
else after a sentence end, else at a space, and only in a text with none of these at a
fixed length. The parsed pieces are joined with ``Doc.from_docs`` without adding
whitespace: the joined ``Doc``'s text is the input exactly and every token's ``idx`` is
its offset in it. A sentence never spans a cut (each piece starts a sentence), so a cut
never merges sentences; a cut at a space inside a sentence (text with no paragraph
breaks or sentence ends for ``max_chars / 4`` characters) splits that sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import pairwise
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

#: Longest text given to spaCy in one piece: about two seconds of parsing here.
MAX_PIECE_CHARS = 10_000

_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s+")
_SPACE = re.compile(r"\s+")


def cut_points(text: str, max_chars: int = MAX_PIECE_CHARS) -> list[int]:
    """Offsets where ``text`` is cut into pieces of at most ``max_chars`` characters.

    Each cut is just after whitespace (so the next piece starts with a word), chosen in
    the last three quarters of the window: a newline first, then a sentence end, then
    any space."""
    cuts: list[int] = []
    at = 0
    while len(text) - at > max_chars:
        low, high = at + max_chars // 4, at + max_chars
        cut = _last_newline_cut(text, low, high)
        if cut is None:
            cut = _last_match_end(_SENTENCE_END, text, low, high)
        if cut is None:
            cut = _last_match_end(_SPACE, text, low, high)
        if cut is None or cut <= at:
            cut = high
        cuts.append(cut)
        at = cut
    return cuts


def _last_newline_cut(text: str, low: int, high: int) -> int | None:
    """Just after the whitespace run around the last newline in ``[low, high)``
    (at ``high`` if the run goes on past it)."""
    nl = text.rfind("\n", low, high)
    if nl < 0:
        return None
    end = nl + 1
    while end < high and text[end].isspace():
        end += 1
    return end


def _last_match_end(pattern: re.Pattern[str], text: str, low: int, high: int) -> int | None:
    last = None
    for match in pattern.finditer(text, low, high):
        if match.end() < high:  # a match cut by the window's end is not a whole break
            last = match.end()
    return last


def pieces(text: str, max_chars: int = MAX_PIECE_CHARS) -> list[str]:
    """``text`` cut at ``cut_points``; the pieces concatenate to ``text``."""
    bounds = [0, *cut_points(text, max_chars), len(text)]
    return [text[a:b] for a, b in pairwise(bounds)]


class TextTooLong(ValueError):
    """The text has more tokens than the parse is allowed (``spacy.max_tokens``)."""


def parse_texts(
    nlp: Language,
    texts: Iterable[str],
    batch_size: int = 32,
    max_chars: int = MAX_PIECE_CHARS,
    max_tokens: int | None = None,
) -> Iterator[Doc]:
    """``nlp.pipe(texts)``, except that a text over ``max_chars`` is parsed in pieces.

    Short texts are batched as usual; a long text's pieces go through ``nlp.pipe`` one
    at a time, so control comes back to Python (and to signal handlers such as a time
    limit) every ``max_chars`` characters or so. Each text is tokenized first (which
    costs little); one with more than ``max_tokens`` tokens raises ``TextTooLong``
    before the costly part of the parse starts."""
    short: list[Doc] = []
    for text in texts:
        if len(text) <= max_chars:
            short.append(_tokenized(nlp, [text], max_tokens)[0])
            continue
        # keep the input order: the short texts before this one are parsed first
        yield from nlp.pipe(short, batch_size=batch_size)
        short = []
        yield _parse_long(nlp, text, max_chars, max_tokens)
    yield from nlp.pipe(short, batch_size=batch_size)


def _tokenized(nlp: Language, parts: list[str], max_tokens: int | None) -> list[Doc]:
    docs = [nlp.make_doc(part) for part in parts]
    count = sum(len(d) for d in docs)
    if max_tokens is not None and count > max_tokens:
        raise TextTooLong(
            f"the text has {count:,} tokens, more than spacy.max_tokens ({max_tokens:,}): "
            "parsing it would outlast the worker's time limit; split the article, or raise "
            "spacy.max_tokens together with the worker's time limits"
        )
    return docs


def _parse_long(nlp: Language, text: str, max_chars: int, max_tokens: int | None) -> Doc:
    from spacy.tokens import Doc

    parts = list(nlp.pipe(_tokenized(nlp, pieces(text, max_chars), max_tokens), batch_size=1))
    return Doc.from_docs(parts, ensure_whitespace=False)
