"""Currencies as data (``data/currencies.toml``): symbols and codes before or after an
amount, currency names after it, and minor units (cents, pence, kopiykas).

Every lookup returns the ISO 4217 code and the token index after the match, so the
extractor can build the mention's span. Symbols and codes match exactly as written;
names match case-insensitively.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from copydesk.plugins.numbers.tokens import Token, phrase_tokens

DATA = Path(__file__).parent / "data"

#: Words after an amount that show "pounds" is weight, not sterling.
WEIGHT_WORDS = frozenset(
    {
        "weigh",
        "weighs",
        "weighed",
        "weighing",
        "weight",
        "heavy",
        "heavier",
        "lighter",
        "lbs",
        "lb",
        "pounder",
        "bag",
        "sack",
        "box",
        "fish",
        "baby",
        "meat",
        "flour",
        "rice",
        "beans",
        "coal",
        "sugar",
        "butter",
        "potatoes",
        "ounces",
        "stone",
    }
)


@dataclass
class Currency:
    """One currency's aliases, as token tuples, from ``data/currencies.toml``."""

    code: str
    prefixes: list[tuple[str, ...]] = field(default_factory=list)
    suffixes: list[tuple[str, ...]] = field(default_factory=list)
    names: list[tuple[str, ...]] = field(default_factory=list)
    minor: list[tuple[str, ...]] = field(default_factory=list)
    minor_words: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CurrencyMatch:
    """A currency found in the text: its code and the token index after it."""

    code: str
    end: int
    #: How the currency was written: "prefix", "suffix", "name" or "minor".
    how: str
    #: For minor units: the part of the major unit one of them is worth.
    factor: float = 1.0
    #: The bare word "pound(s)", which may be a weight.
    ambiguous_pound: bool = False


def _matches(
    tokens: Sequence[Token], i: int, alias: tuple[str, ...], exact: bool, tight: bool
) -> bool:
    if i + len(alias) > len(tokens):
        return False
    for k, part in enumerate(alias):
        tok = tokens[i + k]
        if (tok.text if exact else tok.lower) != part:
            return False
        if k and tight and tok.space_before and not alias[k - 1].isalpha():
            return False
    return True


