"""Rules for money: a currency written before the amount ("$7 billion", "US$2.5bn",
"Rs 5 crore", "CHF 42"), named before it ("rupees 500"), after it ("5 million rubles",
"100€", "75 cents", "85p"), an article as the amount ("a dollar", "a penny"), cents
after a sum ("12 dollars 35 cents", "two pounds fifty") and accounting negatives
("net loss was ($4.2m)").
"""

from __future__ import annotations

from copydesk.plugins.numbers.currencies import CurrencyMatch
from copydesk.plugins.numbers.found import Found, Numeral, as_number
from copydesk.plugins.numbers.lexicon import (
    ACCOUNTING_BEFORE,
    ARTICLE_NOT_MONEY,
)
from copydesk.plugins.numbers.measures import measure
from copydesk.plugins.numbers.numerals import Reader
from copydesk.plugins.numbers.ranges import range_after
from copydesk.plugins.numbers.words import (
    word_kind,
)


def currency_before_amount(x: Reader, i: int) -> Found | None:
    """A symbol or code before the amount: "$7 billion", "US$2.5bn", "€10", "CHF 42"."""
    money = x.money.prefix(x.tokens, i)
    return prefixed_money(x, i, money) if money is not None else None


def currency_named_before_amount(x: Reader, i: int) -> Found | None:
    """A currency named before the amount: "rupees 5 lakh", "ringgit 35"."""
    spelled = currency_name_before(x, i)
    return prefixed_money(x, i, spelled) if spelled is not None else None


def article_currency(x: Reader, i: int) -> Found | None:
    """ "a dollar", "a rouble", "an indian rupee": a currency named in the singular, not
    a word that is English first ("a real problem") nor a noun modifier ("a euro zone");
    "a pound" is a weight unless the context says money."""
    if not x.article_stands_for_one(i):
        return None
    toks = x.tokens
    j = i + 1
    cur = x.money.name(toks, j)
    if (
        cur is None
        or toks[j].lower in ARTICLE_NOT_MONEY
        or toks[cur.end - 1].lower.endswith("s")
        or x.modifies_noun(cur.end)
    ):
        return None
    if cur.ambiguous_pound and not x.pound_is_money(j, scaled=False):
        found = x.qualify(x.quantity(i, j + 1, 1.0, x.units.by_name["pound"]))
        found.rule = "article_pound_weight"
        return found
    return x.qualify(Found(i, cur.end, "money", 1, unit=cur.code))


def article_minor_unit(x: Reader, i: int) -> Found | None:
    """ "a penny", "a cent", "a dime", "a kopek": a minor unit spelt out."""
    if not x.article_stands_for_one(i):
        return None
    toks = x.tokens
    j = i + 1
    word = toks[j].lower
    minor = x.money.minor(toks, j, None)
    if (
        minor is None
        or len(word) <= 2
        or word.endswith("s")
        or word in ARTICLE_NOT_MONEY
        or x.modifies_noun(minor.end)
    ):
        return None
    return Found(i, minor.end, "money", as_number(minor.factor), unit=minor.code)


def prefixed_money(x: Reader, i: int, money: CurrencyMatch) -> Found | None:
    """The amount after a currency written first (at token ``money.end``)."""
    toks = x.tokens
    j = money.end
    if j >= x.n:
        return None
    num = x.read_numeral(j, after_prefix=True)
    if num is None or num.ordinal:
        return None
    if toks[j].space_before and toks[money.end - 1].text in ("$", "£", "€") and toks[j].is_alpha:
        return None
    x.apply_weak(num, money=True)
    code = x.dollar_code(money.code, toks[i].text)
    value, end = with_cents(x, num, num.end, code)  # "$15 60"
    item = Found(i, end, "money", as_number(value), unit=code)
    item = range_after(x, item, num, unit_kind="money")
    return x.qualify(item)


def currency_name_before(x: Reader, i: int) -> CurrencyMatch | None:
    """A currency name right before a written amount ("Rupees 5 lakh", "ringgit 35",
    "dollars 10"), but not a name that is an English word first, a pound that may
    be weight, the second half of "5 dollars 20", "Euro 2004" or "the euro 2% up"."""
    toks = x.tokens
    if not toks[i].is_alpha:
        return None
    cur = x.money.name(toks, i)
    if cur is None or cur.ambiguous_pound or cur.end >= x.n:
        return None
    if toks[i].lower in ARTICLE_NOT_MONEY or toks[i].lower in ("sterling", "quid"):
        return None
    j = cur.end
    if not toks[j].is_digits or not toks[j].space_before:
        return None
    if i > 0 and (toks[i - 1].is_digits or word_kind(toks[i - 1].lower) is not None):
        return None
    num = x.read_numeral(j, compound=False)
    if num is None or num.ordinal or num.fraction:
        return None
    if num.integer_text and 1900 <= num.value <= 2100 and num.end - j == 1:
        return None  # "Euro 2004", "the pound 2005 outlook"
    if x.measure_at(num.end) and x.currency_at(num.end) is None:
        return None  # "the euro 2% higher", "dollars 10 years ago"
    code = cur.code
    if code == "USD" and toks[i].lower in ("dollar", "dollars"):
        code = x.dollar
    return CurrencyMatch(code, j, "prefix")


