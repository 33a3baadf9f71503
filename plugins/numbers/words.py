"""Number words to values: "forty-six" → 46, "three and a half million" → 3500000.

The lexicon is small and closed (English cardinals, ordinals, scales and fraction
words), so it lives here as tables. ``read_word_number`` reads the longest number
phrase that starts at a token and stops where a new number would begin, so lists
such as "four, five and six" come out as three numbers, not one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

UNITS: dict[str, int] = {
    "zero": 0,
    "nought": 0,
    "naught": 0,
    "nil": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
TEENS: dict[str, int] = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS: dict[str, int] = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
#: Multipliers; "hundred" is handled apart because it multiplies within a group.
SCALES: dict[str, int] = {
    "thousand": 1_000,
    "lakh": 100_000,
    "lac": 100_000,
    "lakhs": 100_000,
    "lacs": 100_000,
    "million": 1_000_000,
    "crore": 10_000_000,
    "crores": 10_000_000,
    "cr": 10_000_000,
    "koti": 10_000_000,
    "billion": 1_000_000_000,
    "trillion": 1_000_000_000_000,
}
PLURAL_SCALES: dict[str, int] = {
    "hundreds": 100,
    "thousands": 1_000,
    "millions": 1_000_000,
    "billions": 1_000_000_000,
    "trillions": 1_000_000_000_000,
    "tens": 10,
    "dozens": 12,
    "scores": 20,
    "lakhs": 100_000,
    "crores": 10_000_000,
}
#: Plural scales that are counts only before "of" ("scores of people", not "the scores").
PLURAL_NEEDS_OF = frozenset({"scores", "tens"})
ORDINAL_UNITS: dict[str, int] = {
    "zeroth": 0,
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
}
ORDINAL_TENS: dict[str, int] = {
    "twentieth": 20,
    "thirtieth": 30,
    "fortieth": 40,
    "fiftieth": 50,
    "sixtieth": 60,
    "seventieth": 70,
    "eightieth": 80,
    "ninetieth": 90,
}
ORDINAL_SCALES: dict[str, int] = {
    "hundredth": 100,
    "thousandth": 1_000,
    "millionth": 1_000_000,
    "billionth": 1_000_000_000,
}
#: Denominators: "two-thirds", "one sixth", "three halves", "a quarter".
FRACTIONS: dict[str, int] = {
    "half": 2,
    "halves": 2,
    "third": 3,
    "thirds": 3,
    "quarter": 4,
    "quarters": 4,
    "fourth": 4,
    "fourths": 4,
    "fifth": 5,
    "fifths": 5,
    "sixth": 6,
    "sixths": 6,
    "seventh": 7,
    "sevenths": 7,
    "eighth": 8,
    "eighths": 8,
    "ninth": 9,
    "ninths": 9,
    "tenth": 10,
    "tenths": 10,
    "hundredth": 100,
    "hundredths": 100,
    "thousandth": 1000,
    "thousandths": 1000,
}
#: Group words that stand for a count: "a dozen", "a couple of", "a pair".
GROUPS: dict[str, int] = {"dozen": 12, "couple": 2, "pair": 2, "score": 20, "gross": 144}
#: Archaic multipliers after a small number word: "four score and seven" is 87.
MULTIPLIERS: dict[str, int] = {"score": 20}
#: Multipliers written as one word with their number: "threescore", "fourscore".
GLUED_MULTIPLIERS: dict[str, float] = {
    small + word: value * factor
    for word, factor in MULTIPLIERS.items()
    for small, value in {**UNITS, **TEENS}.items()
    if value > 1
}
#: Words after "score" that make it the football or test word ("a score draw").
SCORE_NOUNS = frozenset(
    {"draw", "draws", "line", "lines", "board", "boards", "card", "cards", "sheet"}
)
UNICODE_FRACTIONS: dict[str, float] = {
    "½": 1 / 2,
    "⅓": 1 / 3,
    "⅔": 2 / 3,
    "¼": 1 / 4,
    "¾": 3 / 4,
    "⅕": 1 / 5,
    "⅖": 2 / 5,
    "⅗": 3 / 5,
    "⅘": 4 / 5,
    "⅙": 1 / 6,
    "⅚": 5 / 6,
    "⅛": 1 / 8,
    "⅜": 3 / 8,
    "⅝": 5 / 8,
    "⅞": 7 / 8,
}
HYPHENS = frozenset("-‐‑–—")


class Tok(Protocol):
    """What the reader needs of a token: its text and whether a space precedes it."""

    @property
    def text(self) -> str: ...

    @property
    def lower(self) -> str: ...

    @property
    def space_before(self) -> bool: ...


@dataclass
class WordNumber:
    """A number phrase read from tokens ``[start, end)``."""

    value: float
    start: int
    end: int
    ordinal: bool = False
    fraction: bool = False
    #: "thousands of", "hundreds": a vague plural count (value is its lower bound).
    vague_plural: bool = False
    #: The phrase is only the article-led group word ("a dozen", "a couple").
    only_group: bool = False
    #: The scale word that closes the phrase ("two million" → 1e6; "two million
    #: three" → 1), so a smaller group may follow ("one million 250 thousand").
    scale: float = 1.0


def word_kind(word: str) -> str | None:
    """The lexical class of a lower-cased word, or None when it is no number word."""
    if word in UNITS and word not in ("nil",):
        return "unit"
    if word in TEENS:
        return "teen"
    if word in TENS:
        return "tens"
    if word == "hundred":
        return "hundred"
    if word in MULTIPLIERS:
        return "multiplier"
    if word in GLUED_MULTIPLIERS:
        return "glued_multiplier"
    if word in SCALES:
        return "scale"
    if word in ORDINAL_UNITS or word in ORDINAL_TENS or word in ORDINAL_SCALES:
        return "ordinal"
    return None


def is_number_word(word: str) -> bool:
    return word_kind(word.lower()) is not None


class _Group:
    """Accumulates one number: ``total`` of closed scale groups plus ``current``."""

    def __init__(self) -> None:
        self.total = 0.0
        self.current = 0.0
        self.last: str | None = None
        self.last_scale = float("inf")
        self.words = 0

    @property
    def value(self) -> float:
        return self.total + self.current

    def accepts(self, kind: str, value: float) -> bool:
        last = self.last
        if kind == "multiplier":
            # "four score": a small number (2 to 19) times twenty, before any scale
            return last in ("unit", "teen") and self.total == 0 and 1 < self.current < 20
        if last is None:
            return True
        if kind == "glued_multiplier":
            return False
        if kind == "unit":
            return last in ("tens", "hundred", "scale", "and")
        if kind in ("teen", "tens"):
            return last in ("hundred", "scale", "and")
        if kind == "hundred":
            return last in ("unit", "teen", "tens") and self.current < 100
        if kind == "scale":
            if last == "scale" and self.current == 0 and value > self.last_scale:
                return True  # a scale of scales: "two lakh crore", "a thousand million"
            if last not in ("unit", "teen", "tens", "hundred"):
                return False
            return value < self.last_scale or self.total == 0
        return False

    def add(self, kind: str, value: float) -> None:
        if kind in ("unit", "teen", "tens"):
            self.current += value
        elif kind == "hundred":
            self.current = (self.current or 1) * 100
        elif kind == "multiplier":
            self.current *= value
        elif kind == "glued_multiplier":
            self.current = value
        elif kind == "scale":
            if self.last == "scale" and self.current == 0 and value > self.last_scale:
                self.total *= value
            elif value >= self.last_scale:
                self.total = (self.total + (self.current or 1)) * value
            else:
                self.total += (self.current or 1) * value
            self.current = 0
            self.last_scale = value
        self.last = kind
        self.words += 1


def _fraction_after(tokens: Sequence[Tok], i: int) -> tuple[float, int] | None:
    """After "and": "a half", "half", "a quarter", "three quarters", "two quarters of"."""
    n = len(tokens)
    j = i
    numerator = 1.0
    if j < n and tokens[j].lower in ("a", "an"):
        j += 1
    elif j < n and tokens[j].lower in UNITS and tokens[j].lower not in ("zero", "nought"):
        numerator = UNITS[tokens[j].lower]
        j += 1
    if j < n and tokens[j].lower in FRACTIONS and tokens[j].lower not in ("second",):
        return numerator / FRACTIONS[tokens[j].lower], j + 1
    return None


def _hyphen_next(tokens: Sequence[Tok], j: int) -> int:
    """Index after a hyphen joining two number words ("twenty-one"), else ``j``."""
    n = len(tokens)
    if (
        j + 1 < n
        and tokens[j].text in HYPHENS
        and not tokens[j].space_before
        and not tokens[j + 1].space_before
        and is_number_word(tokens[j + 1].text)
    ):
        return j + 1
    return j


#: Words before "half" that make it a part of something else ("the first half",
#: "a half", "one and a half"), not an amount of its own.
HALF_NOT_AFTER = frozenset(
    {
        "the",
        "a",
        "an",
        "one",
        "and",
        "&",
        "this",
        "that",
        "each",
        "its",
        "his",
        "her",
        "their",
        "our",
        "my",
        "your",
        "other",
        "latter",
        "former",
        "in",
        "second",
        "first",
        "final",
    }
)
#: Words after which a "half" closing the clause is an amount ("more than half.").
HALF_ALONE_AFTER = frozenset({"than", "about", "nearly", "almost", "roughly", "around", "over"})
HALF_DETERMINERS = frozenset({"the", "of", "all", "its", "their", "his", "her", "our", "them"})


def _bare_half(tokens: Sequence[Tok], i: int) -> WordNumber | None:
    """ "half of voters", "half the population", "more than half." → 0.5; not "the first
    half", "half-time", "half an hour" or "half a million" (read elsewhere)."""
    prev = tokens[i - 1].lower if i > 0 else ""
    if prev in HALF_NOT_AFTER or prev in ORDINAL_UNITS or prev.endswith(("th", "nd", "rd")):
        return None
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    if nxt is None or (nxt.text in ".,;:!?)" and (i == 0 or prev in HALF_ALONE_AFTER)):
        return WordNumber(0.5, i, i + 1, fraction=True)
    if nxt.lower in HALF_DETERMINERS and nxt.space_before:
        return WordNumber(0.5, i, i + 1, fraction=True)
    return None


