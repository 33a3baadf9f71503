"""Ranges: "$10-$20", "44 mg to 50 mg", "between 30 and 40 degrees", "2-3 weeks", "two to
three million barrels". ``range_after`` reads the second end right after a mention;
``merge_cardinal_ranges`` joins, after the pass, a bare number to the measure after it
("10 to 12 protesters", "5-6 mm"). A verb of change keeps "rose 2% to 12%" apart.
"""

from __future__ import annotations

from copydesk.plugins.numbers.calendar import read_date
from copydesk.plugins.numbers.clock import read_clock
from copydesk.plugins.numbers.found import Found, Numeral, as_number
from copydesk.plugins.numbers.isotime import (
    designator_of,
    duration_parts,
    duration_seconds,
    duration_unit,
    iso_duration,
)
from copydesk.plugins.numbers.lexicon import DASHES
from copydesk.plugins.numbers.numerals import Reader
from copydesk.plugins.numbers.units import Unit

#: Words that open a range whose ends are joined by "and" ("between 3 and 4").
OPENERS = ("between", "from")
#: What may stand between a bare number and the measure it is the lower end of.
RANGE_GAPS = (["-"], ["–"], ["to"], ["-", "to"], ["-", "~"], ["to", "about"], ["or"])


def _second_start(x: Reader, item: Found, unit_kind: str) -> int | None:
    """Token index of the second end after ``item`` (past "-", "to", "and" after
    "between", "~", "about" and a repeated currency), or None when no range follows."""
    toks = x.tokens
    n = x.n
    prev = toks[item.start - 1].lower if item.start > 0 else ""
    if item.end >= n:
        return None
    conn = toks[item.end]
    k = item.end + 1
    if conn.text in DASHES:
        if k < n and toks[k].lower == "to":
            k += 1
    elif not (conn.lower == "to" or (conn.lower == "and" and prev in OPENERS)):
        return None
    if conn.lower == "to" and prev not in OPENERS and x.is_change(item.start):
        return None
    if k < n and toks[k].text == "~":
        k += 1
    if k < n and toks[k].lower == "about":
        k += 1
    if unit_kind == "money" and k < n:
        cur = x.money.prefix(toks, k)
        if cur is not None:
            if cur.code != item.unit and x.dollar_code(cur.code, toks[k].text) != item.unit:
                return None
            k = cur.end
    if k >= n or read_date(toks, k, x.pos) is not None or read_clock(toks, k) is not None:
        return None  # "three months to 31 December"
    return k


def _second_unit_end(
    x: Reader,
    item: Found,
    end: int,
    unit_kind: str,
    unit: Unit | None,
    designator: str | None,
) -> tuple[int, float] | None:
    """The token end of the second end's unit (the same unit as the first, or none) and
    the factor of a minor currency unit written there; None when the units differ."""
    toks = x.tokens
    if unit_kind == "quantity" and unit is not None:
        m = x.units.match(toks, end, x.text)
        if m is None:
            return end, 1.0
        return (m.end, 1.0) if m.unit.code == unit.code else None
    if unit_kind == "money":
        cur = x.currency_at(end)
        if cur is None:
            return end, 1.0
        if cur.how == "minor":
            return cur.end, cur.factor
        return (cur.end, 1.0) if cur.code == item.unit else None
    if unit_kind == "percent":
        pct = x.percent_at(end)
        if pct is None or pct[1] != item.unit:
            return None  # "shedding 15% to 22 euro cents"
        return pct[0], 1.0
    if unit_kind == "duration" and designator is not None:
        du = duration_unit(toks[end].lower) if end < x.n else None
        return (end + 1, 1.0) if du is not None and du[0] == designator else None
    return end, 1.0


def range_after(
    x: Reader,
    item: Found,
    num: Numeral,
    unit_kind: str,
    unit: Unit | None = None,
    factor: float = 1.0,
    duration_designator: str | None = None,
) -> Found:
    """``item`` with the second end of a range written after it, when there is one
    (a bare first number before a unit is joined later, in ``merge_cardinal_ranges``)."""
    k = _second_start(x, item, unit_kind)
    if k is None:
        return item
    second = x.read_numeral(k)
    if second is None or second.ordinal or second.vague:
        return item
    if x.tokens[item.end].text in DASHES and second.value <= num.value:
        return item
    x.apply_weak(second, money=unit_kind == "money")
    lo, hi = num.value, second.value
    if num.scale == 1 and second.scale > 1 and lo * second.scale <= hi:
        lo *= second.scale  # "$1 to 2 million", "two to three million barrels"
    unit_end = _second_unit_end(x, item, second.end, unit_kind, unit, duration_designator)
    if unit_end is None:
        return item
    item.end, minor = unit_end
    hi *= minor
    if unit_kind == "money":
        lo *= factor
    set_range(x, item, lo, hi, unit_kind, unit, duration_designator)
    if item.start > 0 and x.tokens[item.start - 1].lower in OPENERS:
        item.start -= 1
    return item


