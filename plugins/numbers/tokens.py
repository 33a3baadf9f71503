"""A light tokenizer with character offsets, shared by the number readers.

Digits with their group and decimal separators ("1,250.5"), runs of letters and
every other non-space character become tokens; each remembers whether a space
came before it, which tells "7bn" from "7 bn" and "10-12" from "10 - 12".
The pattern has no nested quantifiers over overlapping classes, so it is linear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+|\S")


@dataclass(frozen=True, slots=True)
class Token:
    """A light token with character offsets and its index in the token list."""

    text: str
    start: int
    end: int
    space_before: bool
    index: int
    #: ``text`` lower-cased once here: the readers compare it at every position
    lower: str

    @property
    def is_digits(self) -> bool:
        return self.text[0].isdigit() and self.text[0].isascii()

    @property
    def is_alpha(self) -> bool:
        return self.text.isalpha()


def tokenize(text: str, offset: int = 0) -> list[Token]:
    """Tokens of ``text``; offsets are shifted by ``offset``."""
    tokens: list[Token] = []
    prev_end = -1
    for i, match in enumerate(_TOKEN.finditer(text)):
        start = match.start()
        word = match.group()
        tokens.append(
            Token(
                text=word,
                start=start + offset,
                end=match.end() + offset,
                space_before=prev_end != start,
                index=i,
                lower=word.lower(),
            )
        )
        prev_end = match.end()
    return tokens


def phrase_tokens(phrase: str) -> tuple[str, ...]:
    """The token texts of an alias from the data files ("sq km" → ("sq", "km"))."""
    return tuple(t.text for t in tokenize(phrase))
