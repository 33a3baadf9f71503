"""The rules of the numbers stage, by name, in the order they are tried.

In the manner of Duckling, every reading is a small named function. Two lists declare
the order:

* ``POSITION_RULES`` are tried at each token before any number is read there: times of
  day and dates, a currency written before its amount, and an article standing for the
  number one ("an hour", "a dollar", "a litre").
* ``NUMERAL_RULES`` are tried once a numeral has been read (``numerals.Reader``): they
  decide what the number is by what follows it (a percent sign, a currency, a time
  unit, a unit of measure) and fall back on a bare cardinal.

A rule returns a mention (``Found``), several, or ``None`` to let the next rule try;
``DECLINED`` says that the rule owns the position and finds nothing there, so the later
rules of its list are not tried. Every mention keeps the name of the rule that made it
(``Found.rule``), which ``bench/eval_numbers.py`` scores rule by rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from copydesk.plugins.numbers import cardinals, dates, durations, measures, money
from copydesk.plugins.numbers.found import DECLINED, Declined, Found, Numeral
from copydesk.plugins.numbers.numerals import Reader

#: What a rule gives: mentions, nothing yet (``None``) or a refusal (``DECLINED``).
Result = Found | list[Found] | Declined | None


@dataclass(frozen=True)
class Rule:
    """A named reading; ``apply`` is called with the reader and a token index."""

    name: str
    kind: str
    apply: Callable[[Reader, int], Result]


@dataclass(frozen=True)
class NumeralRule:
    """A named reading of a numeral already read, by what follows it."""

    name: str
    kind: str
    apply: Callable[[Reader, Numeral], Result]


POSITION_RULES: Final[tuple[Rule, ...]] = (
    Rule("clock_time", "time", dates.clock_time),
    Rule("calendar_date", "date", dates.calendar_date),
    Rule("currency_before_amount", "money", money.currency_before_amount),
    Rule("currency_named_before_amount", "money", money.currency_named_before_amount),
    Rule("article_duration", "duration", durations.article_duration),
    Rule("article_currency", "money", money.article_currency),
    Rule("article_minor_unit", "money", money.article_minor_unit),
    Rule("article_unit", "quantity", measures.article_unit),
)

NUMERAL_RULES: Final[tuple[NumeralRule, ...]] = (
    NumeralRule("ordinal", "ordinal", cardinals.ordinal),
    NumeralRule("pronoun_one", "cardinal", cardinals.pronoun_one),
    NumeralRule("below_zero", "quantity", measures.below_zero),
    NumeralRule("percent", "percent", measures.percent),
    NumeralRule("amount_then_currency", "money", money.amount_then_currency),
    NumeralRule("age", "age", durations.age),
    NumeralRule("amount_then_duration", "duration", durations.amount_then_duration),
    NumeralRule("amount_then_unit", "quantity", measures.amount_then_unit),
    NumeralRule("cardinal", "cardinal", cardinals.cardinal),
)

#: Every rule name, for reports: the position rules, then the numeral rules.
RULE_NAMES: Final[tuple[str, ...]] = (
    *(r.name for r in POSITION_RULES),
    *(n.name for n in NUMERAL_RULES),
)


def _named(result: Result, name: str) -> Result:
    """Stamp the rule's name on the mentions it made (not on those a helper named)."""
    if isinstance(result, Found):
        result.rule = result.rule or name
    elif isinstance(result, list):
        for item in result:
            item.rule = item.rule or name
    return result


def at_position(reader: Reader, i: int) -> Result:
    """The first position rule that reads something at token ``i``."""
    for rule in POSITION_RULES:
        result = rule.apply(reader, i)
        if result is DECLINED:
            return None
        if result is not None:
            return _named(result, rule.name)
    return None


def after_numeral(reader: Reader, num: Numeral) -> Found | list[Found] | None:
    """What the numeral ``num`` is, by the first numeral rule that decides it."""
    cardinals.prepare(reader, num)
    for rule in NUMERAL_RULES:
        result = rule.apply(reader, num)
        if isinstance(result, Declined):
            return None
        if result is not None:
            named = _named(result, rule.name)
            assert not isinstance(named, Declined)
            return named
    return None


__all__ = [
    "NUMERAL_RULES",
    "POSITION_RULES",
    "RULE_NAMES",
    "NumeralRule",
    "Result",
    "Rule",
    "after_numeral",
    "at_position",
]
