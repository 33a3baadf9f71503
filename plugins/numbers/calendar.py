"""Dates: reading a date expression into a ``DateSpec`` (what the text says) and
resolving it against the article's ``published_at`` into an ISO 8601 value, using the
tense of the sentence. Whatever needs an anchor and has none, or stays ambiguous,
resolves to ``None``: never a guess. Calendar arithmetic is ``dateutil.relativedelta``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from copydesk.plugins.numbers.isotime import time_data
from copydesk.plugins.numbers.tokens import Token
from dateutil.relativedelta import relativedelta

RELATIVE_DAYS = {"today": 0, "yesterday": -1, "tomorrow": 1, "tonight": 0}
PARTS_OF_DAY = frozenset({"morning", "afternoon", "evening", "night"})
RELATIVE_WORDS = {"last": -1, "past": -1, "previous": -1, "next": 1, "this": 0, "coming": 1}
CALENDAR_UNITS = ("week", "month", "year", "quarter")
YEAR_CONTEXT = frozenset(
    {
        "in",
        "since",
        "by",
        "until",
        "till",
        "from",
        "of",
        "during",
        "before",
        "after",
        "between",
        "to",
        "and",
        "through",
        "early",
        "late",
        "mid",
        "summer",
        "winter",
        "spring",
        "autumn",
        "fall",
        "year",
        "fiscal",
        "season",
        "end",
        "start",
        "around",
        "circa",
        "c.",
        "for",
        "than",
        "as",
        "election",
        "vintage",
    }
)

FULL_MONTHS = frozenset(
    {
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    }
)
#: Words before an abbreviated month ("in Dec.", "since Sept") that show it is one.
MONTH_CONTEXT = frozenset(
    {
        "in",
        "since",
        "until",
        "till",
        "by",
        "early",
        "late",
        "mid",
        "last",
        "next",
        "this",
        "from",
        "of",
        "on",
        "during",
        "before",
        "after",
    }
)


@dataclass
class DateSpec:
    """What a date expression says, before it is resolved against an anchor."""

    start: int  # token index
    end: int  # token index after
    year: int | None = None
    month: int | None = None
    day: int | None = None
    weekday: int | None = None
    #: -1 last, 0 this, +1 next, None when not said
    relative: int | None = None
    #: "week", "month", "year", "quarter" for "last month" and the like
    unit: str | None = None
    #: "today", "yesterday", "tomorrow", "tonight", "overnight"
    special: str | None = None
    #: (amount, designator) for "three years ago"
    ago: tuple[float, str] | None = None
    #: a range of years ("2004-05", "the 1990s"): last year
    year_to: int | None = None
    #: a range of days ("16-18 December"): last day
    day_to: int | None = None


def month_of(word: str, tok: Token, spacy_pos: str | None) -> int | None:
    """The month a word names; "May"/"March" only when capitalised and not a verb."""
    months = time_data().months
    lower = word.lower()
    if lower not in months:
        return None
    if not word[0].isupper() or (word.isupper() and len(word) > 1):
        return None  # "may" the verb, "DEC" the organisation
    if lower in ("may", "march") and spacy_pos in ("VERB", "AUX"):
        return None
    if len(lower) <= 4 and lower not in ("may", "june", "july"):
        # abbreviations: "Jan", "Sept" (an optional dot follows)
        return months[lower]
    return months[lower]


def resolve_date(spec: DateSpec, anchor: datetime | None, past: bool | None) -> str | None:
    """The ISO 8601 value of ``spec``; a day range is an ISO interval of its two days."""
    if spec.day_to is not None and spec.day is not None:
        first = resolve_date(
            DateSpec(spec.start, spec.end, spec.year, spec.month, spec.day), anchor, past
        )
        if first is None or len(first) != 10:
            return None
        try:
            last = date.fromisoformat(first).replace(day=spec.day_to)
        except ValueError:
            return None
        return f"{first}/{last.isoformat()}"
    return _resolve_one(spec, anchor, past)


def _resolve_one(spec: DateSpec, anchor: datetime | None, past: bool | None) -> str | None:
    """The ISO 8601 value of ``spec`` ("2025-06-02", "2025-05", "2022", "2025-W22",
    "2025-05-31/2025-06-01"), or None when it cannot be resolved without guessing: a
    date with its year needs no anchor, every other is read from the anchor's day."""
    if spec.year is not None:
        return _with_year(spec)
    if anchor is None:
        return None
    today = anchor.date()
    if spec.special is not None:
        return _special_day(spec.special, anchor, past)
    if spec.ago is not None:
        return _ago(spec.ago, today)
    if spec.unit is not None and spec.relative is not None:
        return _relative_unit(spec.unit, spec.relative, today)
    if spec.weekday is not None:
        return _weekday(spec.weekday, spec.relative, today, past)
    if spec.month is not None:
        return _month_day(spec.month, spec.day, spec.relative, today, past)
    return None


