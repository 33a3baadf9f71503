"""Numbers written in digits: "1,250", "1,25,000" (Indian grouping), "10 000", "1.5",
"1/2", "2 1/2", "3½", "3e8", "6.02×10^23", "21st", with a scale word or abbreviation
after them ("1.5 million", "7bn", "€10M"); and the digits that are no number ("MH17",
"F-16", "0800 123 4567", "3:1"). ``DigitReader.read_digits`` is one of the named
readers ``numerals.Reader`` tries in order.
"""

from __future__ import annotations

from copydesk.plugins.numbers.context import Context
from copydesk.plugins.numbers.found import DECLINED, Declined, Numeral
from copydesk.plugins.numbers.isotime import duration_unit
from copydesk.plugins.numbers.lexicon import (
    DASHES,
    MINUS,
    ORDINAL_SUFFIXES,
    SCALE_ABBREVS,
    SCALE_WORDS,
    WEAK_ABBREVS,
)
from copydesk.plugins.numbers.words import HYPHENS, UNICODE_FRACTIONS


class DigitReader(Context):
    """The readers of digits and what goes on them (scales, exponents, suffixes)."""

    def read_digits(
        self, i: int, start: int, sign: float = 1.0, after_prefix: bool = False
    ) -> Numeral | Declined | None:
        """A number written in digits at token ``i`` (``start`` is where its sign is):
        "1,250", "1.5 million", "7bn", "1/2", "2 1/2", "3e8", "21st", "10 000"."""
        if self._digits_refused(i, sign, after_prefix) or self._phone_or_ratio(i):
            return DECLINED
        text = self.tokens[i].text
        value = self._digits_value(text)
        if value is None:
            return DECLINED
        integer_text = text.isdigit()
        value, end = self._thin_groups(i, value) if integer_text else (value, i + 1)
        if integer_text:
            fraction = self._slash_fraction(start, end, sign * value)
            if fraction is not None:
                return fraction
            mixed = self._mixed_fraction(start, end, value)
            if mixed is not None:
                return Numeral(sign * mixed.value, start, mixed.end, fraction=True)
        return self._digits_tail(text, start, end, sign, value)

    def _digits_tail(
        self, text: str, start: int, end: int, sign: float, value: float
    ) -> Numeral | Declined:
        """What may follow the digits of a number: "½", "and a half", "point 5", an
        exponent, "± 0.1", an ordinal suffix or a scale word."""
        toks = self.tokens
        n = self.n
        integer_text = text.isdigit()
        if end < n and toks[end].text in UNICODE_FRACTIONS:
            value += UNICODE_FRACTIONS[toks[end].text]
            end += 1
            integer_text = False
        elif end < n and toks[end].text[:1] in UNICODE_FRACTIONS and not toks[end].space_before:
            return DECLINED
        half = self.and_a_half(end) if integer_text else None
        if half is not None:  # "15-and-a-half", "2 and a half"
            value += 0.5
            end = half
            integer_text = False
        if (
            integer_text
            and end + 1 < n
            and toks[end].lower == "point"
            and toks[end + 1].text.isdigit()
        ):  # "1 point 5"
            value = float(f"{int(value)}.{toks[end + 1].text}")
            end += 2
            integer_text = False
        value, end = self._exponent(value, end)
        end = self._skip_uncertainty(end)
        if not self._glued_letters_ok(end):
            return DECLINED
        if end < n and toks[end].lower in ORDINAL_SUFFIXES and not toks[end].space_before:
            if integer_text and self._ordinal_suffix_fits(text, toks[end].lower):
                return Numeral(value, start, end + 1, ordinal=True, integer_text=True)
            return DECLINED
        num = Numeral(sign * value, start, end, integer_text=integer_text)
        self._scale(num)
        return num

    def _digits_refused(self, i: int, sign: float, after_prefix: bool) -> bool:
        """Digits inside a code or a name: "MH17", "G7" (letters glued before), "#12",
        "X+12" (a sign glued between), "F-16", "COVID-19" (capitals and a dash), the
        middle of "1.2.3"."""
        toks = self.tokens
        tok = toks[i]
        if i == 0 or tok.space_before:
            return False
        before = toks[i - 1]
        if before.is_alpha and sign > 0 and not after_prefix:
            return True
        if i < 2 or before.space_before:
            return False
        if before.text in "+_#":
            return True
        if before.text in DASHES and toks[i - 2].is_alpha:
            return any(ch.isupper() for ch in toks[i - 2].text)
        return before.text in ".," and toks[i - 2].is_digits

    def _phone_or_ratio(self, i: int) -> bool:
        """ "0800 123 4567", "007" (a leading zero: a phone number or a code, with its
        groups) and "3:1" (a ratio or a score): skipped whole."""
        toks = self.tokens
        n = self.n
        text = toks[i].text
        if text.isdigit() and len(text) >= 3 and text[0] == "0":
            k = i + 1
            while k < n and toks[k].text.isdigit() and toks[k].space_before:
                k += 1
            self.skip_to = k
            return True
        if (
            text.isdigit()
            and i + 2 < n
            and toks[i + 1].text == ":"
            and toks[i + 2].text.isdigit()
            and not toks[i + 1].space_before
            and not toks[i + 2].space_before
            and len(toks[i + 2].text) != 2
        ):
            self.skip_to = i + 3
            return True
        return False

    def _thin_groups(self, i: int, value: float) -> tuple[float, int]:
        """ "10 000", "1 000 000": groups of three digits after a space or a thin space,
        not followed by more digits ("3 100 200 4" is a list)."""
        toks = self.tokens
        n = self.n
        end = i + 1
        if len(toks[i].text) > 3:
            return value, end
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
            k >= n or (not toks[k].is_digits and (toks[k].is_alpha or toks[k].text in ".,;)"))
        ):
            for group in toks[end:k]:
                value = value * 1000 + int(group.text)
            end = k
        return value, end

    def _slash_fraction(self, start: int, end: int, value: float) -> Numeral | Declined | None:
        """ "1/2", "2/10" (a date such as 12/03/2005 and "1/0" are no numbers)."""
        toks = self.tokens
        n = self.n
        if not (
            end + 1 < n
            and toks[end].text == "/"
            and not toks[end].space_before
            and toks[end + 1].text.isdigit()
            and not toks[end + 1].space_before
        ):
            return None
        if end + 2 < n and toks[end + 2].text == "/" and not toks[end + 2].space_before:
            return DECLINED
        denominator = int(toks[end + 1].text)
        if denominator == 0:
            self.skip_to = end + 2
            return DECLINED
        return Numeral(value / denominator, start, end + 2, fraction=True)

    def _mixed_fraction(self, start: int, end: int, value: float) -> Numeral | None:
        """ "2 1/2": a whole number and a proper fraction."""
        toks = self.tokens
        if (
            end + 2 < self.n
            and toks[end].text.isdigit()
            and toks[end].space_before
            and toks[end + 1].text == "/"
            and not toks[end + 1].space_before
            and toks[end + 2].text.isdigit()
            and not toks[end + 2].space_before
            and int(toks[end + 2].text) > int(toks[end].text) > 0
        ):
            value += int(toks[end].text) / int(toks[end + 2].text)
            return Numeral(value, start, end + 3, fraction=True)
        return None

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
        if self.units.match_simple(self.tokens, j) is not None:
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

    def and_a_half(self, end: int) -> int | None:
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
