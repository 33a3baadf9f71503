"""Rules for measures and percentages: "10 km", "5 ft 10 in", "120 km/h", "37°C", "3
below zero", "a litre", "half a mile", "12%", "2 percentage points", with ranges ("3 or
4 km", "between 30 and 40 degrees") and their SI value (``Unit.to_si``).
"""

from __future__ import annotations

from copydesk.plugins.numbers.found import Found, Numeral, as_number
from copydesk.plugins.numbers.lexicon import (
    ARTICLE_AMBIGUOUS,
    ARTICLE_NEVER,
    ARTICLE_SYMBOL_WORDS,
    RATE_ONLY_UNITS,
)
from copydesk.plugins.numbers.numerals import Reader
from copydesk.plugins.numbers.ranges import range_after
from copydesk.plugins.numbers.units import INCH_CONTEXT, Unit, UnitMatch
from copydesk.plugins.numbers.words import HYPHENS


def below_zero(x: Reader, num: Numeral) -> Found | None:
    """ "3 below zero": degrees below zero on whatever scale is in use."""
    below = x.below_zero_end(num.end)
    if below is None:
        return None
    degree = x.units.units["°"]
    return x.qualify(x.quantity(num.start, below, -abs(num.value), degree))


def percent(x: Reader, num: Numeral) -> Found | None:
    """ "12%", "12 per cent", "twelve percent", "2 percentage points", "10-12%"."""
    pct = x.percent_at(num.end)
    if pct is None:
        return None
    x.apply_weak(num)
    end, pct_unit = pct
    item = Found(num.start, end, "percent", as_number(num.value), unit=pct_unit)
    return x.qualify(range_after(x, item, num, unit_kind="percent"))


def _unit_after(x: Reader, num: Numeral) -> UnitMatch | None:
    """The unit after ``num``, past a hyphen ("a 27-kilometre ring"); a glued "m" is
    millions before a plural noun ("5m people") and metres otherwise ("5m long")."""
    toks = x.tokens
    k = num.end
    if (
        k + 1 < x.n
        and toks[k].text in HYPHENS
        and not toks[k].space_before
        and not toks[k + 1].space_before
        and toks[k + 1].is_alpha
    ):
        k += 1
    weak = num.weak_scale
    if (
        weak is not None
        and toks[weak[0]].text in ("m", "M")
        and x.plural_noun_after(weak[0] + 1)
        and not x.race_distance(num)
    ):
        x.apply_weak(num, plural_noun=True)
        k = num.end
        weak = None
    if weak is not None and toks[weak[0]].text not in ("m", "M", "b", "B", "T", "G"):
        return None
    found = x.units.match(toks, k, x.text)
    if found is None or found.unit.code in RATE_ONLY_UNITS:
        return None  # "10 s" alone: time units serve rates ("km/h"); durations are apart
    num.weak_scale = None
    return found


def amount_then_unit(x: Reader, num: Numeral) -> Found | None:
    """A number and its unit: "10 km", "40 tonnes", "120 km/h", "a 5-mile walk"."""
    found = _unit_after(x, num)
    if found is None:
        return None
    return measure(x, num, found.unit, found.end)


def article_unit(x: Reader, i: int) -> Found | None:
    """ "a kilometre", "a litre of oil", "an acre", "a km", "a mile and a half": a unit
    by its name, or by a symbol that is no English word ("a C", "a ha" are not)."""
    if not x.article_stands_for_one(i):
        return None
    toks = x.tokens
    j = i + 1
    word = toks[j].lower
    simple = x.units.match_simple(toks, j)
    um = x.units.match(toks, j, x.text)
    if um is None or simple is None or word in ARTICLE_NEVER:
        return None
    if simple[2] and (
        len(toks[j].text) < 2
        or toks[j].text in ARTICLE_SYMBOL_WORDS
        or not toks[j].text[0].islower()
    ):
        return None
    nxt_word = toks[um.end].lower if um.end < x.n else ""
    if word in ARTICLE_AMBIGUOUS and nxt_word not in INCH_CONTEXT | {"away", "tall", "of"}:
        return None  # "breaking a foot", "a yard", "a cup final"
    half = x.and_a_half(um.end)
    value, end = (1.5, half) if half is not None else (1.0, um.end)
    return x.qualify(x.quantity(i, end, value, um.unit))


def _compound_parts(
    x: Reader, unit: Unit, end: int, total_si: float
) -> tuple[float, Unit, int] | None:
    """The smaller parts after a measure ("6 feet, 2 inches", "3 km and 400 metres", "5
    ft 10 in"): (``total_si`` plus the parts, the last unit, token end), or None.
    Each part is in a smaller unit than the one before, so the loop is short."""
    toks = x.tokens
    last_unit = unit
    k = end
    merged = False
    while k < x.n and unit.offset == 0:
        m = k
        if toks[m].text == ",":
            m += 1
        if m < x.n and toks[m].lower == "and":
            m += 1
        if m >= x.n:
            break
        sub = x.read_numeral(m)
        if sub is None or sub.ordinal or sub.vague:
            break
        nxt = x.units.match(toks, sub.end, x.text)
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
    return (total_si, last_unit, k) if merged else None


def measure(x: Reader, num: Numeral, unit: Unit, end: int) -> Found:
    """The mention of ``num`` in ``unit`` written up to token ``end``, with its smaller
    parts, "below zero", "and a half" and a range to a second number."""
    value = num.value
    parts = _compound_parts(x, unit, end, unit.to_si(value))
    below = x.below_zero_end(end) if "temperature" in unit.dimension else None
    if below is not None:  # "10 degrees below zero", "15°C below zero"
        return x.qualify(x.quantity(num.start, below, -abs(value), unit))
    if parts is not None:
        total_si, last_unit, k = parts
        value = (total_si - last_unit.offset) / last_unit.factor
        item = Found(num.start, k, "quantity", as_number(round(value, 9)), unit=last_unit.code)
        item.normalized = (total_si, last_unit.si)
        return x.qualify(item)
    half = x.and_a_half(end) if value == int(value) and not num.vague else None
    if half is not None:  # "two miles and a half"
        value, end = value + 0.5, half
    item = x.quantity(num.start, end, value, unit)
    item.extra["scale"] = num.scale
    if num.vague:
        item.qualifier = "at_least"
    item = range_after(x, item, num, unit_kind="quantity", unit=unit)
    return x.qualify(item)


def share_units(x: Reader, found: list[Found]) -> None:
    """ "45 and 50 mg", "3 or 4 km": a bare number before a measure shares its unit."""
    toks = x.tokens
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
        unit = x.units.units.get(b.unit)
        if unit is None:
            continue
        a.kind = "quantity"
        a.unit = unit.code
        a.normalized = (unit.to_si(float(a.value)), unit.si)


def inherit_qualifiers(x: Reader, found: list[Found]) -> None:
    """A conversion in brackets shares the qualifier of the amount it converts ("about
    £5m ($6m)")."""
    toks = x.tokens
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