def _with_year(spec: DateSpec) -> str | None:
    """ "2004/2005", "2004-12-31", "2004-12", "2004"."""
    assert spec.year is not None
    if spec.year_to is not None:
        return f"{spec.year}/{spec.year_to}"
    if spec.month is not None and spec.day is not None:
        try:
            return date(spec.year, spec.month, spec.day).isoformat()
        except ValueError:
            return None
    if spec.month is not None:
        return f"{spec.year:04d}-{spec.month:02d}"
    return f"{spec.year:04d}"


def _special_day(special: str, anchor: datetime, past: bool | None) -> str:
    """ "today", "yesterday", "tomorrow", "tonight"; "overnight" is the night before the
    anchor's day, or the coming one in an afternoon article in the future tense."""
    today = anchor.date()
    if special == "overnight":
        first = today if past is False and anchor.hour >= 12 else today - timedelta(days=1)
        return f"{first.isoformat()}/{(first + timedelta(days=1)).isoformat()}"
    return (today + timedelta(days=RELATIVE_DAYS[special])).isoformat()


def _ago(ago: tuple[float, str], today: date) -> str | None:
    """ "3 days ago" (a day), "2 months ago" (a month), "5 years ago" (a year)."""
    amount, designator = ago
    if amount != int(amount):
        return None
    k = int(amount)
    if designator == "D":
        return (today - timedelta(days=k)).isoformat()
    if designator == "W":
        return (today - timedelta(weeks=k)).isoformat()
    if designator == "MO":
        then = today - relativedelta(months=k)
        return f"{then.year:04d}-{then.month:02d}"
    if designator in ("Y", "Y10"):
        return f"{today.year - (10 if designator == 'Y10' else 1) * k:04d}"
    return None


def _relative_unit(unit: str, step: int, today: date) -> str | None:
    """ "last year", "next month", "this week" (an ISO week), "last quarter"."""
    if unit == "year":
        return f"{today.year + step:04d}"
    if unit == "month":
        then = today + relativedelta(months=step)
        return f"{then.year:04d}-{then.month:02d}"
    if unit == "week":
        iso = (today + timedelta(weeks=step)).isocalendar()
        return f"{iso[0]:04d}-W{iso[1]:02d}"
    if unit == "quarter":
        q = (today.month - 1) // 3 + step
        year = today.year + q // 4
        first_month = (q % 4) * 3 + 1
        last = date(year, first_month, 1) + relativedelta(months=3, days=-1)
        return f"{year:04d}-{first_month:02d}/{last.year:04d}-{last.month:02d}"
    return None


def _weekday(weekday: int, relative: int | None, today: date, past: bool | None) -> str:
    """ "Monday": the last one in a past-tense sentence, else the next; "last Monday",
    "next Monday" a week apart from today's when it is one; "this Monday" this week."""
    delta = weekday - today.weekday()
    direction = relative if relative is not None else (-1 if past else 1)
    if direction > 0:
        delta = delta % 7
        if relative == 1 and delta == 0:
            delta = 7
    elif direction < 0:
        delta = -((-delta) % 7)
        if relative == -1 and delta == 0:
            delta = -7
    return (today + timedelta(days=delta)).isoformat()


def _month_day(
    month: int, day: int | None, relative: int | None, today: date, past: bool | None
) -> str | None:
    """ "3 March", "in December": this year's, or the last or next one by the tense."""
    direction = relative if relative is not None else (-1 if past else 1)
    year = today.year
    if direction < 0 and month > today.month:
        year -= 1
    elif direction > 0 and month < today.month:
        year += 1
    if day is None:
        return f"{year:04d}-{month:02d}"
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


# ---------------------------------------------------------------- reading dates


def _year_at(tokens: Sequence[Token], j: int) -> int | None:
    if j < len(tokens) and tokens[j].text.isdigit() and len(tokens[j].text) == 4:
        year = int(tokens[j].text)
        if 1000 <= year <= 2199:
            return year
    return None


def _day_at(tokens: Sequence[Token], j: int) -> tuple[int, int] | None:
    """A day of the month at ``j`` ("31", "1st", "22nd"): (day, end)."""
    n = len(tokens)
    if j >= n or not tokens[j].text.isdigit() or len(tokens[j].text) > 2:
        return None
    day = int(tokens[j].text)
    if not 1 <= day <= 31:
        return None
    end = j + 1
    if end < n and tokens[end].lower in ("st", "nd", "rd", "th") and not tokens[end].space_before:
        end += 1
    return day, end