def read_word_number(tokens: Sequence[Tok], i: int) -> WordNumber | None:
    """Read a number written in words starting at token ``i`` (or None).

    Handles cardinals ("nine hundred forty-two thousand six"), Indian scales
    ("four crore six lakh"), "a hundred", "a dozen", "two dozen", "three and a half
    million", fractions ("two-thirds", "three quarters"), ordinals ("sixty-fourth")
    and vague plurals ("thousands", "hundreds of thousands"). The named readers below
    are tried by the first word: an article, "half", a plural scale, else a phrase of
    number words (``_read_group``) and what may close it (``_after_group``).
    """
    if i >= len(tokens):
        return None
    first = tokens[i].lower
    if first in ("a", "an"):
        return _article_led(tokens, i)
    if first == "half":
        return _bare_half(tokens, i)
    if first in PLURAL_SCALES:
        return _vague_plural(tokens, i)
    read = _read_group(tokens, i)
    if read is None:
        return None
    group, end, ordinal = read
    if ordinal:
        return WordNumber(group.value, i, end, ordinal=True)
    return _after_group(tokens, i, group, end)


def _article_led(tokens: Sequence[Tok], i: int) -> WordNumber | None:
    """ "a hundred", "a million", "a dozen", "a couple", "a pair", "a score of
    villagers" (not "a score of 90"), "a third of" (not "a third time")."""
    n = len(tokens)
    if i + 1 >= n:
        return None
    nxt = tokens[i + 1].lower
    if nxt == "hundred" or nxt in SCALES:
        inner = read_word_number(tokens, i + 1)
        if inner is not None:
            inner.start = i
            return inner
    if nxt in GROUPS and nxt not in ("score", "gross"):
        return WordNumber(GROUPS[nxt], i, i + 2, only_group=True)
    if (
        nxt == "score"
        and i + 3 < n
        and tokens[i + 2].lower == "of"
        and tokens[i + 3].text.isalpha()
        and word_kind(tokens[i + 3].lower) is None
        and tokens[i + 3].lower not in ("a", "an", "the", "zero", "nil")
    ):
        return WordNumber(GROUPS[nxt], i, i + 2, only_group=True)
    if (
        nxt in FRACTIONS
        and nxt not in ("half", "halves")
        and not nxt.endswith("s")
        and i + 2 < n
        and tokens[i + 2].lower == "of"
    ):
        return WordNumber(1 / FRACTIONS[nxt], i, i + 2, fraction=True)
    return None


