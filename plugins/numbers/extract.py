"""The number extractor: reads text left to right and emits every quantity with a
machine value (cardinals, ordinals, money, percentages, measures, counted things,
dates, times and durations), its qualifier and, for ranges, both ends.

It works on the light tokens of ``tokens.py``; the shared spaCy parse, when given,
adds what rules cannot see: the counted noun ("472 drones" → drone), the tense that
decides whether "Monday" is the last or the next one, and names such as "Apollo 11"
in which a number is no quantity.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from copydesk.plugins.numbers.money import WEIGHT_WORDS, CurrencyMatch, currency_table
from copydesk.plugins.numbers.qualifiers import qualifier_table
from copydesk.plugins.numbers.times import (
    ClockTime,
    DateSpec,
    duration_parts,
    duration_seconds,
    duration_unit,
    iso_duration,
    read_clock,
    read_date,
    resolve_date,
)
from copydesk.plugins.numbers.tokens import tokenize
from copydesk.plugins.numbers.units import INCH_CONTEXT, Unit, unit_table
from copydesk.plugins.numbers.words import (
    FRACTIONS,
    HYPHENS,
    UNICODE_FRACTIONS,
    read_word_number,
    word_kind,
)

DASHES = frozenset("-–—")
_SLASH_FRACTION = re.compile(r"\d+/\d+")
MINUS = frozenset("-−–")
ORDINAL_SUFFIXES = frozenset({"st", "nd", "rd", "th"})
#: Scale words after digits ("1.5 million", "30 lakh").
SCALE_WORDS = {
    "hundred": 100,
    "thousand": 1e3,
    "million": 1e6,
    "billion": 1e9,
    "trillion": 1e12,
    "lakh": 1e5,
    "lakhs": 1e5,
    "lac": 1e5,
    "lacs": 1e5,
    "crore": 1e7,
    "crores": 1e7,
    "cr": 1e7,
    "crs": 1e7,
    "thousands": 1e3,
    "millions": 1e6,
    "billions": 1e9,
    "dozen": 12,
    "dozens": 12,
}
#: Abbreviated scales glued to digits ("7bn", "100K", "€10M"); "m" and "b" are read as
#: million/billion only in a money context or before a plural noun ("5m people").
SCALE_ABBREVS = {
    "bn": 1e9,
    "bln": 1e9,
    "mn": 1e6,
    "mln": 1e6,
    "tn": 1e12,
    "trn": 1e12,
    "k": 1e3,
    "K": 1e3,
    "M": 1e6,
    "B": 1e9,
    "G": 1e9,
    "T": 1e12,
    "m": 1e6,
    "b": 1e9,
    "cr": 1e7,
}
WEAK_ABBREVS = frozenset({"m", "b", "T", "G", "B", "M"})
#: "one" is no quantity after these words ("no one", "the one", "someone").
ONE_PRONOUN_BEFORE = frozenset(
    {
        "no",
        "the",
        "this",
        "that",
        "any",
        "each",
        "every",
        "which",
        "only",
        "another",
        "last",
        "little",
        "young",
        "loved",
        "special",
        "right",
        "wrong",
        "big",
        "new",
        "other",
    }
)
ONE_MODALS = frozenset({"could", "can", "must", "should", "might", "would", "may", "will"})
ENTITY_SKIP = frozenset(
    {"ORG", "PRODUCT", "WORK_OF_ART", "FAC", "LAW", "EVENT", "PERSON", "PER", "MISC"}
)
#: Words after which a bracketed amount is an accounting negative ("loss was ($5m)").
ACCOUNTING_BEFORE = frozenset({"is", "was", "were", "are", "be", "been", "of", ":", "="})
#: Time units of the units table that only build rates; alone they are durations.
RATE_ONLY_UNITS = frozenset({"s", "min", "h", "d", "wk", "yr"})
#: Unit names that are also everyday nouns: "a foot" is a unit only in "a foot of snow".
ARTICLE_AMBIGUOUS = frozenset({"foot", "yard", "stone", "ton", "grand", "knot", "cup"})
#: Currency words that after "a" are English words first: "a real problem", "a fen".
ARTICLE_NOT_MONEY = frozenset({"real", "rand", "dong", "won", "mark", "fen", "ore", "sen", "fils"})
#: Unit names that after "a" are everyday words: "a bar of soap", "a bit", "a degree".
ARTICLE_NEVER = frozenset(
    {"bar", "bars", "bit", "bits", "degree", "degrees", "gray", "grays", "pound", "pounds"}
)
#: Unit symbols that after "a" are words or abbreviations of something else.
ARTICLE_SYMBOL_WORDS = frozenset(
    {"in", "ha", "mb", "pm", "hr", "rad", "gr", "pb", "fb", "gal", "cal", "cc", "hp", "kt"}
)
#: Fraction words that stand for the number before a unit: "half a mile", "quarter-hour".
FRACTION_WORDS = {"half": 2, "quarter": 4}
#: Digits by name, for decimals read out ("point seven five").
DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
#: Words before "9/11" that make a month/day of it rather than a fraction.
DATE_PREPOSITIONS = frozenset({"of", "since", "after", "before", "until", "till", "on", "post"})
#: Race distances in metres: "the 800m" is never eight hundred million of anything.
RACE_DISTANCES = frozenset({50, 60, 100, 110, 200, 400, 800, 1500, 3000, 5000, 10000})
#: Words after "400m" that show metres, not millions.
METRE_CONTEXT = frozenset(
    {
        "titles",
        "victory",
        "crown",
        "success",
        "win",
        "man",
        "woman",
        "medal",
        "medallist",
        "track",
        "taller",
        "longer",
        "wider",
        "swim",
        "dash",
        "slalom",
        "downhill",
        "climb",
        "tall",
        "long",
        "high",
        "wide",
        "deep",
        "away",
        "from",
        "above",
        "below",
        "under",
        "across",
        "race",
        "sprint",
        "hurdles",
        "final",
        "freestyle",
        "title",
        "record",
        "run",
        "runner",
        "runners",
        "relay",
        "event",
        "gold",
        "silver",
        "bronze",
        "heat",
        "heats",
        "backstroke",
        "breaststroke",
        "butterfly",
        "medley",
        "semi",
        "indoor",
        "outdoor",
        "world",
        "champion",
        "championship",
        "specialist",
        "wall",
        "drop",
        "fall",
        "dive",
        "deeper",
        "higher",
        "in",
        "of",
        "and",
        "or",
        "to",
        "at",
        "on",
    }
)
UNCOUNTED_PLURALS = frozenset(
    {
        "aircraft",
        "people",
        "sheep",
        "deer",
        "fish",
        "staff",
        "police",
        "personnel",
        "cattle",
        "livestock",
        "troops",
        "spacecraft",
        "offspring",
        "series",
        "species",
        "crew",
    }
)
#: Verbs of change: "rose 2% to 12%" is a change and a level, not a range.
CHANGE_WORDS = frozenset(
    {
        "rise",
        "fall",
        "increase",
        "decrease",
        "jump",
        "climb",
        "drop",
        "grow",
        "slip",
        "surge",
        "soar",
        "plunge",
        "slump",
        "gain",
        "lose",
        "cut",
        "raise",
        "up",
        "down",
        "by",
        "reduce",
        "lift",
        "boost",
        "edge",
        "dip",
        "tumble",
        "sink",
        "rally",
        "slide",
        "decline",
        "advance",
    }
)
SPORTS_WORDS = frozenset(
    {
        "win",
        "victory",
        "defeat",
        "draw",
        "loss",
        "lead",
        "scoreline",
        "thrashing",
        "home",
        "away",
        "aggregate",
        "deficit",
        "triumph",
        "success",
        "reverse",
        "beating",
        "margin",
    }
)


@dataclass
class Numeral:
    """A number read at tokens ``[start, end)``, before its unit or kind is decided."""

    value: float
    start: int
    end: int
    ordinal: bool = False
    fraction: bool = False
    vague: bool = False
    words: bool = False
    integer_text: bool = False  # digits without decimals or separators
    #: an abbreviated scale right after, not applied yet: (token index, factor)
    weak_scale: tuple[int, float] | None = None
    group_word: bool = False  # "a dozen", "a couple"
    #: the scale that closes the number ("1.5 million" → 1e6, "3 hundred thousand" →
    #: 1e5, "two million" → 1e6); a smaller group may still follow it
    scale: float = 1.0


@dataclass
class Found:
    """A mention in token indices, before it becomes a ``NumberMention``."""

    start: int
    end: int
    kind: str
    value: float | int | str | None
    unit: str | None = None
    qualifier: str | None = None
    value_max: float | int | str | None = None
    normalized: tuple[float, str] | None = None
    clock: ClockTime | None = None
    date_spec: DateSpec | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _num(value: float) -> float | int:
    """An int when the value is whole (JSON 7000000000, not 7000000000.0)."""
    if not math.isfinite(value):
        return 0 if math.isnan(value) else (1e308 if value > 0 else -1e308)
    nearest = round(value)
    if abs(value - nearest) <= 1e-9 * max(1.0, abs(value)) and abs(value) < 1e18:
        return int(nearest)
    return float(f"{value:.12g}")


class Extractor:
    """Reads one text; ``run()`` returns the mentions as dicts of the number layer."""

    def __init__(
        self,
        text: str,
        anchor: datetime | None = None,
        parse: Any = None,
        entity_spans: Sequence[tuple[int, int, str]] = (),
        dollar: str = "USD",
        counted_nouns: bool = True,
    ) -> None:
        self.text = text
        self.anchor = anchor
        self.tokens = tokenize(text)
        self.n = len(self.tokens)
        self.units = unit_table()
        self.money = currency_table()
        self.quals = qualifier_table()
        self.dollar = dollar
        self.counted_nouns = counted_nouns
        self.parse = parse
        self._sp_starts: list[int] = []
        if parse is not None:
            self._sp_starts = [t.idx for t in parse]
        self.entity_spans = sorted(entity_spans)
        self._ends = [t.end for t in self.tokens]
        names = list(self.entity_spans)
        if parse is not None and not names:
            names = [(e.start_char, e.end_char, e.label_) for e in parse.ents]
        self._names = sorted(n for n in names if n[2] in ENTITY_SKIP)
        self._name_starts = [n[0] for n in self._names]
        self._last_end = 0
        self._skip_to = 0
        self._resolved: dict[tuple[int | None, int | None], str | None] = {}

    # ------------------------------------------------------------ spaCy helpers

    def sp(self, i: int) -> Any:
        """The spaCy token that contains light token ``i`` (or None)."""
        if self.parse is None or i >= self.n:
            return None
        k = bisect.bisect_right(self._sp_starts, self.tokens[i].start) - 1
        if k < 0:
            return None
        tok = self.parse[k]
        if tok.idx <= self.tokens[i].start < tok.idx + len(tok.text):
            return tok
        return None

    def pos(self, i: int) -> str | None:
        tok = self.sp(i)
        return tok.pos_ if tok is not None else None

    def is_past(self, i: int) -> bool | None:
        """Whether the clause around token ``i`` is in the past tense."""
        tok = self.sp(i)
        if tok is None:
            return None
        head = tok
        for _ in range(12):
            if head.dep_ == "ROOT":
                break
            if head.pos_ in ("VERB", "AUX"):
                has_aux = any(c.dep_ in ("aux", "auxpass") for c in head.children)
                # "the deal, signed on 3 March, took effect": a participle takes the
                # tense of the clause it hangs on
                if not (
                    head.tag_ in ("VBN", "VBG")
                    and not has_aux
                    and head.dep_ in ("acl", "advcl", "relcl", "xcomp", "conj")
                ):
                    break
            head = head.head
        auxes = [c for c in head.children if c.dep_ in ("aux", "auxpass")]
        if any(a.lower_ in ("will", "'ll", "shall", "wo") for a in auxes):
            return False
        if head.lemma_ in ("set", "schedule", "due", "expect", "plan") and any(
            a.tag_ in ("VBZ", "VBP") for a in auxes
        ):
            return False
        if head.tag_ == "VBD" or any(a.tag_ == "VBD" for a in auxes):
            return True
        return head.tag_ == "VBN" and any(a.lower_ in ("has", "have", "had") for a in auxes)

    def _entity_label(self, start_char: int, end_char: int) -> str | None:
        """spaCy's label of the entity covering the span, if any."""
        if self.parse is None:
            return None
        span = self.parse.char_span(start_char, end_char, alignment_mode="expand")
        if span is None:
            return None
        for tok in span:
            if tok.ent_type_:
                return str(tok.ent_type_)
        return None

    def in_name(self, start_char: int, end_char: int) -> bool:
        """Whether a number is part of a longer name ("Apollo 11", "Six Nations", "FTSE
        100", "Credit Suisse First Boston"): an ORG, PRODUCT, LAW… entity around it."""
        k = bisect.bisect_right(self._name_starts, start_char)
        for s, e, _label in self._names[max(0, k - 3) : k]:
            if (
                s <= start_char
                and end_char <= e
                and (s, e) != (start_char, end_char)
                and any(ch.isalpha() for ch in self.text[s:start_char] + self.text[end_char:e])
            ):
                return True
        return False

    # ------------------------------------------------------------ numerals

    def _glued_letters_ok(self, j: int) -> bool:
        """Letters glued after digits must be a known suffix ("7bn", "21st", "5km")."""
        if j >= self.n or self.tokens[j].space_before or not self.tokens[j].is_alpha:
            return True
        word = self.tokens[j].text
        after = self.tokens[j + 1] if j + 1 < self.n else None
        if (
            after is not None
            and not after.space_before
            and after.is_digits
            and word not in ("e", "E", "x", "km", "m", "cm", "mm", "ft", "mi", "s", "in", "h")
        ):
            return False  # "06F6", "4B2": a code
        if (
            word.lower() in ORDINAL_SUFFIXES
            or word in SCALE_ABBREVS
            or word.lower() in ("am", "pm", "s", "x", "p", "c", "e", "h")
        ):
            return True
        if self.units._match_simple(self.tokens, j) is not None:
            return True
        if self.money.suffix(self.tokens, j) is not None:
            return True
        if self.money.name(self.tokens, j) is not None or (
            self.money.minor(self.tokens, j, None) is not None
        ):
            return True  # "300yen", "50cents"
        if duration_unit(word) is not None:
            return True
        return word.lower() in SCALE_WORDS or word.lower() in (
            "bn",
            "mn",
            "tn",
            "trn",
            "bln",
            "mln",
        )

    def read_numeral(
        self, i: int, after_prefix: bool = False, compound: bool = True
    ) -> Numeral | None:
        """A number at token ``i``: digits, words, fractions, signs and scales, and with
        ``compound`` the smaller groups after a scale word ("1 million 200 thousand")."""
        num = self._read_numeral(i, after_prefix)
        if num is not None and compound:
            self._compound(num)
        return num

    def _compound(self, num: Numeral) -> None:
        """Join the smaller groups that go on a number closed by a scale word: "1 million
        200 thousand", "2 billion 300 million", "7 million four hundred thousand", "5
        thousand 200". Each group must be smaller than the scale before it, so at most
        one pass per scale word: linear in the text."""
        toks = self.tokens
        limit = num.scale
        if (
            limit < 1000
            or num.ordinal
            or num.fraction
            or num.vague
            or num.weak_scale is not None
            or abs(num.value) % limit != 0
        ):
            return
        skip_to = self._skip_to
        while limit >= 100:
            k = num.end
            if k + 1 < self.n and toks[k].lower == "and":
                k += 1  # "1 million and 200 thousand"
            if k >= self.n or not toks[k].space_before:
                break
            if not (toks[k].is_digits or word_kind(toks[k].lower) in ("unit", "teen", "tens")):
                break
            sub = self._read_numeral(k)
            if (
                sub is None
                or sub.ordinal
                or sub.fraction
                or sub.vague
                or sub.group_word
                or sub.weak_scale is not None
                or sub.value != int(sub.value)
                or not 0 < sub.value < limit
            ):
                break
            # a bare group only completes thousands or hundreds ("5 thousand 200",
            # "1 thousand 2 hundred 50"), never millions ("4 million 500" is two numbers)
            if sub.scale == 1 and (limit > 1000 or not (sub.integer_text or sub.words)):
                break
            num.value += math.copysign(sub.value, num.value)
            num.end = sub.end
            num.integer_text = False
            num.words = num.words and sub.words
            limit = sub.scale
            num.scale = sub.scale
        self._skip_to = skip_to

    def _read_numeral(self, i: int, after_prefix: bool = False) -> Numeral | None:
        toks = self.tokens
        n = self.n
        tok = toks[i]
        sign = 1.0
        start = i
        if tok.lower in ("a", "an") and i + 1 < n and toks[i + 1].lower in FRACTION_WORDS:
            inner = self._fraction_before_unit(i + 1)  # "a half-hour", "a quarter mile"
            if inner is not None:
                inner.start = i
                return inner
        if tok.lower in FRACTION_WORDS and i + 1 < n:
            found = self._fraction_before_unit(i)  # "half a day", "quarter-hour"
            if found is not None:
                return found
            # otherwise only "half of voters", "half the population", "more than half."
        if (
            tok.lower in FRACTIONS
            and not tok.lower.endswith("s")
            and tok.lower != "second"
            and i + 1 < n
            and toks[i + 1].lower == "of"
            and self._unit_after_of(i + 1) is not None
        ):
            # "quarter of a mile", "fourth of a litre" (read on by the "of" rule)
            return Numeral(1 / FRACTIONS[tok.lower], start, i + 1, fraction=True, words=True)
        if (
            tok.lower == "point"
            and i + 1 < n
            and toks[i + 1].text.isdigit()
            and (i == 0 or not toks[i - 1].is_digits)
        ):
            return Numeral(float("0." + toks[i + 1].text), start, i + 2)
        if (
            tok.lower == "point"
            and i + 1 < n
            and toks[i + 1].lower in DIGIT_NAMES
            and (i == 0 or not (toks[i - 1].is_digits or word_kind(toks[i - 1].lower)))
        ):
            # "point seven five" → 0.75 (digit words, one a digit)
            k = i + 1
            while k < n and toks[k].lower in DIGIT_NAMES:
                k += 1
            digits = "".join(str(DIGIT_NAMES.index(t.lower)) for t in toks[i + 1 : k])
            return Numeral(float("0." + digits), start, k)
        if (
            tok.text in MINUS
            and i + 1 < n
            and toks[i + 1].space_before
            and i == 0
            and toks[i + 1].is_digits
        ):
            inner = self.read_numeral(i + 1)
            if inner is not None and not inner.ordinal:
                inner.value = -inner.value
                inner.start = i
                return inner
            return None
        if (
            tok.text in MINUS
            and i + 2 < n
            and toks[i + 1].text == "."
            and not toks[i + 1].space_before
            and toks[i + 2].text.isdigit()
            and (i == 0 or tok.space_before)
        ):
            inner = self.read_numeral(i + 1)
            if inner is not None:
                inner.value = -inner.value
                inner.start = i
                return inner
            return None
        if (
            tok.text in MINUS
            and i + 1 < n
            and toks[i + 1].is_digits
            and not toks[i + 1].space_before
        ):
            prev = toks[i - 1] if i > 0 else None
            if (
                prev is None
                or prev.text in "([:=~,;$€£"
                or (prev.is_alpha and prev.lower not in ("and",) and tok.space_before)
            ):
                sign = -1.0
                i += 1
                tok = toks[i]
        elif tok.lower in ("minus", "negative") and i + 1 < n:
            inner = self.read_numeral(i + 1)
            if inner is not None and not inner.ordinal:
                inner.value = -inner.value
                inner.start = i
                return inner
            return None
        if tok.is_digits:
            if (
                i > 0
                and not tok.space_before
                and toks[i - 1].is_alpha
                and sign > 0
                and not (after_prefix)
            ):
                return None  # "MH17", "G7", "i7"
            if (
                i > 1
                and not tok.space_before
                and toks[i - 1].text in "+_#"
                and not toks[i - 1].space_before
            ):
                return None  # "J1149.5+6663", "#12"
            if (
                i > 1
                and not tok.space_before
                and toks[i - 1].text in DASHES
                and not toks[i - 1].space_before
                and toks[i - 2].is_alpha
                and any(ch.isupper() for ch in toks[i - 2].text)
            ):
                return None  # "F-16", "COVID-19", "MPEG-4"
            if (
                i > 0
                and toks[i - 1].text in ".,"
                and not tok.space_before
                and i > 1
                and (toks[i - 2].is_digits and not toks[i - 1].space_before)
            ):
                return None
            text = tok.text
            if text.isdigit() and len(text) >= 3 and text[0] == "0":
                # "0800 123 4567", "007": a phone number or a code, with its groups
                k = i + 1
                while k < n and toks[k].text.isdigit() and toks[k].space_before:
                    k += 1
                self._skip_to = k
                return None
            if (
                text.isdigit()
                and i + 2 < n
                and toks[i + 1].text == ":"
                and toks[i + 2].text.isdigit()
                and not toks[i + 1].space_before
                and not toks[i + 2].space_before
                and len(toks[i + 2].text) != 2
            ):
                self._skip_to = i + 3  # a ratio or a score: "3:1"
                return None
            value = self._digits_value(text)
            if value is None:
                return None
            end = i + 1
            integer_text = text.isdigit()
            # "10 000 dollars", "1 000 000": thin groups of three digits, not followed
            # by more digits ("3 100 200 4" is a list)
            if integer_text and len(text) <= 3:
                k = end
                while (
                    k < n
                    and k - end < 4
                    and toks[k].text.isdigit()
                    and len(toks[k].text) == 3
                    and self.text[toks[k - 1].end : toks[k].start] in (" ", "\u202f", "\u00a0")
                ):
                    k += 1
                if k > end and (
                    k >= n
                    or (not toks[k].is_digits and (toks[k].is_alpha or toks[k].text in ".,;)"))
                ):
                    for group in toks[end:k]:
                        value = value * 1000 + int(group.text)
                    end = k
            # fractions "1/2", "2/10" and mixed numbers "2 1/2"
            if (
                integer_text
                and end + 1 < n
                and toks[end].text == "/"
                and not toks[end].space_before
                and toks[end + 1].text.isdigit()
                and not toks[end + 1].space_before
            ):
                if end + 2 < n and toks[end + 2].text == "/" and not toks[end + 2].space_before:
                    return None  # a date such as 12/03/2005
                denominator = int(toks[end + 1].text)
                if denominator == 0:
                    self._skip_to = end + 2  # "1/0" is no value at all
                    return None
                return Numeral(sign * value / denominator, start, end + 2, fraction=True)
            if (
                integer_text
                and end + 2 < n
                and toks[end].text.isdigit()
                and toks[end].space_before
                and toks[end + 1].text == "/"
                and not toks[end + 1].space_before
                and toks[end + 2].text.isdigit()
                and not toks[end + 2].space_before
                and int(toks[end + 2].text) > int(toks[end].text) > 0
            ):
                value += int(toks[end].text) / int(toks[end + 2].text)
                return Numeral(sign * value, start, end + 3, fraction=True)
            if end < n and toks[end].text in UNICODE_FRACTIONS:
                value += UNICODE_FRACTIONS[toks[end].text]
                end += 1
                integer_text = False
            elif end < n and toks[end].text[:1] in UNICODE_FRACTIONS and not toks[end].space_before:
                return None
            # "15-and-a-half", "2 and a half"
            half = self._and_a_half(end) if integer_text else None
            if half is not None:
                value += 0.5
                end = half
                integer_text = False
            # "1 point 1"
            if (
                integer_text
                and end + 1 < n
                and toks[end].lower == "point"
                and toks[end + 1].text.isdigit()
            ):
                value = float(f"{int(value)}.{toks[end + 1].text}")
                end += 2
                integer_text = False
            # scientific notation: "3e8", "5e-4", "6.02×10^23"
            value, end = self._exponent(value, end)
            end = self._skip_uncertainty(end)
            if not self._glued_letters_ok(end):
                return None
            num = Numeral(sign * value, start, end, integer_text=integer_text)
            if end < n and toks[end].lower in ORDINAL_SUFFIXES and not toks[end].space_before:
                if integer_text and self._ordinal_suffix_fits(text, toks[end].lower):
                    return Numeral(value, start, end + 1, ordinal=True, integer_text=True)
                return None
            self._scale(num)
            return num
        if (
            tok.text == "."
            and i + 1 < n
            and toks[i + 1].text.isdigit()
            and not toks[i + 1].space_before
        ):
            if tok.space_before or i == 0 or toks[i - 1].text in MINUS:
                value = float("0." + toks[i + 1].text)
                num = Numeral(sign * value, start, i + 2)
                self._scale(num)
                return num
            return None
        if tok.text in UNICODE_FRACTIONS:
            return Numeral(UNICODE_FRACTIONS[tok.text], start, i + 1, fraction=True)
        if tok.lower in ("point",) or not (tok.is_alpha or tok.text in HYPHENS):
            return None
        if (
            (tok.lower == "hundred" or tok.lower in SCALE_WORDS)
            and i > 0
            and toks[i - 1].text in HYPHENS
            and not tok.space_before
        ):
            return None  # "multi-million dollar"
        wnum = read_word_number(self.tokens, i)
        if wnum is None:
            return None
        if not wnum.ordinal and not wnum.fraction and not wnum.vague_plural:
            half = self._and_a_half(wnum.end)
            if half is not None:
                wnum.value += 0.5
                wnum.end = half
        num = Numeral(
            sign * wnum.value,
            start,
            wnum.end,
            ordinal=wnum.ordinal,
            fraction=wnum.fraction,
            vague=wnum.vague_plural,
            words=True,
            group_word=wnum.only_group,
            scale=wnum.scale,
        )
        # "one point three", "1 point 1"
        if (
            not wnum.ordinal
            and num.end + 1 < n
            and toks[num.end].lower == "point"
            and (toks[num.end + 1].text.isdigit() or toks[num.end + 1].lower in DIGIT_NAMES)
        ):
            digits = ""
            k = num.end + 1
            while k < n and (toks[k].text.isdigit() or toks[k].lower in DIGIT_NAMES):
                digits += (
                    toks[k].text
                    if toks[k].text.isdigit()
                    else str(DIGIT_NAMES.index(toks[k].lower))
                )
                k += 1
            num.value = sign * (abs(num.value) + float("0." + digits))
            num.end = k
        if not wnum.ordinal and not wnum.vague_plural:
            self._scale(num)
        return num

    def _fraction_before_unit(self, i: int) -> Numeral | None:
        """ "half a day", "half hour", "half-hour", "half a million", "half-dozen",
        "quarter mile", "quarter-hour", "a quarter million": a fraction word standing as
        the number of the unit or scale word after it (not "half-time", "half-century")."""
        toks = self.tokens
        n = self.n
        word = toks[i].lower
        j = i + 1
        hyphen = False
        if j >= n:
            return None
        if j + 1 < n and toks[j].text in HYPHENS and not toks[j].space_before:
            if toks[j + 1].space_before:
                return None
            hyphen = True
            j += 1
        elif word == "half" and toks[j].lower in ("a", "an") and j + 1 < n:
            j += 1  # "half a mile"
        after = toks[j].lower
        part = 1 / FRACTION_WORDS[word]
        if after in ("million", "billion", "trillion", "dozen", "thousand", "hundred"):
            scale = SCALE_WORDS[after]
            return Numeral(part * scale, i, j + 1, scale=scale)  # "half a million"
        if hyphen and after in ("century", "centuries"):
            return None  # a cricketer's "half-century" is fifty runs
        if (
            duration_unit(after) is not None
            or (not hyphen and self._percent_at(j) is not None)  # "half a percentage point"
            or (
                toks[j].is_alpha
                and self.units._match_simple(toks, j) is not None
                and len(after) > 2
            )
        ):
            return Numeral(part, i, i + 1 if hyphen else j, fraction=True, words=True)
        return None

    def _unit_after_of(self, j: int) -> int | None:
        """Token index of the unit, currency or scale word in "of a mile", "of an hour",
        "of a million" at ``j`` (the "of"), else None."""
        toks = self.tokens
        if j + 1 >= self.n or toks[j].lower != "of":
            return None
        k = j + 1
        if toks[k].lower in ("a", "an") and k + 1 < self.n:
            k += 1
        word = toks[k].lower
        if word in ("million", "billion", "trillion", "thousand", "hundred", "dozen"):
            return k
        if not toks[k].is_alpha or word in ARTICLE_NEVER:
            return None
        if duration_unit(word) is not None or self._currency_at(k) is not None:
            return k
        if self._percent_at(k) is not None:
            return k  # "a quarter of a percentage point"
        if self.units.match(toks, k, self.text) is not None:
            return k
        return None

    def _and_a_half(self, end: int) -> int | None:
        """Token index after "and a half" / "-and-a-half" at ``end``, else None."""
        toks = self.tokens
        k = end
        words: list[str] = []
        while k < self.n and len(words) < 3:
            if toks[k].text in HYPHENS and not toks[k].space_before:
                k += 1
                continue
            words.append(toks[k].lower)
            k += 1
        if words == ["and", "a", "half"]:
            nxt = toks[k] if k < self.n else None
            if nxt is not None and nxt.lower in SCALE_WORDS:
                return None  # "2 and a half million" is read with the scale
            return k
        return None

    def _skip_uncertainty(self, end: int) -> int:
        """Skip "±0.01" or "+/- 1e-5" after a value (the value stays the central one)."""
        toks = self.tokens
        k = end
        if k < self.n and toks[k].text == "±":
            k += 1
        elif (
            k + 2 < self.n
            and toks[k].text == "+"
            and toks[k + 1].text == "/"
            and toks[k + 2].text in MINUS
        ):
            k += 3
        else:
            return end
        if k < self.n and toks[k].is_digits:
            return self._exponent(0.0, k + 1)[1]
        return end

    @staticmethod
    def _ordinal_suffix_fits(text: str, suffix: str) -> bool:
        last2 = int(text[-2:]) if len(text) >= 2 else int(text)
        last = int(text[-1])
        if 11 <= last2 <= 13:
            return suffix == "th"
        return suffix == {1: "st", 2: "nd", 3: "rd"}.get(last, "th")

    @staticmethod
    def _digits_value(text: str) -> float | None:
        if len(text) > 40:
            return None  # a run of digits this long is an identifier, not an amount
        if "," in text:
            head, *groups = text.split(",")
            last = groups[-1]
            decimals = ""
            if "." in last:
                last, decimals = last.split(".", 1)
                if "." in decimals:
                    return None
            groups[-1] = last
            western = 1 <= len(head) <= 3 and all(len(g) == 3 for g in groups)
            # Indian grouping: "5,00,000", "12,34,56,789" (pairs, then the last three)
            indian = (
                1 <= len(head) <= 2
                and len(groups) >= 2
                and all(len(g) == 2 for g in groups[:-1])
                and len(groups[-1]) == 3
            )
            if not (western or indian):
                return None
            return float(head + "".join(groups) + ("." + decimals if decimals else ""))
        if text.count(".") > 1:
            return None
        return float(text)

    def _exponent(self, value: float, end: int) -> tuple[float, int]:
        toks = self.tokens
        n = self.n
        if end < n and not toks[end].space_before:
            t = toks[end]
            # "3e8" tokenizes as "3", "e", "8"; "5e-4" as "5", "e", "-", "4"
            if t.text in ("e", "E") and end + 1 < n and not toks[end + 1].space_before:
                k = end + 1
                sign = 1
                if toks[k].text in MINUS and k + 1 < n and not toks[k + 1].space_before:
                    sign = -1
                    k += 1
                if toks[k].text.isdigit() and int(toks[k].text) <= 300:
                    return value * 10.0 ** (sign * int(toks[k].text)), k + 1
            if (
                t.text in ("×", "x", "*")
                and end + 1 < n
                and toks[end + 1].text.isdigit()
                and not toks[end + 1].space_before
            ):
                base = int(toks[end + 1].text)
                k = end + 2
                if k < n and toks[k].text in ("^",) and not toks[k].space_before:
                    k += 1
                sign = 1
                if k < n and toks[k].text in MINUS and not toks[k].space_before:
                    sign = -1
                    k += 1
                if (
                    k < n
                    and toks[k].text.isdigit()
                    and int(toks[k].text) <= 300
                    and not toks[k].space_before
                    and base == 10
                ):
                    return value * float(base) ** (sign * int(toks[k].text)), k + 1
        return value, end

    def _scale(self, num: Numeral) -> None:
        """Apply a scale word after the number ("1.5 million"), or note an abbreviation."""
        toks = self.tokens
        j = num.end
        if j >= self.n:
            return
        word = toks[j].lower
        spelled = toks[j].space_before or (len(word) > 2 and not num.words)  # "5million"
        if spelled and word in SCALE_WORDS and not num.vague:
            if word in ("hundred",) and not num.integer_text:
                return
            factor = SCALE_WORDS[word]
            num.value *= factor
            num.scale = factor
            num.end = j + 1
            num.integer_text = False
            if word in ("thousands", "millions", "billions"):
                num.vague = False
            # a larger scale word after it multiplies again: "3 hundred thousand",
            # "2 lakh crore", "5 thousand million" (each larger, so a few steps at most)
            last = factor
            k = j + 1
            while (
                k < self.n
                and toks[k].space_before
                and toks[k].lower in SCALE_WORDS
                and toks[k].lower not in ("dozen", "dozens")
                and SCALE_WORDS[toks[k].lower] > last
            ):
                last = SCALE_WORDS[toks[k].lower]
                num.value *= last
                num.scale *= last
                k += 1
            num.end = k
            return
        text = toks[j].text
        if text in SCALE_ABBREVS and not (num.words and not toks[j].space_before):
            glued = not toks[j].space_before
            if text in WEAK_ABBREVS or not glued:
                if glued or text in ("bn", "mn", "tn", "trn", "bln", "mln"):
                    num.weak_scale = (j, SCALE_ABBREVS[text])
                return
            num.value *= SCALE_ABBREVS[text]
            num.scale = SCALE_ABBREVS[text]
            num.end = j + 1
            num.integer_text = False
        elif text.lower() in ("bn", "mn", "tn", "bln", "mln", "trn") or (
            text.lower() == "cr" and not num.words
        ):
            num.value *= SCALE_ABBREVS[text.lower()]
            num.scale = SCALE_ABBREVS[text.lower()]
            num.end = j + 1
            num.integer_text = False

    # ------------------------------------------------------------ the main loop

    def run(self) -> list[Found]:
        found: list[Found] = []
        i = 0
        while i < self.n:
            item = self.at(i)
            if item is None:
                i += 1
                continue
            if isinstance(item, list):
                found.extend(item)
                i = max([i + 1, self._last_end, *(x.end for x in item)])
            else:
                found.append(item)
                i = max(item.end, i + 1)
            self._last_end = i
        self._post(found)
        return found

    def at(self, i: int) -> Found | list[Found] | None:
        toks = self.tokens
        tok = toks[i]
        # times of day and dates come first: "1:00 PM", "1000 GMT", "31 December 2004"
        clock = read_clock(toks, i)
        if clock is not None:
            end = self._tok_end(clock.end)
            return Found(i, end, "time", None, clock=clock)
        spec = read_date(toks, i, self.pos, self._measure_at)
        if spec is not None and spec.start >= self._last_end:
            return self._date(spec)
        # money written with a symbol or code first: "$7 billion", "US$2.5bn", "RM 42"
        money = self.money.prefix(toks, i)
        if money is not None:
            item = self._prefixed_money(i, money)
            if item is not None:
                return item
        # a currency named before the amount: "Rupees 500", "ringgit 42"
        spelled = self._currency_name_before(i)
        if spelled is not None:
            item = self._prefixed_money(i, spelled)
            if item is not None:
                return item
        # "a dollar", "a kg", "an hour", "a second"
        if tok.lower in ("a", "an", "one") and i + 1 < self.n:
            item = self._article_unit(i)
            if item is not None:
                return item
        self._skip_to = 0
        num = self.read_numeral(i)
        if num is None:
            if self._skip_to > i:
                self._last_end = self._skip_to
                return []
            return None
        return self._after_numeral(num)

    def _measure_at(self, j: int) -> bool:
        """Whether a unit, currency, percent sign or plural noun starts at token ``j``."""
        if j >= self.n:
            return False
        tok = self.tokens[j]
        if tok.text in ("%", "％") or tok.lower in ("per", "percent"):
            return True
        if self.units.match(self.tokens, j, self.text) is not None:
            return True
        if self._currency_at(j) is not None or duration_unit(tok.lower) is not None:
            return True
        sp = self.sp(j)
        return sp is not None and tok.is_alpha and sp.tag_ in ("NNS", "NNPS") and tok.space_before

    def _tok_end(self, char_end: int) -> int:
        """Token index after the token ending at ``char_end``."""
        k = bisect.bisect_left(self._ends, char_end)
        return min(k + 1, self.n)

    # ------------------------------------------------------------ pieces

    def _qualify(self, item: Found) -> Found:
        """Attach the qualifier written before the mention (and "or more" after)."""
        q = self.quals.before(self.tokens, item.start)
        if q is not None and q.start >= self._last_end:
            if q.qualifier is not None or item.qualifier is None:
                item.qualifier = q.qualifier or item.qualifier
            item.start = q.start
        after = self.quals.after(self.tokens, item.end)
        if after is not None and item.qualifier is None:
            item.qualifier = after.qualifier
            item.end = after.start
        return item

    def _date(self, spec: DateSpec) -> Found:
        past = self.is_past(spec.start)
        if spec.weekday is not None and spec.relative is None:
            # "Tuesday 9 November", "Monday, March 3": the weekday names the date after it
            k = spec.end
            if k < self.n and self.tokens[k].text == ",":
                k += 1
            after = read_date(self.tokens, k, self.pos, self._measure_at) if k < self.n else None
            if after is not None and after.day is not None and after.month is not None:
                value = resolve_date(after, self.anchor, past)
                if (
                    value is not None
                    and len(value) == 10
                    and date.fromisoformat(value).weekday() != spec.weekday
                ):
                    value = None  # the text contradicts itself: no guess
                return Found(spec.start, after.end, "date", value, date_spec=after)
        key = (
            (spec.month, spec.day)
            if spec.month and spec.year is None and not spec.relative
            else None
        )
        if key is not None and key in self._resolved:
            value = self._resolved[key]  # the same "19 December" twice is the same day
        else:
            value = resolve_date(spec, self.anchor, past)
            if key is not None:
                self._resolved[key] = value
        return Found(spec.start, spec.end, "date", value, date_spec=spec)

    def _prefixed_money(self, i: int, money: CurrencyMatch) -> Found | list[Found] | None:
        toks = self.tokens
        j = money.end
        if j >= self.n:
            return None
        num = self.read_numeral(j, after_prefix=True)
        if num is None or num.ordinal:
            return None
        if (
            toks[j].space_before
            and toks[money.end - 1].text in ("$", "£", "€")
            and toks[j].is_alpha
        ):
            return None
        self._apply_weak(num, money=True)
        code = self._dollar(money.code, toks[i].text)
        value, end = self._with_cents(num, num.end, code)  # "$15 60"
        item = Found(i, end, "money", _num(value), unit=code)
        item = self._range(item, num, unit_kind="money")
        return self._qualify(item)

    def _currency_name_before(self, i: int) -> CurrencyMatch | None:
        """A currency name right before a written amount ("Rupees 5 lakh", "ringgit 42",
        "dollars 10"), but not a name that is an English word first, a pound that may
        be weight, the second half of "5 dollars 20", "Euro 2004" or "the euro 2% up"."""
        toks = self.tokens
        if not toks[i].is_alpha:
            return None
        cur = self.money.name(toks, i)
        if cur is None or cur.ambiguous_pound or cur.end >= self.n:
            return None
        if toks[i].lower in ARTICLE_NOT_MONEY or toks[i].lower in ("sterling", "quid"):
            return None
        j = cur.end
        if not toks[j].is_digits or not toks[j].space_before:
            return None
        if i > 0 and (toks[i - 1].is_digits or word_kind(toks[i - 1].lower) is not None):
            return None
        num = self._read_numeral(j)
        if num is None or num.ordinal or num.fraction:
            return None
        if num.integer_text and 1900 <= num.value <= 2100 and num.end - j == 1:
            return None  # "Euro 2004", "the pound 2005 outlook"
        if self._measure_at(num.end) and self._currency_at(num.end) is None:
            return None  # "the euro 2% higher", "dollars 10 years ago"
        code = cur.code
        if code == "USD" and toks[i].lower in ("dollar", "dollars"):
            code = self.dollar
        return CurrencyMatch(code, j, "prefix")

    def _dollar(self, code: str, written: str) -> str:
        if code == "USD" and written == "$":
            return self.dollar
        return code

    def _apply_weak(self, num: Numeral, money: bool = False, plural_noun: bool = False) -> None:
        """Apply the abbreviated scale noted after ``num`` when the context makes it one:
        money ("$5m"), a plural noun ("5m people", not with "T") or an unambiguous "bn"."""
        if num.weak_scale is None:
            return
        j, factor = num.weak_scale
        text = self.tokens[j].text
        if (
            money
            or (plural_noun and text != "T")
            or text in ("bn", "mn", "tn", "trn", "bln", "mln", "B", "M")
        ):
            num.value *= factor
            num.scale = factor
            num.end = j + 1
            num.weak_scale = None
            num.integer_text = False

    def _with_cents(self, num: Numeral, end: int, code: str) -> tuple[float, int]:
        """Value and end of the sum `num` in `code` (written up to `end`) plus any cents after."""
        cents = self._cents_after(end, code, num)
        if cents is None:
            return num.value, end
        return num.value + cents[0], cents[1]

    def _cents_after(self, end: int, code: str, num: Numeral) -> tuple[float, int] | None:
        """ "12 dollars 35 cents", "4 EUR 5 cents", "$15 60", "8 rand and 30c"."""
        toks = self.tokens
        if not num.integer_text and not num.words:
            return None
        k = end
        if k < self.n and toks[k].lower == "and":
            k += 1
        if k >= self.n:
            return None
        sub = self.read_numeral(k)
        if sub is None or sub.ordinal or sub.value != int(sub.value) or not 0 < sub.value < 100:
            return None
        minor = self.money.minor(toks, sub.end, code)
        if minor is None:
            # a hundredth named by another currency's word: "3 francs 20 cents"
            other = self.money.minor(toks, sub.end, None)
            if other is not None and other.factor == 0.01 and toks[sub.end].is_alpha:
                minor = other
        if minor is not None:
            return sub.value * minor.factor, minor.end
        # a bare hundredths count: "$15 60", "8 rand and 30", "two pounds fifty";
        # not a count of something else ("5 dollars 20 people") nor a lone small word
        # ("5 dollars one of them")
        if sub.end < self.n and (toks[sub.end].is_digits or self._names_a_thing(sub.end)):
            return None
        if k == end and not toks[k].is_digits and not (sub.words and sub.value >= 10):
            return None
        return sub.value / 100, sub.end

    def _article_unit(self, i: int) -> Found | None:
        """ "a dollar", "a penny", "a kg", "an hour", "a second", "a month ago"."""
        toks = self.tokens
        j = i + 1
        word = toks[j].lower
        article = toks[i].lower
        prev = toks[i - 1] if i > 0 else None
        if article == "one":
            return None
        if word == "half" or word == "quarter":
            return None
        if prev is not None and (prev.is_digits or prev.lower in ("times", "once", "twice")):
            return None  # "$500 a month", "twice a day" are rates
        if prev is not None and self._ends_money(i):
            return None
        dur = duration_unit(word)
        if dur is not None and word in (
            "second",
            "minute",
            "hour",
            "day",
            "week",
            "fortnight",
            "month",
            "year",
            "decade",
            "century",
        ):
            sp = self.sp(j)
            nxt = toks[j + 1] if j + 1 < self.n else None
            if sp is not None and nxt is not None and word == "second":
                nsp = self.sp(j + 1)
                if nsp is not None and nsp.pos_ in ("NOUN", "PROPN", "ADJ") and nxt.is_alpha:
                    return Found(j, j + 1, "ordinal", 2)
            if word == "second" and nxt is not None and nxt.is_alpha and self.parse is None:
                return Found(j, j + 1, "ordinal", 2)
            if nxt is not None and nxt.text in DASHES and not nxt.space_before:
                return None  # "a year-long", "a day-old"
            end, items = self._more_duration(j + 1, [(dur[0], 1.0)])
            parts = duration_parts(items)
            item = Found(i, end, "duration", iso_duration(parts), unit=_duration_unit_name(word))
            item.normalized = (duration_seconds(parts), "s")
            return self._ago(item, parts) or self._qualify(item)
        # "a dollar", "a rouble", "an indian rupee": a currency named in the singular
        # (not a word that is English first: "a real problem", "a rand")
        cur = self.money.name(toks, j)
        if (
            cur is not None
            and word not in ARTICLE_NOT_MONEY
            and not toks[cur.end - 1].lower.endswith("s")
            and not self._modifies_noun(cur.end)  # "a renminbi revaluation"
        ):
            if cur.ambiguous_pound and not self._pound_is_money(j, scaled=False):
                unit = self.units.by_name.get("pound")
                if unit is None:
                    return None
                return self._qualify(self._quantity(i, j + 1, 1.0, unit))
            return self._qualify(Found(i, cur.end, "money", 1, unit=cur.code))
        # "a penny", "a cent", "a dime", "a kopek": a minor unit spelt out
        minor = self.money.minor(toks, j, None)
        if (
            minor is not None
            and len(word) > 2
            and not word.endswith("s")
            and word not in ARTICLE_NOT_MONEY
            and not self._modifies_noun(minor.end)
        ):
            return Found(i, minor.end, "money", _num(minor.factor), unit=minor.code)
        # "a kilometre", "a litre of oil", "a tonne", "an acre", "a km": a unit by its
        # name, or by a symbol that is no English word
        simple = self.units._match_simple(toks, j)
        um = self.units.match(toks, j, self.text)
        if um is None or simple is None or word in ARTICLE_NEVER:
            return None
        by_symbol = simple[2]
        if by_symbol and (
            len(toks[j].text) < 2
            or toks[j].text in ARTICLE_SYMBOL_WORDS
            or not toks[j].text[0].islower()
        ):
            return None  # "a C", "a ha", "a GB"
        nxt_word = toks[um.end].lower if um.end < self.n else ""
        if word in ARTICLE_AMBIGUOUS and nxt_word not in INCH_CONTEXT | {"away", "tall", "of"}:
            return None  # "breaking a foot", "a yard", "a cup final"
        half = self._and_a_half(um.end)  # "a mile and a half"
        value, end = (1.5, half) if half is not None else (1.0, um.end)
        return self._qualify(self._quantity(i, end, value, um.unit))

    def _ends_money(self, i: int) -> bool:
        """Whether the tokens before ``i`` close a money amount ("£5 a week")."""
        toks = self.tokens
        k = i - 1
        while (
            k >= 0
            and toks[k].is_alpha
            and toks[k].lower in set(SCALE_ABBREVS) | {"bn", "million", "billion"}
        ):
            k -= 1
        return k >= 0 and toks[k].is_digits

    def _quantity(self, start: int, end: int, value: float, unit: Unit) -> Found:
        item = Found(start, end, "quantity", _num(value), unit=unit.code)
        item.normalized = (unit.to_si(value), unit.si)
        return item

    def _pound_is_money(self, j: int, scaled: bool) -> bool:
        """ "30 million pounds" is sterling; "six pounds of flour" is weight."""
        toks = self.tokens
        if scaled:
            return True
        nxt = toks[j + 1] if j + 1 < self.n else None
        if nxt is not None and nxt.lower in ("of", "in", "heavier", "lighter", "overweight"):
            return False
        if nxt is not None and nxt.text in DASHES and not nxt.space_before:
            return False
        if toks[j - 1].text in DASHES and not toks[j].space_before:
            return False  # "a twenty-pound bag"
        if nxt is not None and nxt.lower == "sterling":
            return True
        lo = max(0, toks[j].start - 120)
        hi = min(len(self.text), toks[j].end + 120)
        line_start = self.text.rfind("\n", lo, toks[j].start) + 1 or lo
        line_end = self.text.find("\n", toks[j].end, hi)
        window = self.text[line_start : line_end if line_end >= 0 else hi].lower()
        words = {t.lower for t in tokenize(window)}
        if words & WEIGHT_WORDS:
            return False
        return not (
            nxt is not None and (nxt.lower in ("bag", "sack", "box") or self._next_is_noun(j + 1))
        )

    def _next_is_noun(self, j: int) -> bool:
        sp = self.sp(j)
        return sp is not None and sp.pos_ == "NOUN" and sp.tag_ in ("NN",)

    def _after_numeral(self, num: Numeral) -> Found | list[Found] | None:
        toks = self.tokens
        n = self.n
        j = num.end
        if num.ordinal:
            return self._ordinal(num)
        if num.words and self._one_is_pronoun(num):
            return None
        if num.fraction and j < n and toks[j].lower == "of":
            # "a quarter of a mile", "three quarters of an hour", "a third of a million"
            k = self._unit_after_of(j)
            if k is not None:
                word = toks[k].lower
                if word in SCALE_WORDS:
                    num.value *= SCALE_WORDS[word]
                    num.scale = SCALE_WORDS[word]
                    num.fraction = False
                    num.end = k + 1
                else:
                    num.end = k
                j = num.end
        if (
            (num.vague or num.group_word)
            and j + 1 < n
            and toks[j].lower == "of"
            and (
                duration_unit(toks[j + 1].lower) is not None
                or self._currency_at(j + 1) is not None
                or self.units.match(toks, j + 1, self.text) is not None
            )
        ):
            # "a couple of days", "millions of pounds": the unit follows "of"
            num.end = j = j + 1
        below = self._below_zero(j)
        if below is not None:  # "3 below zero": degrees on whatever scale is in use
            degree = self.units.units["°"]
            return self._qualify(self._quantity(num.start, below, -abs(num.value), degree))
        # percentages: "12%", "12 per cent", "twelve percent", "2 percentage points"
        pct = self._percent_at(j)
        if pct is not None:
            self._apply_weak(num)
            end, pct_unit = pct
            item = Found(num.start, end, "percent", _num(num.value), unit=pct_unit)
            item = self._range(item, num, unit_kind="percent")
            return self._qualify(item)
        # money written after the amount: "5 million rubles", "20€", "10 cents", "873p"
        money = self._money_after(num)
        if money is not None:
            return money
        # durations: "three years", "1.5 hrs", "half a day", "six weeks'"
        dur = self._duration(num)
        if dur is not None:
            return dur
        # units of measure
        k = j
        if (
            k + 1 < n
            and toks[k].text in HYPHENS
            and not toks[k].space_before
            and not toks[k + 1].space_before
            and toks[k + 1].is_alpha
        ):
            k += 1  # "27-kilometer ring", "a 5-mile walk"
        if (
            num.weak_scale is not None
            and toks[num.weak_scale[0]].text in ("m", "M")
            and self._plural_noun_after(num.weak_scale[0] + 1)
            and not self._race_distance(num)
        ):
            # "5m people" is five million; "5m long" five metres
            self._apply_weak(num, plural_noun=True)
            k = num.end
        measure = (
            self.units.match(toks, k, self.text)
            if num.weak_scale is None
            or toks[num.weak_scale[0]].text in ("m", "M", "b", "B", "T", "G")
            else None
        )
        if measure is not None and measure.unit.code in RATE_ONLY_UNITS:
            measure = None  # "10 s" alone: time units serve rates ("km/h"), durations are apart
        if measure is not None and num.weak_scale is not None:
            num.weak_scale = None
        if measure is not None:
            return self._measure(num, measure.unit, measure.end)
        self._apply_weak(num)
        return self._cardinal(num)

    def _ordinal(self, num: Numeral) -> Found | None:
        toks = self.tokens
        if num.words and num.end - num.start == 1:
            word = toks[num.start].lower
            prev = toks[num.start - 1].lower if num.start > 0 else ""
            if word == "second":
                nxt = toks[num.end] if num.end < self.n else None
                if prev in ("a", "per", "split", "every", "one") and not (
                    nxt is not None and nxt.is_alpha and self._is_nominal(num.end)
                ):
                    return None  # a duration, read by _article_unit
            if word == "first" and prev == "at":
                return None  # "at first"
        start_char, end_char = self.tokens[num.start].start, self.tokens[num.end - 1].end
        if self.in_name(start_char, end_char):
            return None
        return Found(num.start, num.end, "ordinal", _num(num.value))

    def _is_nominal(self, j: int) -> bool:
        sp = self.sp(j)
        if sp is None:
            return self.tokens[j].is_alpha
        return bool(sp.pos_ in ("NOUN", "PROPN", "ADJ"))

    def _one_is_pronoun(self, num: Numeral) -> bool:
        toks = self.tokens
        if num.end - num.start != 1 or toks[num.start].lower != "one":
            return False
        i = num.start
        prev = toks[i - 1].lower if i > 0 else ""
        nxt = toks[i + 1] if i + 1 < self.n else None
        if prev in ONE_PRONOUN_BEFORE:
            return True
        before = self.text[max(0, toks[i].start - 7) : toks[i].start].lower()
        if before.endswith(("one-on-", "one-to-", "one-by-", "one on ", "one to ")):
            return True  # the second "one" of "one-on-one"
        if nxt is None:
            return False
        if nxt.lower in ("of", "another", "day") and nxt.space_before:
            return nxt.lower != "day" or i == 0 or toks[i - 1].text in ".\n"
        if (
            nxt.text in DASHES
            and not nxt.space_before
            and i + 2 < self.n
            and toks[i + 2].lower
            in ("on", "to", "off", "by", "sided", "time", "stop", "way", "man", "party")
        ):
            return True  # "one-on-one", "one-off", "one-sided"
        if nxt.lower in ONE_MODALS:
            return True
        sp = self.sp(i)
        return bool(
            sp is not None
            and sp.dep_ in ("nsubj", "nsubjpass", "dobj", "pobj", "attr")
            and any(c.dep_ in ("det", "relcl", "amod") for c in sp.children)
        )

    def _percent_at(self, j: int) -> tuple[int, str] | None:
        toks = self.tokens
        n = self.n
        if j < n and toks[j].text in ("%", "％"):
            end = j + 1
            if (
                end + 1 < n
                and toks[end].lower == "percentage"
                and toks[end + 1].lower in ("point", "points")
            ):
                return end + 2, "pp"
            return end, "%"
        if j < n and toks[j].lower in ("percent", "pct", "percentage"):
            if toks[j].lower == "percentage":
                if j + 1 < n and toks[j + 1].lower in ("point", "points"):
                    return j + 2, "pp"
                return None
            return j + 1, "%"
        if j + 1 < n and toks[j].lower == "per" and toks[j + 1].lower == "cent":
            return j + 2, "%"
        return None

    def _money_after(self, num: Numeral) -> Found | list[Found] | None:
        toks = self.tokens
        j = num.end
        scaled = False
        if num.weak_scale is not None:
            ws = num.weak_scale[0] + 1
            if self._currency_at(ws) is not None:
                self._apply_weak(num, money=True)
                j = num.end
                scaled = True
        cur = self._currency_at(j)
        if cur is None:
            return None
        if cur.how == "minor":
            if num.vague:
                return None
            value = num.value * cur.factor
            item = Found(num.start, cur.end, "money", _num(value), unit=cur.code)
            return self._qualify(self._range(item, num, unit_kind="money", factor=cur.factor))
        if cur.ambiguous_pound and not self._pound_is_money(j, scaled=scaled or num.value >= 1e6):
            unit = self.units.by_name["pound"]
            return self._measure(num, unit, cur.end)
        code = cur.code
        if code == "USD" and cur.how == "name" and toks[j].lower in ("dollar", "dollars"):
            code = self.dollar
        value, end = self._with_cents(num, cur.end, code)
        item = Found(num.start, end, "money", _num(value), unit=code)
        item.extra["vague"] = num.vague
        item.extra["scale"] = num.scale
        if num.vague:
            item.qualifier = "at_least"
        return self._qualify(self._range(item, num, unit_kind="money"))

    def _currency_at(self, j: int) -> CurrencyMatch | None:
        toks = self.tokens
        if j >= self.n:
            return None
        found = self.money.suffix(toks, j)
        if found is not None:
            return found
        if not toks[j].is_alpha and toks[j].text not in ("¢",):
            return None
        found = self.money.name(toks, j)
        minor = self.money.minor(toks, j, None)
        if found is not None and (minor is None or minor.end <= found.end):
            return found
        return minor

    def _duration(self, num: Numeral) -> Found | list[Found] | None:
        toks = self.tokens
        n = self.n
        j = num.end
        if (
            j < n
            and toks[j].text in HYPHENS
            and not toks[j].space_before
            and j + 1 < n
            and not toks[j + 1].space_before
        ):
            j += 1  # "two-year maintenance period", "a 25-year-old"
        elif j < n and toks[j].lower in (
            "more",
            "extra",
            "additional",
            "fewer",
            "further",
            "straight",
            "consecutive",
            "full",
            "long",
            "whole",
        ):
            j += 1
        if (
            j + 1 < n
            and toks[j].lower == "of"
            and num.fraction is False
            and num.value != int(num.value)
            and duration_unit(toks[j + 1].lower) is not None
        ):
            j += 1  # "one and a quarter of hour"
        if j >= n:
            return None
        word = toks[j].lower
        if word == "h" and toks[j].space_before:
            return None
        if word == "s" and (toks[j].space_before or num.integer_text or toks[j].text != "s"):
            return None  # "9.58s" is a time; "the 80s", "over-65s" are not
        dur = duration_unit(word)
        if dur is None:
            if (
                word in ("quarter", "quarters")
                and j + 1 < n
                and toks[j + 1].lower in ("hour", "of")
            ):
                return None
            return None
        if num.ordinal or (
            num.vague
            and word not in ("years", "days", "hours", "months", "weeks", "minutes", "decades")
        ):
            return None
        if num.vague:
            parts = duration_parts([(dur[0], num.value)])
            item = Found(
                num.start,
                j + 1,
                "duration",
                iso_duration(parts),
                qualifier="at_least",
                unit=_duration_unit_name(word),
            )
            item.normalized = (duration_seconds(parts), "s")
            return self._qualify(item)
        items = [(dur[0], num.value)]
        end = j + 1
        # "six weeks'" possessive
        if (
            end < n
            and toks[end].text in ("'", "’")
            and not toks[end].space_before
            and word.endswith("s")
        ):
            end += 1
        if (
            end + 1 < n
            and toks[end].text in HYPHENS
            and toks[end + 1].lower in ("old", "olds")
            and not toks[end].space_before
            and not toks[end + 1].space_before
        ):
            end += 2  # "a 25-year-old": an age, the span covers it
        # "two hours and half", "3 hours and twenty", "4 years, 5 months", "an hour and 25 minutes"
        end, items = self._more_duration(end, items)
        parts = duration_parts(items)
        item = Found(
            num.start, end, "duration", iso_duration(parts), unit=_duration_unit_name(word)
        )
        item.normalized = (duration_seconds(parts), "s")
        ago = self._ago(item, parts)
        if ago is not None:
            return ago
        item = self._range(item, num, unit_kind="duration", duration_designator=dur[0])
        return self._qualify(item)

    def _more_duration(
        self, end: int, items: list[tuple[str, float]]
    ) -> tuple[int, list[tuple[str, float]]]:
        toks = self.tokens
        n = self.n
        while end < n:
            k = end
            if toks[k].text == ",":
                k += 1
            if k < n and toks[k].lower == "and":
                k += 1
            glued_hours = k == end and toks[k - 1].text in ("h", "H") and toks[k].is_digits
            if k >= n or (k == end and not toks[k].space_before and not glued_hours):
                break  # parts follow each other with a space, a comma or "and" ("2h30")
            # "and a half", "and half"
            if toks[k].lower in ("half",) or (
                toks[k].lower in ("a",) and k + 1 < n and toks[k + 1].lower == "half"
            ):
                last = items[-1]
                items = [*items[:-1], (last[0], last[1] + 0.5)]
                end = k + (2 if toks[k].lower == "a" else 1)
                break
            sub = self.read_numeral(k, after_prefix=glued_hours)
            if sub is None or sub.ordinal or sub.vague:
                break
            unit_tok = sub.end
            dur = duration_unit(toks[unit_tok].lower) if unit_tok < n else None
            if (
                dur is None
                and items[-1][0] == "H"
                and unit_tok < n
                and toks[unit_tok].text == "m"
                and not toks[unit_tok].space_before
            ):
                dur = ("M", 60.0)  # "2h30m": after hours, a glued "m" is minutes
            if dur is None:
                # "3 hours and twenty", "2 hours 30": the next smaller unit is meant
                smaller = {"H": "M", "M": "S"}.get(items[-1][0])
                if (
                    smaller is not None
                    and 0 < sub.value < 60
                    and sub.value == int(sub.value)
                    and sub.scale == 1
                    and (glued_hours or not self._names_a_thing(unit_tok))
                ):
                    items = [*items, (smaller, sub.value)]
                    end = unit_tok
                break
            order = ["Y10", "Y", "MO", "W2", "W", "D", "H", "M", "S"]
            if order.index(dur[0]) <= order.index(items[-1][0]):
                break
            items = [*items, (dur[0], sub.value)]
            end = unit_tok + 1
        return end, items

    def _modifies_noun(self, j: int) -> bool:
        """Whether the word at ``j`` is a noun the word before modifies ("a euro zone",
        "a dollar crisis"): then "a euro" is no amount."""
        if j >= self.n or not self.tokens[j].is_alpha or not self.tokens[j].space_before:
            return False
        return self.pos(j) in ("NOUN", "PROPN")

    def _names_a_thing(self, j: int) -> bool:
        """Whether token ``j`` goes on the number before it as a noun, a unit or a sign
        ("30 people", "30%"), so the number is no bare minute or second count."""
        if j >= self.n:
            return False
        tok = self.tokens[j]
        if tok.text in ("%", "％", "-", "/", "'", "’"):
            return True
        if not tok.is_alpha:
            return False
        if self._measure_at(j) or self._currency_at(j) is not None:
            return True
        pos = self.pos(j)
        if pos is None:
            return True
        return pos in ("NOUN", "PROPN", "ADJ", "NUM", "X")

    def _ago(self, item: Found, parts: dict[str, float]) -> Found | None:
        """ "three years ago" is a date: the anchor minus the duration."""
        toks = self.tokens
        if (
            item.end < self.n
            and toks[item.end].lower in ("ago", "earlier", "before")
            and (toks[item.end].lower == "ago")
        ):
            spec = DateSpec(item.start, item.end + 1)
            if len(parts) == 1:
                ((designator, amount),) = parts.items()
                spec.ago = (amount, designator)
            found = Found(item.start, item.end + 1, "date", None, date_spec=spec)
            found.value = resolve_date(spec, self.anchor, True) if spec.ago else None
            return self._qualify(found)
        return None

    def _measure(self, num: Numeral, unit: Unit, end: int) -> Found | list[Found] | None:
        toks = self.tokens
        value = num.value
        # compound measures: "6 feet, 2 inches", "3 km and 400 metres", "5 ft 10 in"
        total_si = unit.to_si(value)
        last_unit = unit
        k = end
        merged = False
        while k < self.n and unit.offset == 0:
            m = k
            if toks[m].text == ",":
                m += 1
            if m < self.n and toks[m].lower == "and":
                m += 1
            if m >= self.n:
                break
            sub = self.read_numeral(m)
            if sub is None or sub.ordinal or sub.vague:
                break
            nxt = self.units.match(toks, sub.end, self.text)
            if (
                nxt is None
                or nxt.unit.dimension != unit.dimension
                or nxt.unit.factor >= last_unit.factor
            ):
                break
            total_si += nxt.unit.to_si(sub.value)
            last_unit = nxt.unit
            k = nxt.end
            merged = True
        below = self._below_zero(end) if "temperature" in unit.dimension else None
        if below is not None:  # "10 degrees below zero", "15°C below zero"
            item = self._quantity(num.start, below, -abs(value), unit)
            return self._qualify(item)
        if merged:
            value = (total_si - last_unit.offset) / last_unit.factor
            item = Found(num.start, k, "quantity", _num(round(value, 9)), unit=last_unit.code)
            item.normalized = (total_si, last_unit.si)
            return self._qualify(item)
        half = self._and_a_half(end) if value == int(value) and not num.vague else None
        if half is not None:  # "two miles and a half"
            value, end = value + 0.5, half
        item = self._quantity(num.start, end, value, unit)
        item.extra["scale"] = num.scale
        if num.vague:
            item.qualifier = "at_least"
        item = self._range(item, num, unit_kind="quantity", unit=unit)
        return self._qualify(item)

    def _below_zero(self, j: int) -> int | None:
        """Token index after "below zero" / "below 0" at ``j``, else None."""
        toks = self.tokens
        if j + 1 < self.n and toks[j].lower == "below" and toks[j + 1].lower in ("zero", "0"):
            return j + 2
        return None

    def _race_distance(self, num: Numeral) -> bool:
        """ "800m", "3,000m", "10,000m": athletics and swimming distances are metres."""
        text = self.text[self.tokens[num.start].start : self.tokens[num.end - 1].end]
        whole = num.value == int(num.value) and "." not in text
        return whole and ("," in text or num.value in RACE_DISTANCES)

    def _plural_noun_after(self, j: int) -> bool:
        """Whether "m" before token ``j`` means million ("5m people", "4m DS consoles")
        rather than metres ("the 400m", "a 3m wall", "800m runners")."""
        if j >= self.n or not self.tokens[j].space_before:
            return False
        tok = self.tokens[j]
        if tok.text == "(" and self.money.prefix(self.tokens, j + 1) is not None:
            return True  # "a total of 204.3m (£109m)"
        if not tok.is_alpha or tok.lower in METRE_CONTEXT:
            return False
        sp = self.sp(j)
        function_words = ("ADP", "ADV", "VERB", "AUX", "CCONJ", "PART", "DET")
        return sp is None or sp.pos_ not in function_words

    def _cardinal(self, num: Numeral) -> Found | list[Found] | None:
        toks = self.tokens
        j = num.end
        if (
            num.integer_text
            and num.value % 10 == 0
            and j < self.n
            and not toks[j].space_before
            and (
                toks[j].text == "s"
                or (toks[j].text in ("'", "’") and j + 1 < self.n and toks[j + 1].lower == "s")
            )
        ):
            return None  # "the 80s", "70's music": a decade or an age, not a count
        if num.weak_scale is not None and toks[num.weak_scale[0]].text in ("G", "T", "B", "b"):
            return None  # "3G", "4G": names, not numbers
        if num.group_word:
            j = num.end
            if j < self.n and toks[j].lower == "of":
                num.end = j + 1
        # sports scores and the like: "won 3-1", "a 2-2 draw"
        if self._is_score(num):
            return self._skip_score(num)
        start_char = toks[num.start].start
        end_char = toks[num.end - 1].end
        if self.in_name(start_char, end_char):
            return None
        first = toks[num.start]
        if (
            num.words
            and first.text[0].isupper()
            and not first.text.isupper()
            and num.start > 0
            and not self._starts_sentence(num.start)
            and num.end < self.n
            and toks[num.end].text[:1].isupper()
        ):
            return None  # "Six Nations", "Blake's Seven": a capitalised number in a name
        if (
            num.fraction
            and _SLASH_FRACTION.fullmatch(self.text[start_char:end_char])
            and (
                num.value >= 1
                or self._entity_label(start_char, end_char) == "DATE"
                or (num.end < self.n and toks[num.end].is_alpha and self._is_nominal(num.end))
                or self._slash_is_date(num)
            )
        ):
            return self._skip(num)  # "9/11", "24/7", "5/2" odds: no fraction of anything
        item = Found(num.start, num.end, "cardinal", _num(num.value))
        if num.fraction:
            item.extra["fraction"] = True
        if num.vague:
            item.qualifier = "at_least"
        year_like = num.integer_text and 1900 <= num.value <= 2100
        noun = self._counted_noun(num) if self.counted_nouns else None
        if noun is not None and not noun[2] and (year_like or num.value != 1):
            if year_like:
                return Found(num.start, num.end, "date", str(int(num.value)))
            noun = None
        if noun is None and not year_like and self._beside_a_name(num):
            return None  # "50 Cent", "Hot 97", "Billboard 200", "Voyager 2"
        if noun is not None:
            lemma, noun_end, _plural = noun
            item.unit = lemma
            item.end = max(item.end, noun_end)
        elif year_like and not num.words and "," not in first.text and num.value != 2000:
            # a bare "2005" with nothing counted is a year ("2005 will see more")
            return Found(num.start, num.end, "date", str(int(num.value)))
        item.extra["scale"] = num.scale
        return self._qualify(item)

    def _slash_is_date(self, num: Numeral) -> bool:
        """ "since 9/11", "the attacks of 9/11": month/day after a preposition, with a
        day no everyday fraction has as denominator (halves to tenths, sixteenths)."""
        if num.start == 0 or num.end - num.start != 3:
            return False
        month, day = int(self.tokens[num.start].text), int(self.tokens[num.start + 2].text)
        prev = self.tokens[num.start - 1].lower
        return (
            prev in DATE_PREPOSITIONS
            and 1 <= month <= 12
            and 1 <= day <= 31
            and day not in (2, 3, 4, 5, 6, 8, 10, 16)
        )

    def _beside_a_name(self, num: Numeral) -> bool:
        """Whether a bare number is glued by spacing to a proper name on either side."""
        if self.parse is None or num.words:
            return False
        toks = self.tokens
        if num.start > 0 and not self._starts_sentence(num.start):
            prev = toks[num.start - 1]
            sp = self.sp(num.start - 1)
            if (
                prev.is_alpha
                and prev.text[0].isupper()
                and sp is not None
                and sp.pos_ == "PROPN"
                and not self._starts_sentence(num.start - 1)
                and sp.ent_type_ not in ("DATE", "TIME", "NORP")
            ):
                return True
        if num.end < self.n:
            nxt = toks[num.end]
            sp = self.sp(num.end)
            if (
                nxt.is_alpha
                and nxt.text[0].isupper()
                and not nxt.text.isupper()
                and sp is not None
                and sp.pos_ == "PROPN"
                and sp.ent_type_ not in ("DATE", "TIME", "NORP", "GPE")
                and sp.tag_ != "NNPS"
            ):
                return True
        return False

    def _starts_sentence(self, i: int) -> bool:
        """Whether token ``i`` begins a sentence (or a quotation or a line)."""
        if i == 0:
            return True
        prev = self.tokens[i - 1]
        if prev.text in ".!?:;\"“‘'(—–-":
            return True
        return "\n" in self.text[prev.end : self.tokens[i].start]

    def _skip(self, num: Numeral) -> list[Found]:
        """Consume the numeral's tokens without a mention."""
        self._last_end = num.end
        return []

    def _is_score(self, num: Numeral) -> bool:
        toks = self.tokens
        j = num.end
        if not num.integer_text or j + 1 >= self.n:
            return False
        if toks[j].text not in DASHES or toks[j].space_before or toks[j + 1].space_before:
            return False
        if not toks[j + 1].text.isdigit():
            return False
        other = int(toks[j + 1].text)
        after = toks[j + 2].lower if j + 2 < self.n else ""
        return num.value >= other or after in SPORTS_WORDS

    def _skip_score(self, num: Numeral) -> list[Found]:
        self._last_end = num.end + 2
        return []

    def _counted_noun(self, num: Numeral) -> tuple[str, int, bool] | None:
        """The noun a number counts ("472 drones" → drone): (lemma, token end, plural)."""
        if self.parse is None or num.fraction:
            return None
        toks = self.tokens
        # the spaCy token of the number whose head lies outside the number
        start_char = toks[num.start].start
        end_char = toks[num.end - 1].end
        numtok = None
        for k in range(num.start, num.end):
            sp = self.sp(k)
            if sp is None:
                continue
            if not start_char <= sp.head.idx < end_char or sp.head.i == sp.i:
                numtok = sp
        if numtok is None:
            return None
        head = numtok.head
        if head.i <= numtok.i or head.pos_ != "NOUN":
            # a parse that missed the link: a plural noun right after the number
            nxt = numtok.doc[numtok.i + 1] if numtok.i + 1 < len(numtok.doc) else None
            if nxt is not None and nxt.pos_ == "NOUN" and nxt.tag_ == "NNS" and nxt.idx >= end_char:
                return nxt.lemma_.lower(), self._tok_end(nxt.idx + len(nxt)), True
        if num.vague or num.group_word:
            # "thousands of lives", "a dozen of eggs", "a couple of days"
            for child in (*numtok.children, *(head.children if head.i > numtok.i else ())):
                if child.dep_ == "prep" and child.lower_ == "of":
                    for obj in child.children:
                        if obj.dep_ == "pobj" and obj.pos_ == "NOUN":
                            return obj.lemma_.lower(), self._tok_end(obj.idx + len(obj)), True
            if num.group_word and head.pos_ == "NOUN" and head.i > numtok.i:
                return head.lemma_.lower(), self._tok_end(head.idx + len(head)), True
            return None
        if numtok.dep_ not in ("nummod", "quantmod", "compound", "amod", "npadvmod", "nmod") or (
            head.i <= numtok.i
        ):
            return None
        if head.pos_ != "NOUN" or head.i - numtok.i > 4:
            return None
        between = numtok.doc[numtok.i + 1 : head.i]
        if any(
            t.pos_ not in ("ADJ", "NOUN", "PROPN", "ADV", "PUNCT", "NUM", "VERB")
            or t.text in (",", ";", "(", ")")
            for t in between
        ):
            return None
        lemma = head.lemma_.lower()
        if (not lemma.isalpha() and "-" not in lemma) or len(lemma) < 2:
            return None
        after = head.doc[head.i + 1] if head.i + 1 < len(head.doc) else None
        if after is not None and after.text in HYPHENS and not head.whitespace_:
            return None  # part of a hyphenated word ("One e-mail")
        plural = head.tag_ in ("NNS", "NNPS") or head.lower_ in UNCOUNTED_PLURALS
        end_char_noun = head.idx + len(head)
        return lemma, self._tok_end(end_char_noun), plural

    # ------------------------------------------------------------ ranges

    def _range(
        self,
        item: Found,
        num: Numeral,
        unit_kind: str,
        unit: Unit | None = None,
        factor: float = 1.0,
        duration_designator: str | None = None,
    ) -> Found:
        """ "$10-$20", "44 mg to 50 mg", "between 30 degrees and 40 degrees", "2-3 years"
        (a bare first number before a unit is joined later, in ``_merge_cardinal_ranges``)."""
        toks = self.tokens
        n = self.n
        prev = toks[item.start - 1].lower if item.start > 0 else ""
        conn_at = item.end
        if conn_at >= n:
            return item
        conn = toks[conn_at]
        k = conn_at + 1
        if conn.text in DASHES:
            if k < n and toks[k].lower == "to":
                k += 1
        elif not (conn.lower == "to" or (conn.lower == "and" and prev in ("between", "from"))):
            return item
        if conn.lower == "to" and prev not in ("between", "from") and self._is_change(item.start):
            return item
        if k < n and toks[k].text == "~":
            k += 1
        if k < n and toks[k].lower == "about":
            k += 1
        if unit_kind == "money" and k < n:
            cur = self.money.prefix(toks, k)
            if cur is not None:
                if cur.code != item.unit and self._dollar(cur.code, toks[k].text) != item.unit:
                    return item
                k = cur.end
        if k >= n:
            return item
        if read_date(toks, k, self.pos) is not None or read_clock(toks, k) is not None:
            return item  # "three months to 31 December"
        second = self.read_numeral(k)
        if second is None or second.ordinal or second.vague:
            return item
        if conn.text in DASHES and second.value <= num.value:
            return item
        self._apply_weak(second, money=unit_kind == "money")
        end = second.end
        lo, hi = num.value, second.value
        if num.scale == 1 and second.scale > 1 and lo * second.scale <= hi:
            lo *= second.scale  # "$1 to 2 million", "two to three million barrels"
        if unit_kind == "quantity" and unit is not None:
            m = self.units.match(toks, end, self.text)
            if m is not None and m.unit.code == unit.code:
                end = m.end
            elif m is not None:
                return item
        elif unit_kind == "money":
            cur2 = self._currency_at(end)
            if cur2 is not None and cur2.how != "minor" and cur2.code == item.unit:
                end = cur2.end
            elif cur2 is not None and cur2.how == "minor":
                hi *= cur2.factor
                end = cur2.end
            elif cur2 is not None:
                return item
            lo *= factor
        elif unit_kind == "percent":
            pct = self._percent_at(end)
            if pct is None or pct[1] != item.unit:
                return item  # "shedding 15% to 22 euro cents"
            end = pct[0]
        elif unit_kind == "duration" and duration_designator is not None:
            du = duration_unit(toks[end].lower) if end < n else None
            if du is None or du[0] != duration_designator:
                return item
            end += 1
        item.end = end
        self._set_range(item, lo, hi, unit_kind, unit, duration_designator)
        if prev in ("between", "from"):
            item.start -= 1
        return item

    def _is_change(self, start: int) -> bool:
        """Whether the words before token ``start`` say a change ("rose 2%", "up by 5")."""
        if start == 0:
            return False
        k = start - 1
        word = self.tokens[k].lower
        sp = self.sp(k)
        lemma = sp.lemma_.lower() if sp is not None else word
        return word in CHANGE_WORDS or lemma in CHANGE_WORDS

    def _set_range(
        self,
        item: Found,
        lo: float,
        hi: float,
        unit_kind: str,
        unit: Unit | None,
        designator: str | None,
    ) -> None:
        """Give ``item`` both ends of its range (and the SI value of the lower end)."""
        if unit_kind == "duration" and designator is not None:
            p_lo, p_hi = duration_parts([(designator, lo)]), duration_parts([(designator, hi)])
            item.value, item.value_max = iso_duration(p_lo), iso_duration(p_hi)
            item.normalized = (duration_seconds(p_lo), "s")
            return
        item.value, item.value_max = _num(lo), _num(hi)
        if unit is not None:
            item.normalized = (unit.to_si(lo), unit.si)

    # ------------------------------------------------------------ after the pass

    def _post(self, found: list[Found]) -> None:
        """Ranges whose unit follows the second number, times joined with their dates,
        local times given a UTC offset by a converted time, and parenthesised
        conversions that share the qualifier of the amount they convert."""
        self._merge_cardinal_ranges(found)
        self._share_units(found)
        self._resolve_times(found)
        self._inherit_qualifiers(found)
        self._accounting_negatives(found)

    def _accounting_negatives(self, found: list[Found]) -> None:
        """ "Net income was ($99.99)": in accounts, an amount in parentheses of its own
        is negative. A bracketed amount right after another amount ("€6bn ($7bn)") is
        a conversion and keeps its sign."""
        toks = self.tokens
        ends = {item.end for item in found}
        for item in found:
            s, e = item.start, item.end
            if (
                item.kind == "money"
                and item.value_max is None
                and isinstance(item.value, int | float)
                and item.value > 0
                and s >= 1
                and e < self.n
                and toks[s - 1].text == "("
                and toks[e].text == ")"
                and (s - 1) not in ends
                and (s < 2 or toks[s - 2].lower in ACCOUNTING_BEFORE)
            ):
                item.value = -item.value
                item.start, item.end = s - 1, e + 1
                if item.normalized is not None:
                    item.normalized = (-item.normalized[0], item.normalized[1])

    def _merge_cardinal_ranges(self, found: list[Found]) -> None:
        toks = self.tokens
        k = 0
        while k + 1 < len(found):
            a, b = found[k], found[k + 1]
            if (
                a.kind == "cardinal"
                and a.unit is None
                and a.value_max is None
                and b.kind in ("money", "quantity", "percent", "duration", "cardinal")
                and b.value_max is None
                and isinstance(a.value, int | float)
            ):
                gap = toks[a.end : b.start]
                words = [t.lower for t in gap]
                opener = toks[a.start - 1].lower if a.start > 0 else ""
                ok = (
                    words
                    in (["-"], ["–"], ["to"], ["-", "to"], ["-", "~"], ["to", "about"], ["or"])
                    or (words in (["and"], ["and", "about"]) and opener in ("between", "from"))
                    or (words == ["and"] and a.qualifier is None and opener == "between")
                )
                if (
                    words[:1] == ["to"]
                    and opener not in ("between", "from")
                    and self._is_change(a.start)
                ):
                    ok = False
                a_first_word = toks[a.start].lower
                if a_first_word in ("between", "from"):
                    ok = ok or words == ["and"]
                if (
                    ok
                    and b.kind == "cardinal"
                    and (not isinstance(b.value, int | float) or float(b.value) <= float(a.value))
                ):
                    ok = False
                if (
                    ok
                    and b.kind == "cardinal"
                    and b.unit is None
                    and words[:1] in (["-"], ["–"])
                    and opener not in ("between", "from", "aged")
                    and a.qualifier is None
                    and not (toks[a.end].space_before or toks[b.start].space_before)
                ):
                    del found[k : k + 2]  # "6-7 (4-7) 6-2": scores and codes, not ranges
                    continue
                if ok and isinstance(b.value, int | float) and b.kind != "duration":
                    lo = float(a.value)
                    scale_b = float(b.extra.get("scale", 1.0))
                    if (
                        a.extra.get("scale", 1.0) == 1.0
                        and scale_b > 1
                        and lo * scale_b <= float(b.value)
                    ):
                        lo *= scale_b
                    b.value_max = b.value
                    b.value = _num(lo)
                    if b.normalized is not None and b.unit is not None:
                        unit = self.units.units.get(b.unit)
                        if unit is not None:
                            b.normalized = (unit.to_si(lo), unit.si)
                    b.start = a.start
                    b.qualifier = b.qualifier if b.qualifier not in (None,) else a.qualifier
                    if opener in ("between", "from"):
                        b.start -= 1
                    del found[k]
                    continue
                if ok and b.kind == "duration" and isinstance(b.value, str):
                    designator = _designator_of(str(b.value))
                    if designator is not None:
                        lo_parts = duration_parts([(designator, float(a.value))])
                        b.value_max = b.value
                        b.value = iso_duration(lo_parts)
                        b.normalized = (duration_seconds(lo_parts), "s")
                        b.start = a.start - (1 if opener in ("between", "from") else 0)
                        b.qualifier = b.qualifier or a.qualifier
                        del found[k]
                        continue
            k += 1

    def _share_units(self, found: list[Found]) -> None:
        """ "45 and 50 mg", "3 or 4 km": a bare number before a measure shares its unit."""
        toks = self.tokens
        for k in range(len(found) - 1, 0, -1):
            a, b = found[k - 1], found[k]
            if a.kind != "cardinal" or a.unit is not None or a.value_max is not None:
                continue
            if b.kind != "quantity" or b.unit is None or not isinstance(a.value, int | float):
                continue
            gap = [t.lower for t in toks[a.end : b.start]]
            if gap not in (["and"], ["or"], [","]):
                continue
            opener = toks[a.start - 1].lower if a.start > 0 else ""
            if opener in ("between", "from"):
                continue
            unit = self.units.units.get(b.unit)
            if unit is None:
                continue
            a.kind = "quantity"
            a.unit = unit.code
            a.normalized = (unit.to_si(float(a.value)), unit.si)

    def _resolve_times(self, found: list[Found]) -> None:
        toks = self.tokens
        for k, item in enumerate(found):
            if item.kind != "time" or item.clock is None:
                continue
            clock = item.clock
            day: date | None = None
            # the date of the same sentence, written shortly before ("Monday at 1:00 PM")
            for prev in reversed(found[:k]):
                if prev.kind == "date" and isinstance(prev.value, str) and len(prev.value) == 10:
                    gap = toks[prev.end : item.start]
                    if len(gap) <= 3 and not any(t.text in ".;\n" for t in gap):
                        day = date.fromisoformat(prev.value)
                    break
                if prev.kind == "time" and prev.extra.get("day"):
                    gap = toks[prev.end : item.start]
                    if len(gap) <= 2:
                        day = prev.extra["day"]
                    break
            if day is None and k + 1 < len(found):
                nxt = found[k + 1]
                if nxt.kind == "date" and isinstance(nxt.value, str) and len(nxt.value) == 10:
                    gap = toks[item.end : nxt.start]
                    if len(gap) <= 1 and all(t.lower in ("on",) for t in gap):
                        day = date.fromisoformat(nxt.value)
            item.extra["day"] = day
            item.value = clock.iso(day)
        # "1:00 PM local time (1000 GMT)": the converted time tells the local offset
        for k, item in enumerate(found[:-1]):
            nxt = found[k + 1]
            if item.kind == "time" and nxt.kind == "time" and item.clock and nxt.clock:
                between = [t.text for t in toks[item.end : nxt.start]]
                if between == ["("] and item.clock.offset is None and nxt.clock.offset is not None:
                    local = item.clock.hour * 60 + item.clock.minute
                    utc = nxt.clock.hour * 60 + nxt.clock.minute - nxt.clock.offset
                    offset = (local - utc + 720) % 1440 - 720
                    item.value = item.clock.iso(item.extra.get("day"), offset=offset)
                    nxt.value = nxt.clock.iso(item.extra.get("day"))

    def _inherit_qualifiers(self, found: list[Found]) -> None:
        toks = self.tokens
        for k in range(1, len(found)):
            a, b = found[k - 1], found[k]
            if (
                b.qualifier is None
                and a.qualifier is not None
                and a.kind == b.kind
                and b.kind in ("money", "quantity")
            ):
                gap = [t.text for t in toks[a.end : b.start]]
                if gap == ["("] or (gap == [";"] and k > 1):
                    b.qualifier = a.qualifier

    # ------------------------------------------------------------ output

    def mentions(self) -> list[dict[str, Any]]:
        """The mentions as dicts with character offsets (fields of ``NumberMention``)."""
        out = []
        for item in self.run():
            if item.start >= item.end:
                continue
            start = self.tokens[item.start].start
            end = self.tokens[item.end - 1].end
            record: dict[str, Any] = {
                "start": start,
                "end": end,
                "text": self.text[start:end],
                "kind": item.kind,
                "value": item.value,
                "unit": item.unit,
                "qualifier": item.qualifier,
                "value_max": item.value_max,
                "normalized": (
                    {"value": item.normalized[0], "unit": item.normalized[1]}
                    if item.normalized is not None and math.isfinite(item.normalized[0])
                    else None
                ),
            }
            out.append(record)
        return out