def read_date(
    tokens: Sequence[Token],
    i: int,
    pos: Callable[[int], str | None],
    measure_at: Callable[[int], bool] | None = None,
) -> DateSpec | None:
    """A date expression starting at token ``i`` (see ``DateSpec``), or None.

    The first word decides which reader reads it: a day of the month, a month, a
    weekday, a relative day ("yesterday"), a relative period ("last month") or a year.
    ``pos(i)`` gives the spaCy part of speech of token ``i`` when a parse exists; it
    keeps the verb "may" from being read as the month. ``measure_at(j)`` says whether a
    unit, currency or counted noun starts at token ``j``: "to 2000 tonnes" is no year.
    """
    if i >= len(tokens):
        return None
    tok = tokens[i]
    lower = tok.lower
    data = time_data()
    if _day_at(tokens, i) is not None:
        return _day_first(tokens, i, pos)
    month = month_of(tok.text, tok, pos(i)) if lower in data.months else None
    if month is not None:
        return _month_first(tokens, i, month)
    if lower in data.weekdays and tok.text[0].isupper():
        return _weekday_at(tokens, i)
    if lower in RELATIVE_DAYS or lower == "overnight":
        return _relative_day(tokens, i)
    nxt = tokens[i + 1].lower if i + 1 < len(tokens) else ""
    if lower in ("this", "last") and nxt in PARTS_OF_DAY:
        which = "today" if lower == "this" or nxt != "night" else "yesterday"
        return DateSpec(i, i + 2, special=which)
    if lower in RELATIVE_WORDS and nxt in CALENDAR_UNITS:
        return _relative_period(tokens, i)
    return _year_reading(tokens, i, measure_at)


def _day_first(
    tokens: Sequence[Token], i: int, pos: Callable[[int], str | None]
) -> DateSpec | None:
    """ "31 December 2004", "1st of May", "16-18 December", "3 Dec., 2004"."""
    n = len(tokens)
    day = _day_at(tokens, i)
    assert day is not None
    d, j = day
    d_to = None
    if (
        j + 1 < n
        and tokens[j].text in "-–"
        and not tokens[j].space_before
        and not tokens[j + 1].space_before
    ):
        second = _day_at(tokens, j + 1)
        if second is not None and second[0] > d:
            d_to, j = second
    if j < n and tokens[j].lower == "of" and j + 1 < n:
        j += 1
    if j >= n or tokens[j].lower not in time_data().months:
        return None
    month = month_of(tokens[j].text, tokens[j], pos(j))
    if month is None:
        return None
    end = j + 1
    if end < n and tokens[end].text == "." and not tokens[end].space_before:
        end += 0 if tokens[j].lower in FULL_MONTHS else 1
    year = _year_at(tokens, end)
    if year is None and end + 1 < n and tokens[end].text == ",":
        year = _year_at(tokens, end + 1)
        if year is not None:
            end += 1
    if year is not None:
        return DateSpec(i, end + 1, year=year, month=month, day=d, day_to=d_to)
    return DateSpec(i, end, month=month, day=d, day_to=d_to)


def _month_first(tokens: Sequence[Token], i: int, month: int) -> DateSpec | None:
    """ "December 31, 2004", "December 2004", "last December", "Dec. 31"; an abbreviated
    month ("Ant and Dec.") and "May" need a day, a year or a word that shows a date."""
    n = len(tokens)
    lower = tokens[i].lower
    prev = tokens[i - 1].lower if i > 0 else ""
    j = i + 1
    abbreviated = lower not in FULL_MONTHS
    if abbreviated and j < n and tokens[j].text == "." and not tokens[j].space_before:
        j += 1
    dated = _day_at(tokens, j) is not None or _year_at(tokens, j) is not None
    if abbreviated and not (dated or prev in MONTH_CONTEXT):
        return None
    if lower == "may" and not (dated or prev in YEAR_CONTEXT | {"on", "last", "next", "this"}):
        return None
    day = _day_at(tokens, j)
    if day is not None:
        d, end = day
        k = end + 1 if end < n and tokens[end].text == "," else end
        year = _year_at(tokens, k)
        if year is not None:
            return DateSpec(i, k + 1, year=year, month=month, day=d)
        return DateSpec(i, end, month=month, day=d)
    year = _year_at(tokens, j)
    if year is not None:
        return DateSpec(i, j + 1, year=year, month=month)
    rel = RELATIVE_WORDS.get(prev)
    start = i - 1 if rel is not None and prev != "past" else i
    return DateSpec(start, j, month=month, relative=rel if start < i else None)


