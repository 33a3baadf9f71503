"""Qualifiers as data (``data/qualifiers.toml``): the words before a number that make
it a bound or an estimate ("at least 12" → at_least, "an estimated $7 billion" →
approximately), read backwards from the number, longest phrase first.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from copydesk.plugins.numbers.tokens import Token, phrase_tokens

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class QualifierMatch:
    """A qualifier phrase found beside a number."""

    qualifier: str | None  # None for neutral words ("exactly", "a total of")
    start: int  # token index where the phrase begins


class QualifierTable:
    """The qualifier phrases of ``data/qualifiers.toml``, matched before and after a number."""

    def __init__(self, data: dict[str, object]) -> None:
        self.phrases: list[tuple[tuple[str, ...], str | None]] = []
        for qualifier, phrases in dict(data["qualifier"]).items():  # type: ignore[call-overload]
            for phrase in phrases:
                self.phrases.append((tuple(t.lower() for t in phrase_tokens(phrase)), qualifier))
        for phrase in dict(data.get("neutral", {})).get("words", []):  # type: ignore[call-overload]
            self.phrases.append((tuple(t.lower() for t in phrase_tokens(phrase)), None))
        self.phrases.sort(key=lambda item: -len(item[0]))
        #: last word → the phrases ending in it, longest first
        self._by_last: dict[str, list[tuple[tuple[str, ...], str | None]]] = {}
        for phrase, qualifier in self.phrases:
            self._by_last.setdefault(phrase[-1], []).append((phrase, qualifier))

    def before(self, tokens: Sequence[Token], i: int) -> QualifierMatch | None:
        """The qualifier phrase ending right before token ``i``."""
        if i == 0:
            return None
        for phrase, qualifier in self._by_last.get(tokens[i - 1].lower, ()):
            start = i - len(phrase)
            if start < 0:
                continue
            if all(tokens[start + k].lower == phrase[k] for k in range(len(phrase))):
                if phrase == ("some",) and start > 0 and tokens[start - 1].lower in ("for",):
                    continue
                return QualifierMatch(qualifier, start)
        return None

    def after(self, tokens: Sequence[Token], i: int) -> QualifierMatch | None:
        """ "or so", "or more", "or under", "plus" after a number ("20 or so", "500-plus")."""
        n = len(tokens)
        if i + 1 < n and tokens[i].lower == "or":
            word = tokens[i + 1].lower
            if word == "so":
                return QualifierMatch("approximately", i + 2)
            if word in ("more", "over", "above", "older"):
                return QualifierMatch("at_least", i + 2)  # "65 or over"
            if word in ("less", "fewer", "under", "below", "younger"):
                return QualifierMatch("at_most", i + 2)  # "aged 18 or under"
        if i < n and tokens[i].text == "+" and not tokens[i].space_before:
            return QualifierMatch("at_least", i + 1)
        if (
            i + 1 < n
            and tokens[i].text == "-"
            and tokens[i + 1].lower == "plus"
            and not tokens[i].space_before
        ):
            return QualifierMatch("at_least", i + 2)
        return None


@lru_cache(maxsize=1)
def qualifier_table() -> QualifierTable:
    with (DATA / "qualifiers.toml").open("rb") as fh:
        return QualifierTable(tomllib.load(fh))