def _duration_unit_name(word: str) -> str:
    """The unit of a duration mention, singular: "hours" → "hour", "hrs" → "hour"."""
    designator = duration_unit(word)
    names = {
        "S": "second",
        "M": "minute",
        "H": "hour",
        "D": "day",
        "W": "week",
        "W2": "fortnight",
        "MO": "month",
        "Y": "year",
        "Y10": "decade",
        "Y100": "century",
    }
    return names[designator[0]] if designator else word


def _designator_of(iso: str) -> str | None:
    """The single designator of a simple ISO duration ("P3Y" → "Y", "PT2H" → "H")."""
    body = iso[1:]
    in_time = body.startswith("T")
    body = body.lstrip("T")
    letters = [c for c in body if c.isalpha()]
    if len(letters) != 1 or "T" in body:
        return None
    letter = letters[0]
    if letter == "M":
        return "M" if in_time else "MO"
    return letter


def extract_numbers(
    text: str,
    anchor: datetime | None = None,
    parse: Any = None,
    entity_spans: Sequence[tuple[int, int, str]] = (),
    dollar: str = "USD",
    counted_nouns: bool = True,
) -> list[dict[str, Any]]:
    """Every number mention in ``text`` as a dict of ``NumberMention`` fields."""
    return Extractor(text, anchor, parse, entity_spans, dollar, counted_nouns).mentions()


__all__ = ["Extractor", "extract_numbers"]