def _vague_plural(tokens: Sequence[Tok], i: int) -> WordNumber | None:
    """ "thousands", "hundreds of thousands", "tens of millions", "scores of" (the
    value is the lower bound)."""
    n = len(tokens)
    first = tokens[i].lower
    value = float(PLURAL_SCALES[first])
    j = i + 1
    if first in PLURAL_NEEDS_OF and not (j < n and tokens[j].lower == "of"):
        return None
    if (
        j + 1 < n
        and tokens[j].lower == "of"
        and tokens[j + 1].lower in PLURAL_SCALES
        and PLURAL_SCALES[tokens[j + 1].lower] > value
    ):
        value *= PLURAL_SCALES[tokens[j + 1].lower]
        j += 2
    return WordNumber(value, i, j, vague_plural=True)


def _and_goes_on(tokens: Sequence[Tok], j: int, group: _Group) -> bool:
    """ "two hundred and six", "four score and seven": "and" before a smaller group."""
    if tokens[j].lower not in ("and", "&") or group.last not in ("hundred", "scale", "multiplier"):
        return False
    nxt = tokens[j + 1].lower if j + 1 < len(tokens) else ""
    nkind = word_kind(nxt)
    return nkind in ("unit", "teen", "tens") or (nkind == "ordinal" and nxt in ORDINAL_UNITS)


