"""Rules for durations and ages: "three years", "1.5 hrs", "half a day", "an hour and
a half", durations in several parts ("4 years, 5 months", "2 hours 30", "2h30"), "a
month ago" (a date: the anchor minus the duration), and ages, which are no durations:
"a 30-year-old", "16-year-olds", "40 years old", "aged 52".
"""

from __future__ import annotations

from copydesk.plugins.numbers.calendar import DateSpec, resolve_date
from copydesk.plugins.numbers.found import DECLINED, Declined, Found, Numeral, as_number
from copydesk.plugins.numbers.isotime import (
    duration_parts,
    duration_seconds,
    duration_unit,
    duration_unit_name,
    iso_duration,
)
from copydesk.plugins.numbers.lexicon import DASHES
from copydesk.plugins.numbers.numerals import Reader
from copydesk.plugins.numbers.ranges import range_after
from copydesk.plugins.numbers.words import HYPHENS

#: Words between a number and its time unit that keep the duration ("2 more hours").
DURATION_FILLERS = frozenset(
    {
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
    }
)
#: Time units that "a"/"an" may stand before as the number one ("an hour").
ARTICLE_DURATIONS = frozenset(
    {
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
    }
)
#: Plural time units a vague count may take ("hundreds of years").
VAGUE_DURATIONS = frozenset({"years", "days", "hours", "months", "weeks", "minutes", "decades"})
#: The order of duration parts, largest first: a later part must be smaller.
PART_ORDER = ("Y10", "Y", "MO", "W2", "W", "D", "H", "M", "S")
#: Time units an age is counted in.
AGE_UNITS = frozenset({"year", "years", "month", "months", "week", "weeks", "day", "days"})


def _hyphen_then_word(x: Reader, j: int) -> bool:
    """Whether a hyphen at ``j`` joins the words on both sides ("30-year")."""
    toks = x.tokens
    return (
        j + 1 < x.n
        and toks[j].text in HYPHENS
        and not toks[j].space_before
        and not toks[j + 1].space_before
    )


def _closes_phrase(x: Reader, j: int) -> bool:
    """Whether nothing but digits or punctuation follows at ``j`` (or the text ends)."""
    return j >= x.n or not x.tokens[j].is_alpha


# ------------------------------------------------------------------ ages


def age(x: Reader, num: Numeral) -> Found | None:
    """An age: "a 30-year-old", "16-year-olds", "a six-month-old calf", "40 years old",
    "aged 52". The value is the count, the unit the time unit ("year")."""
    if num.ordinal or num.fraction or num.vague or not float(num.value).is_integer():
        return None
    return _hyphenated_age(x, num) or _spaced_age(x, num) or _aged(x, num)


def _age_found(x: Reader, num: Numeral, end: int, unit_word: str) -> Found:
    unit = duration_unit_name(unit_word)
    return x.qualify(Found(num.start, end, "age", as_number(num.value), unit=unit))


def _hyphenated_age(x: Reader, num: Numeral) -> Found | None:
    """ "30-year-old", "16-year-olds", "six-month-old" (the span covers "-old")."""
    toks = x.tokens
    j = num.end
    if not _hyphen_then_word(x, j) or toks[j + 1].lower not in AGE_UNITS:
        return None
    k = j + 2
    if _hyphen_then_word(x, k) and toks[k + 1].lower in ("old", "olds"):
        return _age_found(x, num, k + 2, toks[j + 1].lower)
    return None


def _spaced_age(x: Reader, num: Numeral) -> Found | None:
    """ "40 years old", "two months old"."""
    toks = x.tokens
    j = num.end
    if j + 1 < x.n and toks[j].lower in AGE_UNITS and toks[j + 1].lower == "old":
        return _age_found(x, num, j + 2, toks[j].lower)
    return None