def set_range(
    x: Reader,
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
    item.value, item.value_max = as_number(lo), as_number(hi)
    if unit is not None:
        item.normalized = (unit.to_si(lo), unit.si)


# ------------------------------------------------------------------ after the pass


def _may_join(a: Found, b: Found) -> bool:
    """Whether the bare cardinal ``a`` may be the lower end of the mention ``b``."""
    return (
        a.kind == "cardinal"
        and a.unit is None
        and a.value_max is None
        and b.kind in ("money", "quantity", "percent", "duration", "cardinal")
        and b.value_max is None
        and isinstance(a.value, int | float)
    )


def _joined_by_range_words(x: Reader, a: Found, b: Found) -> bool:
    """Whether the words between ``a`` and ``b`` make a range of them."""
    toks = x.tokens
    words = [t.lower for t in toks[a.end : b.start]]
    opener = toks[a.start - 1].lower if a.start > 0 else ""
    ok = (
        words in RANGE_GAPS
        or (words in (["and"], ["and", "about"]) and opener in OPENERS)
        or (words == ["and"] and a.qualifier is None and opener == "between")
    )
    if words[:1] == ["to"] and opener not in OPENERS and x.is_change(a.start):
        ok = False
    if toks[a.start].lower in OPENERS:
        ok = ok or words == ["and"]
    if ok and b.kind == "cardinal":
        return isinstance(b.value, int | float) and float(b.value) > float(a.value or 0)
    return ok


def _score_like(x: Reader, a: Found, b: Found) -> bool:
    """ "6-7 (4-7) 6-2": two bare numbers glued by a dash are scores or codes."""
    toks = x.tokens
    opener = toks[a.start - 1].lower if a.start > 0 else ""
    return (
        b.kind == "cardinal"
        and b.unit is None
        and [t.lower for t in toks[a.end : b.start]][:1] in (["-"], ["–"])
        and opener not in (*OPENERS, "aged")
        and a.qualifier is None
        and not (toks[a.end].space_before or toks[b.start].space_before)
    )


def _join_amount(x: Reader, a: Found, b: Found) -> None:
    """Make ``b`` the range from ``a`` to ``b`` ("10 to 12 protesters", "$1 to 2 million")."""
    assert isinstance(a.value, int | float) and isinstance(b.value, int | float)
    lo = float(a.value)
    scale_b = float(b.extra.get("scale", 1.0))
    if a.extra.get("scale", 1.0) == 1.0 and scale_b > 1 and lo * scale_b <= float(b.value):
        lo *= scale_b
    b.value_max = b.value
    b.value = as_number(lo)
    if b.normalized is not None and b.unit is not None:
        unit = x.units.units.get(b.unit)
        if unit is not None:
            b.normalized = (unit.to_si(lo), unit.si)
    b.qualifier = b.qualifier if b.qualifier is not None else a.qualifier


def _join_duration(a: Found, b: Found) -> bool:
    """Make the duration ``b`` the range from ``a`` ("2 to 3 weeks"); False if it cannot."""
    designator = designator_of(str(b.value))
    if designator is None or not isinstance(a.value, int | float):
        return False
    lo_parts = duration_parts([(designator, float(a.value))])
    b.value_max = b.value
    b.value = iso_duration(lo_parts)
    b.normalized = (duration_seconds(lo_parts), "s")
    b.qualifier = b.qualifier or a.qualifier
    return True


def merge_cardinal_ranges(x: Reader, found: list[Found]) -> None:
    """A bare number before a mention with a unit is the lower end of its range."""
    toks = x.tokens
    k = 0
    while k + 1 < len(found):
        a, b = found[k], found[k + 1]
        if not (_may_join(a, b) and _joined_by_range_words(x, a, b)):
            k += 1
            continue
        if _score_like(x, a, b):
            del found[k : k + 2]
            continue
        joined = False
        if isinstance(b.value, int | float) and b.kind != "duration":
            _join_amount(x, a, b)
            joined = True
        elif b.kind == "duration" and isinstance(b.value, str):
            joined = _join_duration(a, b)
        if joined:
            opener = toks[a.start - 1].lower if a.start > 0 else ""
            b.start = a.start - (1 if opener in OPENERS else 0)
            del found[k]
            continue
        k += 1
