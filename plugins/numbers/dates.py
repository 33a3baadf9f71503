"""Rules for dates and times of day: "1:00 PM", "1000 GMT", "31 December 2004",
"Monday", "last month", "in 2022", resolved against the article's ``published_at``
(``calendar.py``) with the tense of the sentence; after the pass, a time takes the date
written beside it and a converted time tells a local one its UTC offset.
"""

from __future__ import annotations

from datetime import date

from copydesk.plugins.numbers.calendar import DateSpec, read_date, resolve_date
from copydesk.plugins.numbers.clock import read_clock
from copydesk.plugins.numbers.found import Found
from copydesk.plugins.numbers.numerals import Reader


def clock_time(x: Reader, i: int) -> Found | None:
    """A time of day: "1:00 PM", "13:45", "2pm", "10.30 GMT", "noon" (after "at")."""
    clock = read_clock(x.tokens, i)
    if clock is None:
        return None
    return Found(i, x.tok_end(clock.end), "time", None, clock=clock)


def calendar_date(x: Reader, i: int) -> Found | None:
    """A date: "31 December 2004", "Dec. 3", "Monday", "last month", "in 2022"."""
    spec = read_date(x.tokens, i, x.pos, x.measure_at)
    if spec is None or spec.start < x.last_end:
        return None
    return date_found(x, spec)


def date_found(x: Reader, spec: DateSpec) -> Found:
    """The mention of ``spec``: a weekday with its date is one mention, and the same day
    and month written twice resolve alike."""
    past = x.is_past(spec.start)
    if spec.weekday is not None and spec.relative is None:
        # "Tuesday 9 November", "Monday, March 3": the weekday names the date after it
        k = spec.end
        if k < x.n and x.tokens[k].text == ",":
            k += 1
        after = read_date(x.tokens, k, x.pos, x.measure_at) if k < x.n else None
        if after is not None and after.day is not None and after.month is not None:
            value = resolve_date(after, x.anchor, past)
            if (
                value is not None
                and len(value) == 10
                and date.fromisoformat(value).weekday() != spec.weekday
            ):
                value = None  # the text contradicts itself: no guess
            return Found(spec.start, after.end, "date", value, date_spec=after)
    key = (spec.month, spec.day) if spec.month and spec.year is None and not spec.relative else None
    if key is not None and key in x.resolved:
        value = x.resolved[key]  # the same "19 December" twice is the same day
    else:
        value = resolve_date(spec, x.anchor, past)
        if key is not None:
            x.resolved[key] = value
    return Found(spec.start, spec.end, "date", value, date_spec=spec)


def resolve_times(x: Reader, found: list[Found]) -> None:
    """Times take the date written beside them; a converted time gives the local offset."""
    toks = x.tokens
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