class CurrencyTable:
    """Lookup of currency symbols, codes, names and minor units."""

    def __init__(self, entries: list[dict[str, object]]) -> None:
        self.currencies: list[Currency] = []
        self.codes: frozenset[str] = frozenset(str(entry["code"]) for entry in entries)
        self.name_index: dict[str, str] = {}
        #: (attr, first token) → [(alias, code)], in data order
        self._first: dict[tuple[str, str], list[tuple[tuple[str, ...], str]]] = {}
        for entry in entries:
            cur = Currency(code=str(entry["code"]))
            cur.prefixes = [phrase_tokens(p) for p in entry.get("prefixes", [])]  # type: ignore[attr-defined]
            cur.suffixes = [phrase_tokens(p) for p in entry.get("suffixes", [])]  # type: ignore[attr-defined]
            cur.names = [
                tuple(t.lower() for t in phrase_tokens(p))
                for p in entry.get("names", [])  # type: ignore[attr-defined]
            ]
            cur.minor = [
                tuple(t.lower() for t in phrase_tokens(p))
                for p in entry.get("minor", [])  # type: ignore[attr-defined]
            ]
            for item in entry.get("minor_words", []):  # type: ignore[attr-defined]
                word, _, factor = str(item).partition(":")
                cur.minor_words[word] = float(factor)
            for attr, exact in (("prefixes", True), ("suffixes", True), ("names", False)):
                for alias in getattr(cur, attr):
                    if alias:
                        key = (attr, alias[0] if exact else alias[0].lower())
                        self._first.setdefault(key, []).append((alias, cur.code))
            for name in cur.names:
                self.name_index.setdefault(" ".join(name), cur.code)
            self.name_index.setdefault(cur.code.lower(), cur.code)
            self.currencies.append(cur)

    def _best(
        self, tokens: Sequence[Token], i: int, attr: str, exact: bool, how: str
    ) -> CurrencyMatch | None:
        if i >= len(tokens):
            return None
        key = tokens[i].text if exact else tokens[i].lower
        best: CurrencyMatch | None = None
        for alias, code in self._first.get((attr, key), ()):
            if best is not None and i + len(alias) <= best.end:
                continue
            if _matches(tokens, i, alias, exact, tight=True):
                best = CurrencyMatch(
                    code,
                    i + len(alias),
                    how,
                    ambiguous_pound=(how == "name" and alias in (("pound",), ("pounds",))),
                )
        return best

    def prefix(self, tokens: Sequence[Token], i: int) -> CurrencyMatch | None:
        """A symbol or code written before an amount ("US$", "€", "Rs.", "EUR")."""
        return self._best(tokens, i, "prefixes", exact=True, how="prefix")

    def suffix(self, tokens: Sequence[Token], i: int) -> CurrencyMatch | None:
        """A symbol or code written after an amount ("20€", "3 CNY", "20Rs", "50usd"):
        the listed suffixes, then any prefix form, then a code in lower case glued to
        the amount."""
        found = self._best(tokens, i, "suffixes", exact=True, how="suffix")
        if found is None:
            found = self._best(tokens, i, "prefixes", exact=True, how="suffix")
        if found is None and i < len(tokens) and not tokens[i].space_before:
            word = tokens[i].text
            if len(word) == 3 and word.islower() and word.upper() in self.codes:
                found = CurrencyMatch(word.upper(), i + 1, "suffix")
        if found is None:
            return None
        alias_is_symbol = not tokens[i].text[0].isalpha()
        if alias_is_symbol and tokens[i].space_before and tokens[i].text in ("$", "£"):
            return None  # "10 $" is rare; "10 $20" is two amounts
        # a code glued to a following word is not a code ("3 USDA")
        nxt = tokens[found.end] if found.end < len(tokens) else None
        if nxt is not None and not nxt.space_before and nxt.is_alpha:
            return None
        return found

    def name(self, tokens: Sequence[Token], i: int) -> CurrencyMatch | None:
        """A currency named in words after an amount ("dollars", "kuwaiti dinar")."""
        return self._best(tokens, i, "names", exact=False, how="name")

    def minor(self, tokens: Sequence[Token], i: int, code: str | None) -> CurrencyMatch | None:
        """A minor unit after an amount: of ``code`` when given, else any ("10 cents")."""
        if i >= len(tokens):
            return None
        word = tokens[i].lower
        if len(word) > 1 and tokens[i].text[0].isupper() and tokens[i].text != word.upper():
            return None  # "50 Cent" the rapper, "Il Sole 24 Ore": names
        for cur in self.currencies:
            if code is not None and cur.code != code:
                continue
            for alias in cur.minor:
                if len(alias) > 1 and _matches(tokens, i, alias, exact=False, tight=False):
                    return CurrencyMatch(cur.code, i + len(alias), "minor", factor=0.01)
                if len(alias) == 1 and alias[0] == word:
                    if len(word) == 1 and tokens[i].text != alias[0]:
                        continue  # "-10C" is Celsius, "43c" cents
                    if len(word) == 1 or word == "¢":
                        # "873p", "43c", "10¢": a one-letter minor unit is glued
                        if tokens[i].space_before and word != "¢":
                            continue
                        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
                        if nxt is not None and not nxt.space_before and nxt.is_alpha:
                            continue
                    return CurrencyMatch(cur.code, i + 1, "minor", factor=0.01)
            if word in cur.minor_words:
                return CurrencyMatch(cur.code, i + 1, "minor", factor=cur.minor_words[word])
        return None

    def code_for_name(self, name: str) -> str | None:
        """The code for a written currency name or code ("Dollar" → USD, "euro" → EUR)."""
        key = " ".join(t.lower() for t in phrase_tokens(name))
        if key in self.name_index:
            return self.name_index[key]
        if key + "s" in self.name_index:
            return self.name_index[key + "s"]
        return None

    def minor_factor(self, name: str) -> tuple[str, float] | None:
        """(code, factor) for a minor unit name ("cent" → USD 0.01, "dime" → USD 0.1)."""
        key = name.lower()
        for cur in self.currencies:
            for alias in cur.minor:
                if alias == (key,) or alias == (key + "s",):
                    return cur.code, 0.01
            for word, factor in cur.minor_words.items():
                if word in (key, key + "s"):
                    return cur.code, factor
        return None


@lru_cache(maxsize=1)
def currency_table() -> CurrencyTable:
    with (DATA / "currencies.toml").open("rb") as fh:
        data = tomllib.load(fh)
    return CurrencyTable(list(data["currency"]))
