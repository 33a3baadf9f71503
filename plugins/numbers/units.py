"""Units of measure as data (``data/units.toml``): matching them after a number and
converting a value to the canonical SI-style unit (``si = value * factor + offset``).

Names ("square kilometres") match case-insensitively; symbols ("km", "mm", "pm")
match exactly, because case carries meaning in symbols. A rate written with "per"
or "/" between two known units ("kilometres per hour" when not listed, "l/km")
becomes a compound unit whose factor is the ratio of the two.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from copydesk.plugins.numbers.tokens import Token, phrase_tokens

DATA = Path(__file__).parent / "data"

#: Symbols that are also common words or quote marks; they need extra evidence.
AMBIGUOUS_SYMBOLS = frozenset({"in", "m", "l", "L", "t", "C", "F", "K", "g", "'", '"', "″", "”"})
#: Words after "N in" that show "in" means inches ("2 in thick").
INCH_CONTEXT = frozenset(
    {"thick", "long", "wide", "tall", "high", "deep", "across", "diameter", "gap", "of"}
)
#: Words after "5 m" or "2 g" that show a measure, not millions or a list label.
MEASURE_CONTEXT = INCH_CONTEXT | {
    "away",
    "from",
    "above",
    "below",
    "under",
    "per",
    "and",
    "or",
    "to",
}


@dataclass(frozen=True)
class Unit:
    """A unit of measure and its conversion to the SI unit ``si``."""

    code: str
    dimension: str
    si: str
    factor: float
    offset: float = 0.0

    def to_si(self, value: float) -> float:
        return value * self.factor + self.offset


@dataclass(frozen=True)
class UnitMatch:
    unit: Unit
    end: int  # token index after the unit phrase


class UnitTable:
    """Every unit alias, indexed by its first token for longest-match lookup."""

    def __init__(self, entries: list[dict[str, object]]) -> None:
        self.units: dict[str, Unit] = {}
        self._names: dict[str, list[tuple[tuple[str, ...], Unit]]] = {}
        self._symbols: dict[str, list[tuple[tuple[str, ...], Unit]]] = {}
        self.by_name: dict[str, Unit] = {}
        for entry in entries:
            unit = Unit(
                code=str(entry["code"]),
                dimension=str(entry["dimension"]),
                si=str(entry["si"]),
                factor=float(entry["factor"]),  # type: ignore[arg-type]
                offset=float(entry.get("offset", 0.0)),  # type: ignore[arg-type]
            )
            self.units[unit.code] = unit
            for name in entry.get("names", []):  # type: ignore[attr-defined]
                toks = tuple(t.lower() for t in phrase_tokens(name))
                self._names.setdefault(toks[0], []).append((toks, unit))
                self.by_name.setdefault(" ".join(toks), unit)
            for symbol in entry.get("symbols", []):  # type: ignore[attr-defined]
                toks = phrase_tokens(symbol)
                self._symbols.setdefault(toks[0], []).append((toks, unit))
        for table in (self._names, self._symbols):
            for options in table.values():
                options.sort(key=lambda item: -len(item[0]))

    def match_simple(self, tokens: Sequence[Token], i: int) -> tuple[Unit, int, bool] | None:
        """Longest alias at token ``i``: (unit, end, matched_by_symbol)."""
        if i >= len(tokens):
            return None
        best: tuple[Unit, int, bool] | None = None
        for table, exact in ((self._symbols, True), (self._names, False)):
            key = tokens[i].text if exact else tokens[i].lower
            for toks, unit in table.get(key, []):
                end = i + len(toks)
                if end > len(tokens):
                    continue
                ok = all(
                    (tokens[i + k].text if exact else tokens[i + k].lower) == toks[k]
                    for k in range(len(toks))
                )
                # the parts of a symbol such as "km/h" or "m²" are written together
                if ok and exact and any(tokens[i + k].space_before for k in range(1, len(toks))):
                    ok = len(toks) > 1 and toks[0] in ("sq",)
                if ok and (best is None or end > best[1]):
                    best = (unit, end, exact)
                    break
        return best

    def match(self, tokens: Sequence[Token], i: int, text: str) -> UnitMatch | None:
        """The unit written at token ``i`` right after a number, if any."""
        found = self.match_simple(tokens, i)
        if found is None:
            return None
        unit, end, by_symbol = found
        if by_symbol and end == i + 1 and not _symbol_fits(tokens, i, text):
            return None
        # "km/h" style and "kilometres per hour": a compound of known units, read left
        # to right ("J/m^2 per year" is joules per square metre, per year)
        last = unit
        for _ in range(3):
            if not (
                end + 1 < len(tokens)
                and (
                    tokens[end].lower == "per"
                    or (tokens[end].text == "/" and not tokens[end].space_before)
                )
            ):
                break
            second = self.match_simple(tokens, end + 1)
            if second is None or second[0].dimension in (last.dimension, unit.dimension):
                break
            other = second[0]
            code = f"{unit.code}/{other.code}"
            unit = self.units.get(code) or Unit(
                code=code,
                dimension=f"{unit.dimension}/{other.dimension}",
                si=f"{unit.si}/{other.si}",
                factor=unit.factor / other.factor,
            )
            last, end = other, second[1]
        return UnitMatch(unit, end)

    def lookup_name(self, name: str) -> Unit | None:
        """A unit by its written name or code ("kilometre", "degree Celsius", "km")."""
        toks = tuple(t.lower() for t in phrase_tokens(name))
        key = " ".join(toks)
        if key in self.by_name:
            return self.by_name[key]
        if name in self.units:
            return self.units[name]
        for candidate in (key + "s", key + "es"):
            if candidate in self.by_name:
                return self.by_name[candidate]
        for sep in (" per ", " / ", "/"):
            if sep not in key and sep not in name:
                continue
            # "joule per square metre per year": the last "per" divides the rest
            left, right = (name if sep in name else key).rsplit(sep, 1)
            a, b = self.lookup_name(left.strip()), self.lookup_name(right.strip())
            if a is not None and b is not None:
                return Unit(f"{a.code}/{b.code}", "", f"{a.si}/{b.si}", a.factor / b.factor)
        return None


def _symbol_fits(tokens: Sequence[Token], i: int, text: str) -> bool:
    """Whether a one-token symbol at ``i`` really is a unit in its context."""
    tok = tokens[i]
    sym = tok.text
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    if sym in ('"', "'", "″", "”", "’"):
        if tok.space_before:
            return False
        if nxt is not None and not nxt.space_before and nxt.lower in ("s", "t", "ll", "re", "d"):
            return False  # "Radio 4's", "1776's"
        # a closing quotation mark is no unit: count the marks earlier on the line
        window = max(0, tok.start - 400)  # bounded, so a long line stays linear
        line_start = text.rfind("\n", window, tok.start) + 1 or window
        return _quote_marks(text, sym, line_start, tok.start) % 2 == 0
    if sym not in AMBIGUOUS_SYMBOLS and (len(sym) > 1 or not sym.isalpha()):
        return nxt is None or not (nxt.is_alpha and not nxt.space_before)
    # one-letter symbols (and "in") must not run into a following word: "5 m people"
    if nxt is not None and not nxt.space_before and (nxt.is_alpha or nxt.is_digits):
        return sym in ("m", "l", "g", "t", "L") and nxt.text in ("2", "3", "²", "³")
    if not tok.space_before and sym in ("m", "g", "l", "L", "t"):
        return True  # glued to its number: "800m", "5g", "2l"
    if sym == "s" and not tok.space_before:
        # "4.5s" is seconds; "the 80s", "the over-65s" are decades and ages
        prev = tokens[i - 1].text if i > 0 else ""
        return not prev.isdigit()
    if sym == "in":
        return nxt is None or nxt.text in ".,;:)!?" or nxt.lower in INCH_CONTEXT
    if sym in ("C", "F", "K"):
        return nxt is None or not nxt.is_alpha or nxt.text[0].islower()
    if nxt is not None and nxt.is_alpha and nxt.space_before:
        # "5 m long" is a length; "2 g of sugar" a mass; "5 t of coal" a mass. A lone
        # "t" has no other reading after a number ("278,000 t valued at…"), while
        # "m" may be millions ("5 m people") and "g" or "l" a list label
        if sym == "t":
            return True
        return sym in ("m", "l", "L", "g") and nxt.lower in MEASURE_CONTEXT
    return True


def _quote_marks(text: str, mark: str, start: int, end: int) -> int:
    """How many ``mark`` characters in ``text[start:end]`` are quotation marks: not an
    apostrophe inside a word ("Hubble's", "don't") and not a unit after a number ("6'")."""
    count = 0
    k = text.find(mark, start, end)
    while k >= 0:
        before = text[k - 1] if k > 0 else " "
        after = text[k + 1] if k + 1 < len(text) else " "
        if not (before.isnumeric() or (before.isalpha() and after.isalpha())):
            count += 1
        k = text.find(mark, k + 1, end)
    return count


@lru_cache(maxsize=1)
def unit_table() -> UnitTable:
    with (DATA / "units.toml").open("rb") as fh:
        data = tomllib.load(fh)
    return UnitTable(list(data["unit"]))