def _aged(x: Reader, num: Numeral) -> Found | None:
    """ "aged 52", "aged between 30 and 40" reads its first end; no unit may follow."""
    toks = x.tokens
    if num.start == 0 or toks[num.start - 1].lower != "aged" or not 0 <= num.value < 130:
        return None
    nxt = toks[num.end] if num.end < x.n else None
    if nxt is not None and (duration_unit(nxt.lower) is not None or x.measure_at(num.end)):
        return None
    found = _age_found(x, num, num.end, "years")
    found.start = min(found.start, num.start - 1)  # the span says "aged 52"
    return found


# ------------------------------------------------------------------ durations


def _duration_unit_at(x: Reader, num: Numeral) -> int | None:
    """Token index of the time unit of the number ``num``, past a hyphen ("two-year
    period"), a filler ("2 more hours") or "of" after a mixed number, else None."""
    toks = x.tokens
    n = x.n
    j = num.end
    if j < n and (_hyphen_then_word(x, j) or toks[j].lower in DURATION_FILLERS):
        j += 1
    if (
        j + 1 < n
        and toks[j].lower == "of"
        and num.fraction is False
        and num.value != int(num.value)
        and duration_unit(toks[j + 1].lower) is not None
    ):
        j += 1  # "two and a half of hours"
    if j >= n:
        return None
    word = toks[j].lower
    if word == "h" and toks[j].space_before and not _closes_phrase(x, j + 1):
        return None  # "24 h" and "1 h 30" are hours; "5 h" before a word may be a label
    if word == "s" and (toks[j].space_before or num.integer_text or toks[j].text != "s"):
        return None  # "9.58s" is a time; "the 80s", "over-65s" are not
    return j if duration_unit(word) is not None else None


def amount_then_duration(x: Reader, num: Numeral) -> Found | None:
    """A number and a time unit: "three years", "1.5 hrs", "two-year", "six weeks'",
    with the smaller parts after it and a range to a second number."""
    j = _duration_unit_at(x, num)
    if j is None or num.ordinal:
        return None
    toks = x.tokens
    word = toks[j].lower
    dur = duration_unit(word)
    assert dur is not None
    if num.vague:
        return _vague_duration(x, num, j) if word in VAGUE_DURATIONS else None
    end = j + 1
    if (
        end < x.n
        and toks[end].text in ("'", "’")
        and not toks[end].space_before
        and word.endswith("s")
    ):
        end += 1  # "six weeks' notice"
    end, items = more_duration(x, end, [(dur[0], num.value)])
    parts = duration_parts(items)
    item = Found(num.start, end, "duration", iso_duration(parts), unit=duration_unit_name(word))
    item.normalized = (duration_seconds(parts), "s")
    dated = ago(x, item, parts)
    if dated is not None:
        return dated
    item = range_after(x, item, num, unit_kind="duration", duration_designator=dur[0])
    return x.qualify(item)


def _vague_duration(x: Reader, num: Numeral, j: int) -> Found:
    """ "hundreds of years", "thousands of hours": at least the count."""
    word = x.tokens[j].lower
    dur = duration_unit(word)
    assert dur is not None
    parts = duration_parts([(dur[0], num.value)])
    item = Found(
        num.start,
        j + 1,
        "duration",
        iso_duration(parts),
        qualifier="at_least",
        unit=duration_unit_name(word),
    )
    item.normalized = (duration_seconds(parts), "s")
    return x.qualify(item)


def article_duration(x: Reader, i: int) -> Found | Declined | None:
    """ "an hour", "a month", "a second" (or the ordinal of "a second term"), with the
    parts after it ("an hour and 20 minutes") and "a year ago"."""
    if not x.article_stands_for_one(i):
        return None
    toks = x.tokens
    j = i + 1
    word = toks[j].lower
    dur = duration_unit(word)
    if dur is None or word not in ARTICLE_DURATIONS:
        return None
    nxt = toks[j + 1] if j + 1 < x.n else None
    if word == "second" and nxt is not None and nxt.is_alpha:
        nsp = x.sp(j + 1)
        parsed_noun = nsp is not None and nsp.pos_ in ("NOUN", "PROPN", "ADJ")
        if (x.sp(j) is not None and parsed_noun) or x.parse is None:
            found = Found(j, j + 1, "ordinal", 2)  # "a second term"
            found.rule = "article_ordinal"
            return found
    if nxt is not None and nxt.text in DASHES and not nxt.space_before:
        return DECLINED  # "a year-long", "a day-old"
    end, items = more_duration(x, j + 1, [(dur[0], 1.0)])
    parts = duration_parts(items)
    item = Found(i, end, "duration", iso_duration(parts), unit=duration_unit_name(word))
    item.normalized = (duration_seconds(parts), "s")
    return ago(x, item, parts) or x.qualify(item)