def _comma_goes_on(tokens: Sequence[Tok], j: int, group: _Group) -> bool | None:
    """ "five million, three hundred & ten": a comma after a scale word goes on only when
    a smaller group with "hundred" or "and" follows (True), else the phrase ends
    (False); None when this is no comma after a scale word."""
    n = len(tokens)
    if not (
        tokens[j].lower == ","
        and group.last == "scale"
        and j + 1 < n
        and word_kind(tokens[j + 1].lower) in ("unit", "teen", "tens")
    ):
        return None
    k = j + 1
    probe = _Group()
    while k < n and word_kind(tokens[k].lower) in ("unit", "teen", "tens", "hundred"):
        kind = word_kind(tokens[k].lower) or ""
        if not probe.accepts(kind, 0):
            break
        probe.add(kind, float(UNITS.get(tokens[k].lower, TEENS.get(tokens[k].lower, 0))))
        k += 1
    return probe.last == "hundred" or (k < n and tokens[k].lower in ("&", "and"))


def _add_ordinal(group: _Group, word: str) -> bool:
    """Close ``group`` with the ordinal ``word`` ("forty-second", "hundredth"); False
    when it cannot close it ("zeroth" stands alone)."""
    if word in ORDINAL_SCALES:
        if group.last not in ("unit", "teen", "tens", "hundred", None):
            return False
        group.current = (group.current or 1) * ORDINAL_SCALES[word]
        return True
    if word in ORDINAL_TENS:
        if not group.accepts("tens", ORDINAL_TENS[word]):
            return False
        group.current += ORDINAL_TENS[word]
        return True
    if word == "zeroth" and group.last is not None:
        return False
    if not group.accepts("unit" if ORDINAL_UNITS[word] < 10 else "teen", 0):
        return False
    group.current += ORDINAL_UNITS[word]
    return True


def _read_group(tokens: Sequence[Tok], i: int) -> tuple[_Group, int, bool] | None:
    """The number words from ``i`` on, as long as each may follow the one before:
    (the group, token end, whether an ordinal closes it), or None when there are none."""
    n = len(tokens)
    group = _Group()
    j = end = i
    while j < n:
        word = tokens[j].lower
        kind = word_kind(word)
        if kind is None and _and_goes_on(tokens, j, group):
            group.last = "and"
            j += 1
            continue
        comma = _comma_goes_on(tokens, j, group) if kind is None else None
        if comma:
            group.last = "and"
            j += 1
            continue
        if kind == "ordinal":
            if not _add_ordinal(group, word):
                break
            return group, j + 1, True
        if kind is None:
            break
        if kind in ("multiplier", "glued_multiplier"):
            nxt = tokens[j + 1].lower if j + 1 < n else ""
            value = MULTIPLIERS[word] if kind == "multiplier" else GLUED_MULTIPLIERS[word]
            if nxt in SCORE_NOUNS or not group.accepts(kind, value):
                break
            group.add(kind, value)
            group.last = "multiplier"  # it closes the phrase unless "and" adds the rest
            end = j = j + 1
            continue
        value = float(UNITS.get(word, TEENS.get(word, TENS.get(word, SCALES.get(word, 100)))))
        if not group.accepts(kind, value):
            break
        group.add(kind, value)
        end = j + 1
        j = _hyphen_next(tokens, j + 1)
    if end == i or group.words == 0:
        return None
    return group, end, False


def _after_group(tokens: Sequence[Tok], i: int, group: _Group, end: int) -> WordNumber:
    """What may close a phrase of number words: "and a half" (then perhaps a scale),
    "dozen", a fraction word ("two-thirds", "three halves"), else the phrase itself."""
    n = len(tokens)
    value = group.value
    if end < n and tokens[end].lower == "and":
        frac = _fraction_after(tokens, end + 1)
        if frac is not None:
            part, after = frac
            scale_after = tokens[after].lower if after < n else ""
            if group.last in ("unit", "teen", "tens") and group.total == 0:
                if scale_after in SCALES:
                    return WordNumber((value + part) * SCALES[scale_after], i, after + 1)
                return WordNumber(value + part, i, after)
            if group.last == "scale":
                return WordNumber(value + part * group.last_scale, i, after)
    if end < n and tokens[end].lower in ("dozen", "dozens") and group.total == 0:
        return WordNumber(value * 12, i, end + 1)
    if group.total == 0 and group.current < 20 and end < n:
        k = end
        if tokens[k].text in HYPHENS and not tokens[k].space_before and k + 1 < n:
            k += 1
        word = tokens[k].lower
        if (
            word in FRACTIONS
            and word != "second"
            and not (word == "quarter" and value != 1)
            and (value == 1 or word.endswith("s") or word == "half")
        ):
            return WordNumber(value / FRACTIONS[word], i, k + 1, fraction=True)
    closing = group.last_scale if group.last == "scale" else 1.0
    return WordNumber(value, i, end, scale=closing)