def with_cents(x: Reader, num: Numeral, end: int, code: str) -> tuple[float, int]:
    """Value and end of the sum `num` in `code` (written up to `end`) plus any cents after."""
    cents = cents_after(x, end, code, num)
    if cents is None:
        return num.value, end
    return num.value + cents[0], cents[1]


def cents_after(x: Reader, end: int, code: str, num: Numeral) -> tuple[float, int] | None:
    """ "12 dollars 35 cents", "4 EUR 5 cents", "$15 60", "8 rand and 30c"."""
    toks = x.tokens
    if not num.integer_text and not num.words:
        return None
    k = end
    if k < x.n and toks[k].lower == "and":
        k += 1
    if k >= x.n:
        return None
    sub = x.read_numeral(k)
    if sub is None or sub.ordinal or sub.value != int(sub.value) or not 0 < sub.value < 100:
        return None
    minor = x.money.minor(toks, sub.end, code)
    if minor is None:
        # a hundredth named by another currency's word: "3 francs 20 cents"
        other = x.money.minor(toks, sub.end, None)
        if other is not None and other.factor == 0.01 and toks[sub.end].is_alpha:
            minor = other
    if minor is not None:
        return sub.value * minor.factor, minor.end
    # a bare hundredths count: "$15 60", "8 rand and 30", "two pounds fifty";
    # not a count of something else ("5 dollars 20 people") nor a lone small word
    # ("5 dollars one of them")
    if sub.end < x.n and (toks[sub.end].is_digits or x.names_a_thing(sub.end)):
        return None
    if k == end and not toks[k].is_digits and not (sub.words and sub.value >= 10):
        return None
    return sub.value / 100, sub.end


def amount_then_currency(x: Reader, num: Numeral) -> Found | None:
    """A currency after the amount: "5 million rubles", "100€", "75 cents", "85p",
    "millions of pounds" (at least); "six pounds of flour" is a weight."""
    toks = x.tokens
    j = num.end
    scaled = False
    if num.weak_scale is not None:
        ws = num.weak_scale[0] + 1
        if x.currency_at(ws) is not None:
            x.apply_weak(num, money=True)
            j = num.end
            scaled = True
    cur = x.currency_at(j)
    if cur is None:
        return None
    if cur.how == "minor":
        if num.vague:
            return None
        value = num.value * cur.factor
        item = Found(num.start, cur.end, "money", as_number(value), unit=cur.code)
        return x.qualify(range_after(x, item, num, unit_kind="money", factor=cur.factor))
    if cur.ambiguous_pound and not x.pound_is_money(j, scaled=scaled or num.value >= 1e6):
        weight = measure(x, num, x.units.by_name["pound"], cur.end)
        weight.rule = "pound_weight"
        return weight
    code = cur.code
    if code == "USD" and cur.how == "name" and toks[j].lower in ("dollar", "dollars"):
        code = x.dollar
    value, end = with_cents(x, num, cur.end, code)
    item = Found(num.start, end, "money", as_number(value), unit=code)
    item.extra["vague"] = num.vague
    item.extra["scale"] = num.scale
    if num.vague:
        item.qualifier = "at_least"
    return x.qualify(range_after(x, item, num, unit_kind="money"))


def accounting_negatives(x: Reader, found: list[Found]) -> None:
    """ "Net income was ($99.99)": in accounts, an amount in parentheses of its own
    is negative. A bracketed amount right after another amount ("€6bn ($7bn)") is
    a conversion and keeps its sign."""
    toks = x.tokens
    ends = {item.end for item in found}
    for item in found:
        s, e = item.start, item.end
        if (
            item.kind == "money"
            and item.value_max is None
            and isinstance(item.value, int | float)
            and item.value > 0
            and s >= 1
            and e < x.n
            and toks[s - 1].text == "("
            and toks[e].text == ")"
            and (s - 1) not in ends
            and (s < 2 or toks[s - 2].lower in ACCOUNTING_BEFORE)
        ):
            item.value = -item.value
            item.start, item.end = s - 1, e + 1
            if item.normalized is not None:
                item.normalized = (-item.normalized[0], item.normalized[1])