def _weekday_at(tokens: Sequence[Token], i: int) -> DateSpec | None:
    """ "Monday", "last Friday", "next Tuesday night", "Wed." ("Wed" alone is a word)."""
    n = len(tokens)
    lower = tokens[i].lower
    prev = tokens[i - 1].lower if i > 0 else ""
    abbreviated = not lower.endswith("day")
    if abbreviated and not (
        i + 1 < n and tokens[i + 1].text == "." and not tokens[i + 1].space_before
    ):
        return None
    rel = RELATIVE_WORDS.get(prev)
    start = i - 1 if rel is not None and prev != "past" else i
    end = i + 1
    if end < n and tokens[end].lower in PARTS_OF_DAY:
        end += 1
    weekday = time_data().weekdays[lower]
    return DateSpec(start, end, weekday=weekday, relative=rel if start < i else None)


def _relative_day(tokens: Sequence[Token], i: int) -> DateSpec | None:
    """ "today", "yesterday morning", "tomorrow", "tonight", "overnight"; a capitalised
    "Today" inside a sentence is a name ("the Today programme")."""
    tok = tokens[i]
    lower = tok.lower
    if lower == "overnight":
        return DateSpec(i, i + 1, special="overnight")
    if (
        tok.text[0].isupper()
        and i > 0
        and tokens[i - 1].text not in ".!?\"'“‘:"
        and "\n" not in tokens[i - 1].text
    ):
        return None
    end = i + 1
    if (
        lower in ("yesterday", "today", "tomorrow")
        and end < len(tokens)
        and tokens[end].lower in PARTS_OF_DAY
    ):
        end += 1
    return DateSpec(i, end, special=lower)


def _relative_period(tokens: Sequence[Token], i: int) -> DateSpec | None:
    """ "last month", "next year", "this week" (not "the past year", a duration, nor
    "the next year", which is vague)."""
    lower = tokens[i].lower
    if lower == "past" or (i > 0 and tokens[i - 1].lower == "the"):
        return None
    return DateSpec(i, i + 2, relative=RELATIVE_WORDS[lower], unit=tokens[i + 1].lower)


def _year_span(tokens: Sequence[Token], i: int, year: int) -> DateSpec | None:
    """ "the 1990s", "2004-05", "2004/2005": a decade or a span of years."""
    n = len(tokens)
    j = i + 1
    if j < n and tokens[j].lower == "s" and not tokens[j].space_before and year % 10 == 0:
        return DateSpec(i, j + 1, year=year, year_to=year + 9)
    if (
        j + 1 < n
        and tokens[j].text in "-–/"
        and not tokens[j].space_before
        and tokens[j + 1].text.isdigit()
        and not tokens[j + 1].space_before
    ):
        tail = tokens[j + 1].text
        if len(tail) == 2 and int(tail) == (year + 1) % 100:
            return DateSpec(i, j + 2, year=year, year_to=year + 1)
        if len(tail) == 4 and year < int(tail) <= 2100:
            return DateSpec(i, j + 2, year=year, year_to=int(tail))
    return None


def _year_reading(
    tokens: Sequence[Token], i: int, measure_at: Callable[[int], bool] | None
) -> DateSpec | None:
    """ "in 2022", "since 1999", "2004's", "the 1600s", "2004-05": a year where the
    words around it show one (not "2000 tonnes", not "2004XL")."""
    n = len(tokens)
    year = _year_at(tokens, i)
    if year is None:
        return None
    glued = i + 1 < n and not tokens[i + 1].space_before
    if year % 100 == 0 and glued and tokens[i + 1].lower == "s":
        return DateSpec(i, i + 2, year=year, year_to=year + 99)
    if not 1800 <= year <= 2100 or (
        glued and tokens[i + 1].is_alpha and tokens[i + 1].lower != "s"
    ):
        return None
    span = _year_span(tokens, i, year)
    if span is not None:
        return span
    j = i + 1
    if measure_at is not None and measure_at(j):
        return None
    prev = tokens[i - 1].lower if i > 0 else ""
    possessive = j + 1 < n and tokens[j].text in ("'", "’") and tokens[j + 1].lower == "s"
    if prev in YEAR_CONTEXT or (i > 0 and tokens[i - 1].text in ("-", "(")) or possessive:
        return DateSpec(i, j, year=year)
    return None
