"""Times of day: "1:00 PM", "13:45", "2pm", "10.30 GMT", "1000 GMT", "noon", each with
an optional zone or "local time", read into a ``ClockTime`` (what the text says).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from copydesk.plugins.numbers.isotime import time_data
from copydesk.plugins.numbers.tokens import Token


@dataclass
class ClockTime:
    """A time of day as written: hour 0-23, minute, UTC offset in minutes if stated."""

    hour: int
    minute: int
    offset: int | None
    start: int
    end: int
    local: bool = False  # "local time" was written

    def iso(self, day: date | None = None, offset: int | None = None) -> str:
        off = self.offset if self.offset is not None else offset
        clock = f"{self.hour:02d}:{self.minute:02d}"
        zone = ""
        if off is not None:
            zone = (
                "Z"
                if off == 0
                else f"{'+' if off > 0 else '-'}{abs(off) // 60:02d}:{abs(off) % 60:02d}"
            )
        if day is not None:
            return f"{day.isoformat()}T{clock}{zone}"
        return f"{clock}{zone}"


def _zone_at(tokens: Sequence[Token], j: int) -> tuple[int | None, int, bool]:
    """A time zone or "local time" at token ``j``: (offset, end, local)."""
    n = len(tokens)
    if j < n and tokens[j].text in time_data().zones:
        end = j + 1
        # "GMT+3", "UTC+05:30"
        if (
            end + 1 < n
            and tokens[end].text in "+-−"
            and tokens[end + 1].is_digits
            and not tokens[end].space_before
            and not tokens[end + 1].space_before
        ):
            sign = 1 if tokens[end].text == "+" else -1
            hours = tokens[end + 1].text
            extra = 0
            end += 2
            if (
                end + 1 < n
                and tokens[end].text == ":"
                and tokens[end + 1].is_digits
                and not tokens[end].space_before
            ):
                extra = int(tokens[end + 1].text)
                end += 2
            if hours.isdigit() and int(hours) <= 14:
                return sign * (int(hours) * 60 + extra), end, False
        return time_data().zones[tokens[j].text], end, False
    if j + 1 < n and tokens[j].lower == "local" and tokens[j + 1].lower == "time":
        return None, j + 2, True
    return None, j, False


def _meridiem(tokens: Sequence[Token], j: int) -> tuple[str, int] | None:
    """ "am"/"pm"/"a.m."/"p.m." at ``j``: ("am"|"pm", end)."""
    n = len(tokens)
    if j >= n:
        return None
    word = tokens[j].lower
    if word in ("am", "pm"):
        nxt = tokens[j + 1] if j + 1 < n else None
        if (
            nxt is not None
            and nxt.text == "."
            and j + 2 < n
            and tokens[j + 2].is_alpha
            and not nxt.space_before
            and tokens[j + 2].text[0].islower()
        ):
            return word, j + 2
        return word, j + 1
    if (
        word in ("a", "p")
        and j + 3 < n
        and tokens[j + 1].text == "."
        and tokens[j + 2].lower == "m"
        and not tokens[j + 1].space_before
        and not tokens[j + 2].space_before
    ):
        end = j + 3
        if end < n and tokens[end].text == "." and not tokens[end].space_before:
            end += 1
        return word + "m", end
    return None


def read_clock(tokens: Sequence[Token], i: int) -> ClockTime | None:
    """A time of day at token ``i``: "1:00 PM", "13:45", "2pm", "2.17pm", "1000 GMT",
    "noon", "midnight", each with an optional zone or "local time"."""
    if i >= len(tokens):
        return None
    tok = tokens[i]
    if tok.is_digits and tok.text.isdigit() and len(tok.text) == 4:
        return _four_digits(tokens, i)
    start = _noon(tokens, i) if not tok.is_digits else _hour_digits(tokens, i)
    if start is None:
        return None
    hour, minute, j = start
    mer = _meridiem(tokens, j)
    if mer is not None:
        if hour == 0 or hour > 12:
            return None
        which, j = mer
        if which == "pm" and hour != 12:
            hour += 12
        elif which == "am" and hour == 12:
            hour = 0
    offset, end, local = _zone_at(tokens, j)
    return ClockTime(hour, minute, offset, tok.start, tokens[end - 1].end, local)


def _noon(tokens: Sequence[Token], i: int) -> tuple[int, int, int] | None:
    """ "noon", "midday", "midnight" after "at", "by", "until"…: (hour, minute, end)."""
    word = tokens[i].lower
    if word not in ("noon", "midday", "midnight"):
        return None
    if i > 0 and tokens[i - 1].lower in ("after", "before", "by", "until", "at", "from"):
        return (12 if word != "midnight" else 0), 0, i + 1
    return None


def _hour_digits(tokens: Sequence[Token], i: int) -> tuple[int, int, int] | None:
    """ "13:45", "2.17pm", "10.30 GMT", "2pm", "7 o'clock": (hour, minute, end)."""
    n = len(tokens)
    text = tokens[i].text
    j = i + 1
    if (
        j + 1 < n
        and tokens[j].text == ":"
        and tokens[j + 1].is_digits
        and not tokens[j].space_before
        and not tokens[j + 1].space_before
        and len(tokens[j + 1].text) == 2
        and text.isdigit()
        and int(text) < 24
        and int(tokens[j + 1].text) < 60
    ):
        return int(text), int(tokens[j + 1].text), j + 2
    if "." in text and text.count(".") == 1:
        h, m = text.split(".")
        if not (len(m) == 2 and h.isdigit() and int(h) <= 23 and int(m) < 60):
            return None
        if _meridiem(tokens, j) is not None and int(h) <= 12:
            return int(h), int(m), j
        if _zone_at(tokens, j)[1] > j and tokens[j].text in time_data().zones:
            return int(h), int(m), j  # "10.30 GMT"
        return None
    if text.isdigit() and len(text) <= 2 and int(text) <= 12:
        if _meridiem(tokens, j) is None and not (j < n and tokens[j].lower == "o'clock"):
            return None
        return int(text), 0, j
    return None


def _four_digits(tokens: Sequence[Token], i: int) -> ClockTime | None:
    """ "1000 GMT", "0930 local time": four digits are a time only with a zone."""
    tok = tokens[i]
    hh, mm = int(tok.text[:2]), int(tok.text[2:])
    offset, end, local = _zone_at(tokens, i + 1)
    if end == i + 1 or hh > 23 or mm > 59:
        return None
    return ClockTime(hh, mm, offset, tok.start, tokens[end - 1].end, local)