# ------------------------------------------------------------------ parts


def _part_start(x: Reader, end: int) -> tuple[int, bool] | None:
    """Where the next part of a duration starts after ``end`` (past a comma and
    "and"), and whether it is glued to an "h" ("2h30"); None when no part can."""
    toks = x.tokens
    k = end
    if toks[k].text == ",":
        k += 1
    if k < x.n and toks[k].lower == "and":
        k += 1
    glued_hours = k == end and toks[k - 1].text in ("h", "H") and toks[k].is_digits
    if k >= x.n or (k == end and not toks[k].space_before and not glued_hours):
        return None
    return k, glued_hours


def _half_after(x: Reader, k: int) -> int | None:
    """Token index after "half" or "a half" at ``k`` (closing a duration), else None."""
    toks = x.tokens
    if toks[k].lower == "half":
        return k + 1
    if toks[k].lower == "a" and k + 1 < x.n and toks[k + 1].lower == "half":
        return k + 2
    return None


def _part_unit(x: Reader, unit_tok: int, last: str) -> tuple[str, float] | None:
    """The time unit of a part at ``unit_tok``; after hours, a glued "m" is minutes."""
    toks = x.tokens
    if unit_tok >= x.n:
        return None
    dur = duration_unit(toks[unit_tok].lower)
    if dur is None and last == "H" and toks[unit_tok].text == "m":
        return None if toks[unit_tok].space_before else ("M", 60.0)  # "2h30m"
    return dur


def more_duration(
    x: Reader, end: int, items: list[tuple[str, float]]
) -> tuple[int, list[tuple[str, float]]]:
    """The smaller parts after a duration ("…, 5 months", "… and 20 minutes", "… 30",
    "… and a half"): each part smaller than the one before, so the loop is short."""
    while end < x.n:
        start = _part_start(x, end)
        if start is None:
            break
        k, glued_hours = start
        half = _half_after(x, k)
        if half is not None:
            last = items[-1]
            items = [*items[:-1], (last[0], last[1] + 0.5)]
            end = half
            break
        sub = x.read_numeral(k, after_prefix=glued_hours)
        if sub is None or sub.ordinal or sub.vague:
            break
        dur = _part_unit(x, sub.end, items[-1][0])
        if dur is None:
            # "3 hours and twenty", "2 hours 30": the next smaller unit is meant
            smaller = {"H": "M", "M": "S"}.get(items[-1][0])
            if (
                smaller is not None
                and 0 < sub.value < 60
                and sub.value == int(sub.value)
                and sub.scale == 1
                and (glued_hours or not x.names_a_thing(sub.end))
            ):
                items = [*items, (smaller, sub.value)]
                end = sub.end
            break
        if PART_ORDER.index(dur[0]) <= PART_ORDER.index(items[-1][0]):
            break
        items = [*items, (dur[0], sub.value)]
        end = sub.end + 1
    return end, items


def ago(x: Reader, item: Found, parts: dict[str, float]) -> Found | None:
    """ "three years ago" is a date: the anchor minus the duration."""
    toks = x.tokens
    if item.end >= x.n or toks[item.end].lower != "ago":
        return None
    spec = DateSpec(item.start, item.end + 1)
    if len(parts) == 1:
        ((designator, amount),) = parts.items()
        spec.ago = (amount, designator)
    found = Found(item.start, item.end + 1, "date", None, date_spec=spec)
    found.value = resolve_date(spec, x.anchor, True) if spec.ago else None
    found.rule = "duration_ago"
    return x.qualify(found)
