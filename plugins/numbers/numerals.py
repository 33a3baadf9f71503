"""Numerals: a number at a token, before what it counts is decided. ``Reader`` tries
named readers in a declared order (``READERS``): an article or a fraction word before
a unit ("a half-hour", "half a mile", "a quarter of a mile"), a decimal read out
("point 5"), a sign ("minus 8", "-5"), digits (``digits.py``), a bare "½" and words
(``words.py``); then the smaller groups after a scale word are joined ("1 million 200
thousand").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

from copydesk.plugins.numbers.digits import DigitReader
from copydesk.plugins.numbers.found import DECLINED, Declined, Numeral
from copydesk.plugins.numbers.isotime import duration_unit
from copydesk.plugins.numbers.lexicon import (
    ARTICLE_NEVER,
    DIGIT_NAMES,
    FRACTION_WORDS,
    MINUS,
    SCALE_WORDS,
)
from copydesk.plugins.numbers.words import (
    FRACTIONS,
    HYPHENS,
    PLURAL_SCALES,
    UNICODE_FRACTIONS,
    read_word_number,
    word_kind,
)

#: Words at which some reader may start besides the number words of ``word_kind``.
NUMERAL_STARTS = (
    frozenset({"a", "an", "point", "minus", "negative", "half"})
    | frozenset(FRACTION_WORDS)
    | frozenset(FRACTIONS)
    | frozenset(PLURAL_SCALES)
)


class Reader(DigitReader):
    """The numeral readers on top of one text's context; the rules are functions of it."""

    #: The numeral readers, tried in this order at a token (``_read_<name>``); the first
    #: that reads something wins, and one that declines ends the search.
    READERS: ClassVar[tuple[str, ...]] = (
        "article_fraction",
        "fraction_word",
        "fraction_of",
        "spoken_point",
        "signed",
        "digits_at",
        "leading_dot",
        "unicode_fraction",
        "words",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: the readers bound once per text: ``read_numeral`` runs at every token
        self._readers: list[Callable[[int, bool], Numeral | Declined | None]] = [
            getattr(self, "_read_" + name) for name in self.READERS
        ]

    def read_numeral(
        self, i: int, after_prefix: bool = False, compound: bool = True
    ) -> Numeral | None:
        """A number at token ``i``: digits, words, fractions, signs and scales, and with
        ``compound`` the smaller groups after a scale word ("1 million 200 thousand").
        ``after_prefix``: a currency symbol or code is glued before it ("US$5")."""
        tok = self.tokens[i]
        if tok.is_alpha and tok.lower not in NUMERAL_STARTS and word_kind(tok.lower) is None:
            return None  # most words: no reader starts at them (checked once, not nine times)
        for read in self._readers:
            got = read(i, after_prefix)
            if got is DECLINED:
                return None
            if isinstance(got, Numeral):
                if compound:
                    self._compound(got)
                return got
        return None

    def _read_article_fraction(self, i: int, after_prefix: bool) -> Numeral | None:
        """ "a half-hour", "a quarter mile": the article and the fraction before a unit."""
        toks = self.tokens
        if toks[i].lower in ("a", "an") and i + 1 < self.n and toks[i + 1].lower in FRACTION_WORDS:
            inner = self._fraction_before_unit(i + 1)
            if inner is not None:
                inner.start = i
                return inner
        return None

    def _read_fraction_word(self, i: int, after_prefix: bool) -> Numeral | None:
        """ "half a day", "quarter-hour", "half a million" (else only "half of voters",
        "half the population", "more than half.", read with the words)."""
        if self.tokens[i].lower in FRACTION_WORDS and i + 1 < self.n:
            return self._fraction_before_unit(i)
        return None

    def _read_fraction_of(self, i: int, after_prefix: bool) -> Numeral | None:
        """ "quarter of a mile", "fourth of a litre" (the rule for "of" reads on)."""
        toks = self.tokens
        word = toks[i].lower
        if (
            word in FRACTIONS
            and not word.endswith("s")
            and word != "second"
            and i + 1 < self.n
            and toks[i + 1].lower == "of"
            and self.unit_after_of(i + 1) is not None
        ):
            return Numeral(1 / FRACTIONS[word], i, i + 1, fraction=True, words=True)
        return None

    def _read_spoken_point(self, i: int, after_prefix: bool) -> Numeral | None:
        """ "point 5", "point seven five": a decimal read out, with no whole part."""
        toks = self.tokens
        n = self.n
        if toks[i].lower != "point" or i + 1 >= n:
            return None
        before = toks[i - 1] if i > 0 else None
        if toks[i + 1].text.isdigit() and (before is None or not before.is_digits):
            return Numeral(float("0." + toks[i + 1].text), i, i + 2)
        if toks[i + 1].lower in DIGIT_NAMES and (
            before is None or not (before.is_digits or word_kind(before.lower))
        ):
            k = i + 1
            while k < n and toks[k].lower in DIGIT_NAMES:
                k += 1
            digits = "".join(str(DIGIT_NAMES.index(t.lower)) for t in toks[i + 1 : k])
            return Numeral(float("0." + digits), i, k)
        return None

    def _negated(self, i: int, inner: Numeral | None, ordinal_ok: bool) -> Numeral | Declined:
        if inner is not None and (ordinal_ok or not inner.ordinal):
            inner.value = -inner.value
            inner.start = i
            return inner
        return DECLINED

    def _read_signed(self, i: int, after_prefix: bool) -> Numeral | Declined | None:
        """ "- 1,200" (at the start), "-.5", "-5" (after a bracket, a colon, a word…),
        "minus 8", "negative 3"."""
        toks = self.tokens
        n = self.n
        tok = toks[i]
        if tok.lower in ("minus", "negative") and i + 1 < n:
            return self._negated(i, self.read_numeral(i + 1), ordinal_ok=False)
        if tok.text not in MINUS or i + 1 >= n:
            return None
        nxt = toks[i + 1]
        if nxt.space_before and i == 0 and nxt.is_digits:
            return self._negated(i, self.read_numeral(i + 1), ordinal_ok=False)
        if (
            i + 2 < n
            and nxt.text == "."
            and not nxt.space_before
            and toks[i + 2].text.isdigit()
            and (i == 0 or tok.space_before)
        ):
            return self._negated(i, self.read_numeral(i + 1), ordinal_ok=True)
        if nxt.is_digits and not nxt.space_before:
            prev = toks[i - 1] if i > 0 else None
            if (
                prev is None
                or prev.text in "([:=~,;$€£"
                or (prev.is_alpha and prev.lower != "and" and tok.space_before)
            ):
                return self.read_digits(i + 1, i, -1.0, after_prefix)
            return DECLINED
        return None

    def _read_digits_at(self, i: int, after_prefix: bool) -> Numeral | Declined | None:
        if not self.tokens[i].is_digits:
            return None
        return self.read_digits(i, i, 1.0, after_prefix)

    def _read_leading_dot(self, i: int, after_prefix: bool) -> Numeral | Declined | None:
        """ ".77": a decimal without its zero (not the end of "1.2.77")."""
        toks = self.tokens
        tok = toks[i]
        if not (
            tok.text == "."
            and i + 1 < self.n
            and toks[i + 1].text.isdigit()
            and not toks[i + 1].space_before
        ):
            return None
        if tok.space_before or i == 0 or toks[i - 1].text in MINUS:
            num = Numeral(float("0." + toks[i + 1].text), i, i + 2)
            self._scale(num)
            return num
        return DECLINED

    def _read_unicode_fraction(self, i: int, after_prefix: bool) -> Numeral | None:
        """ "½", "¾" on their own."""
        text = self.tokens[i].text
        if text in UNICODE_FRACTIONS:
            return Numeral(UNICODE_FRACTIONS[text], i, i + 1, fraction=True)
        return None

    def _read_words(self, i: int, after_prefix: bool) -> Numeral | None:
        """A number in words ("forty-six", "two and a half", "one point three", "a
        dozen", "thousands"), with a scale word after it ("two million")."""
        toks = self.tokens
        tok = toks[i]
        if tok.lower == "point" or not (tok.is_alpha or tok.text in HYPHENS):
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
            half = self.and_a_half(wnum.end)
            if half is not None:
                wnum.value += 0.5
                wnum.end = half
        num = Numeral(
            wnum.value,
            i,
            wnum.end,
            ordinal=wnum.ordinal,
            fraction=wnum.fraction,
            vague=wnum.vague_plural,
            words=True,
            group_word=wnum.only_group,
            scale=wnum.scale,
        )
        if not wnum.ordinal:
            self._point_digits(num)
        if not wnum.ordinal and not wnum.vague_plural:
            self._scale(num)
        return num

    def _point_digits(self, num: Numeral) -> None:
        """ "one point three", "two point five six": the decimals read out after words."""
        toks = self.tokens
        n = self.n
        if not (
            num.end + 1 < n
            and toks[num.end].lower == "point"
            and (toks[num.end + 1].text.isdigit() or toks[num.end + 1].lower in DIGIT_NAMES)
        ):
            return
        digits = ""
        k = num.end + 1
        while k < n and (toks[k].text.isdigit() or toks[k].lower in DIGIT_NAMES):
            word = toks[k]
            digits += word.text if word.text.isdigit() else str(DIGIT_NAMES.index(word.lower))
            k += 1
        num.value = abs(num.value) + float("0." + digits)
        num.end = k

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
        skip_to = self.skip_to
        while limit >= 100:
            k = num.end
            if k + 1 < self.n and toks[k].lower == "and":
                k += 1  # "1 million and 200 thousand"
            if k >= self.n or not toks[k].space_before:
                break
            if not (toks[k].is_digits or word_kind(toks[k].lower) in ("unit", "teen", "tens")):
                break
            sub = self.read_numeral(k, compound=False)
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
        self.skip_to = skip_to

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
            or (not hyphen and self.percent_at(j) is not None)  # "half a percentage point"
            or (
                toks[j].is_alpha and self.units.match_simple(toks, j) is not None and len(after) > 2
            )
        ):
            return Numeral(part, i, i + 1 if hyphen else j, fraction=True, words=True)
        return None

    def unit_after_of(self, j: int) -> int | None:
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
        if duration_unit(word) is not None or self.currency_at(k) is not None:
            return k
        if self.percent_at(k) is not None:
            return k  # "a quarter of a percentage point"
        if self.units.match(toks, k, self.text) is not None:
            return k
        return None
