"""What every rule reads besides the tokens: the shared spaCy parse (part of speech,
tense, names), the unit, currency and qualifier tables, and the small tests several
kinds share ("is a unit or a currency next?", "does a sentence start here?").

``Context`` holds one text; ``numerals.Reader`` adds the numeral readers on top of it,
and the rules of each kind (``money.py``, ``measures.py``…) are functions of a reader.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from copydesk.plugins.numbers.currencies import WEIGHT_WORDS, CurrencyMatch, currency_table
from copydesk.plugins.numbers.found import Found, Numeral, as_number
from copydesk.plugins.numbers.isotime import (
    duration_unit,
)
from copydesk.plugins.numbers.lexicon import (
    CHANGE_WORDS,
    DASHES,
    ENTITY_SKIP,
    METRE_CONTEXT,
    RACE_DISTANCES,
    SCALE_ABBREVS,
)
from copydesk.plugins.numbers.qualifiers import qualifier_table
from copydesk.plugins.numbers.tokens import tokenize
from copydesk.plugins.numbers.units import Unit, unit_table


class Context:
    """One text, its tokens and parse, and the position the reading has reached."""

    def __init__(
        self,
        text: str,
        anchor: datetime | None = None,
        parse: Any = None,
        entity_spans: Sequence[tuple[int, int, str]] = (),
        dollar: str = "USD",
        counted_nouns: bool = True,
    ) -> None:
        self.text = text
        self.anchor = anchor
        self.tokens = tokenize(text)
        self.n = len(self.tokens)
        self.units = unit_table()
        self.money = currency_table()
        self.quals = qualifier_table()
        self.dollar = dollar
        self.counted_nouns = counted_nouns
        self.parse = parse
        self._sp_starts: list[int] = []
        if parse is not None:
            self._sp_starts = [t.idx for t in parse]
        self.entity_spans = sorted(entity_spans)
        self._ends = [t.end for t in self.tokens]
        names = list(self.entity_spans)
        if parse is not None and not names:
            names = [(e.start_char, e.end_char, e.label_) for e in parse.ents]
        self._names = sorted(n for n in names if n[2] in ENTITY_SKIP)
        self._name_starts = [n[0] for n in self._names]
        self.last_end = 0
        self.skip_to = 0
        self.resolved: dict[tuple[int | None, int | None], str | None] = {}
        self._article_seen: tuple[int, bool] = (-1, False)

    def article_stands_for_one(self, i: int) -> bool:
        """Whether "a"/"an" at ``i`` may be the number one of the word after it ("an hour",
        "a dollar"): not before "half"/"quarter", and not in a rate ("$5 a month",
        "twice a day", "£5 a week")."""
        toks = self.tokens
        if toks[i].lower not in ("a", "an") or i + 1 >= self.n:
            return False
        if self._article_seen[0] == i:  # four article rules ask at the same token
            return self._article_seen[1]
        self._article_seen = (i, self._article_for_one(i))
        return self._article_seen[1]

    def _article_for_one(self, i: int) -> bool:
        toks = self.tokens
        if toks[i + 1].lower in ("half", "quarter"):
            return False
        prev = toks[i - 1] if i > 0 else None
        if prev is not None and (prev.is_digits or prev.lower in ("times", "once", "twice")):
            return False
        return prev is None or not self.ends_money(i)

    def sp(self, i: int) -> Any:
        """The spaCy token that contains light token ``i`` (or None)."""
        if self.parse is None or i >= self.n:
            return None
        k = bisect.bisect_right(self._sp_starts, self.tokens[i].start) - 1
        if k < 0:
            return None
        tok = self.parse[k]
        if tok.idx <= self.tokens[i].start < tok.idx + len(tok.text):
            return tok
        return None

    def pos(self, i: int) -> str | None:
        tok = self.sp(i)
        return tok.pos_ if tok is not None else None

    def is_past(self, i: int) -> bool | None:
        """Whether the clause around token ``i`` is in the past tense."""
        tok = self.sp(i)
        if tok is None:
            return None
        head = tok
        for _ in range(12):
            if head.dep_ == "ROOT":
                break
            if head.pos_ in ("VERB", "AUX"):
                has_aux = any(c.dep_ in ("aux", "auxpass") for c in head.children)
                # "the deal, signed on 3 March, took effect": a participle takes the
                # tense of the clause it hangs on
                if not (
                    head.tag_ in ("VBN", "VBG")
                    and not has_aux
                    and head.dep_ in ("acl", "advcl", "relcl", "xcomp", "conj")
                ):
                    break
            head = head.head
        auxes = [c for c in head.children if c.dep_ in ("aux", "auxpass")]
        if any(a.lower_ in ("will", "'ll", "shall", "wo") for a in auxes):
            return False
        if head.lemma_ in ("set", "schedule", "due", "expect", "plan") and any(
            a.tag_ in ("VBZ", "VBP") for a in auxes
        ):
            return False
        if head.tag_ == "VBD" or any(a.tag_ == "VBD" for a in auxes):
            return True
        return head.tag_ == "VBN" and any(a.lower_ in ("has", "have", "had") for a in auxes)

    def entity_label(self, start_char: int, end_char: int) -> str | None:
        """spaCy's label of the entity covering the span, if any."""
        if self.parse is None:
            return None
        span = self.parse.char_span(start_char, end_char, alignment_mode="expand")
        if span is None:
            return None
        for tok in span:
            if tok.ent_type_:
                return str(tok.ent_type_)
        return None

    def in_name(self, start_char: int, end_char: int) -> bool:
        """Whether a number is part of a longer name ("Apollo 11", "Six Nations", "FTSE
        100", "Credit Suisse First Boston"): an ORG, PRODUCT, LAW… entity around it."""
        k = bisect.bisect_right(self._name_starts, start_char)
        for s, e, _label in self._names[max(0, k - 3) : k]:
            if (
                s <= start_char
                and end_char <= e
                and (s, e) != (start_char, end_char)
                and any(ch.isalpha() for ch in self.text[s:start_char] + self.text[end_char:e])
            ):
                return True
        return False

    def measure_at(self, j: int) -> bool:
        """Whether a unit, currency, percent sign or plural noun starts at token ``j``."""
        if j >= self.n:
            return False
        tok = self.tokens[j]
        if tok.text in ("%", "％") or tok.lower in ("per", "percent"):
            return True
        if self.units.match(self.tokens, j, self.text) is not None:
            return True
        if self.currency_at(j) is not None or duration_unit(tok.lower) is not None:
            return True
        sp = self.sp(j)
        return sp is not None and tok.is_alpha and sp.tag_ in ("NNS", "NNPS") and tok.space_before

    def tok_end(self, char_end: int) -> int:
        """Token index after the token ending at ``char_end``."""
        k = bisect.bisect_left(self._ends, char_end)
        return min(k + 1, self.n)

    def qualify(self, item: Found) -> Found:
        """Attach the qualifier written before the mention (and "or more" after)."""
        q = self.quals.before(self.tokens, item.start)
        if q is not None and q.start >= self.last_end:
            if q.qualifier is not None or item.qualifier is None:
                item.qualifier = q.qualifier or item.qualifier
            item.start = q.start
        after = self.quals.after(self.tokens, item.end)
        if after is not None and item.qualifier is None:
            item.qualifier = after.qualifier
            item.end = after.start
        return item

    def dollar_code(self, code: str, written: str) -> str:
        if code == "USD" and written == "$":
            return self.dollar
        return code

    def apply_weak(self, num: Numeral, money: bool = False, plural_noun: bool = False) -> None:
        """Apply the abbreviated scale noted after ``num`` when the context makes it one:
        money ("$5m"), a plural noun ("5m people", not with "T") or an unambiguous "bn"."""
        if num.weak_scale is None:
            return
        j, factor = num.weak_scale
        text = self.tokens[j].text
        if (
            money
            or (plural_noun and text != "T")
            or text in ("bn", "mn", "tn", "trn", "bln", "mln", "B", "M")
        ):
            num.value *= factor
            num.scale = factor
            num.end = j + 1
            num.weak_scale = None
            num.integer_text = False

    def quantity(self, start: int, end: int, value: float, unit: Unit) -> Found:
        item = Found(start, end, "quantity", as_number(value), unit=unit.code)
        item.normalized = (unit.to_si(value), unit.si)
        return item

    def pound_is_money(self, j: int, scaled: bool) -> bool:
        """ "30 million pounds" is sterling; "six pounds of flour" is weight."""
        toks = self.tokens
        if scaled:
            return True
        nxt = toks[j + 1] if j + 1 < self.n else None
        if nxt is not None and nxt.lower in ("of", "in", "heavier", "lighter", "overweight"):
            return False
        if nxt is not None and nxt.text in DASHES and not nxt.space_before:
            return False
        if toks[j - 1].text in DASHES and not toks[j].space_before:
            return False  # "a twenty-pound bag"
        if nxt is not None and nxt.lower == "sterling":
            return True
        lo = max(0, toks[j].start - 120)
        hi = min(len(self.text), toks[j].end + 120)
        line_start = self.text.rfind("\n", lo, toks[j].start) + 1 or lo
        line_end = self.text.find("\n", toks[j].end, hi)
        window = self.text[line_start : line_end if line_end >= 0 else hi].lower()
        words = {t.lower for t in tokenize(window)}
        if words & WEIGHT_WORDS:
            return False
        return not (
            nxt is not None and (nxt.lower in ("bag", "sack", "box") or self.next_is_noun(j + 1))
        )

    def next_is_noun(self, j: int) -> bool:
        sp = self.sp(j)
        return sp is not None and sp.pos_ == "NOUN" and sp.tag_ in ("NN",)

    def is_nominal(self, j: int) -> bool:
        sp = self.sp(j)
        if sp is None:
            return self.tokens[j].is_alpha
        return bool(sp.pos_ in ("NOUN", "PROPN", "ADJ"))

    def percent_at(self, j: int) -> tuple[int, str] | None:
        toks = self.tokens
        n = self.n
        if j < n and toks[j].text in ("%", "％"):
            end = j + 1
            if (
                end + 1 < n
                and toks[end].lower == "percentage"
                and toks[end + 1].lower in ("point", "points")
            ):
                return end + 2, "pp"
            return end, "%"
        if j < n and toks[j].lower in ("percent", "pct", "percentage"):
            if toks[j].lower == "percentage":
                if j + 1 < n and toks[j + 1].lower in ("point", "points"):
                    return j + 2, "pp"
                return None
            return j + 1, "%"
        if j + 1 < n and toks[j].lower == "per" and toks[j + 1].lower == "cent":
            return j + 2, "%"
        return None

    def currency_at(self, j: int) -> CurrencyMatch | None:
        toks = self.tokens
        if j >= self.n:
            return None
        found = self.money.suffix(toks, j)
        if found is not None:
            return found
        if not toks[j].is_alpha and toks[j].text not in ("¢",):
            return None
        found = self.money.name(toks, j)
        minor = self.money.minor(toks, j, None)
        if found is not None and (minor is None or minor.end <= found.end):
            return found
        return minor

    def modifies_noun(self, j: int) -> bool:
        """Whether the word at ``j`` is a noun the word before modifies ("a euro zone",
        "a dollar crisis"): then "a euro" is no amount."""
        if j >= self.n or not self.tokens[j].is_alpha or not self.tokens[j].space_before:
            return False
        return self.pos(j) in ("NOUN", "PROPN")

    def names_a_thing(self, j: int) -> bool:
        """Whether token ``j`` goes on the number before it as a noun, a unit or a sign
        ("30 people", "30%"), so the number is no bare minute or second count."""
        if j >= self.n:
            return False
        tok = self.tokens[j]
        if tok.text in ("%", "％", "-", "/", "'", "’"):
            return True
        if not tok.is_alpha:
            return False
        if self.measure_at(j) or self.currency_at(j) is not None:
            return True
        pos = self.pos(j)
        if pos is None:
            return True
        return pos in ("NOUN", "PROPN", "ADJ", "NUM", "X")

    def below_zero_end(self, j: int) -> int | None:
        """Token index after "below zero" / "below 0" at ``j``, else None."""
        toks = self.tokens
        if j + 1 < self.n and toks[j].lower == "below" and toks[j + 1].lower in ("zero", "0"):
            return j + 2
        return None

    def race_distance(self, num: Numeral) -> bool:
        """ "800m", "3,000m", "10,000m": athletics and swimming distances are metres."""
        text = self.text[self.tokens[num.start].start : self.tokens[num.end - 1].end]
        whole = num.value == int(num.value) and "." not in text
        return whole and ("," in text or num.value in RACE_DISTANCES)

    def plural_noun_after(self, j: int) -> bool:
        """Whether "m" before token ``j`` means million ("5m people", "4m DS consoles")
        rather than metres ("the 400m", "a 3m wall", "800m runners")."""
        if j >= self.n or not self.tokens[j].space_before:
            return False
        tok = self.tokens[j]
        if tok.text == "(" and self.money.prefix(self.tokens, j + 1) is not None:
            return True  # "a total of 204.3m (£109m)"
        if not tok.is_alpha or tok.lower in METRE_CONTEXT:
            return False
        sp = self.sp(j)
        function_words = ("ADP", "ADV", "VERB", "AUX", "CCONJ", "PART", "DET")
        return sp is None or sp.pos_ not in function_words

    def starts_sentence(self, i: int) -> bool:
        """Whether token ``i`` begins a sentence (or a quotation or a line)."""
        if i == 0:
            return True
        prev = self.tokens[i - 1]
        if prev.text in ".!?:;\"“‘'(—–-":
            return True
        return "\n" in self.text[prev.end : self.tokens[i].start]

    def skip(self, num: Numeral) -> list[Found]:
        """Consume the numeral's tokens without a mention."""
        self.last_end = num.end
        return []

    def ends_money(self, i: int) -> bool:
        """Whether the tokens before ``i`` close a money amount ("£5 a week", "400 euros
        a month", "$2m a year"): then "a week" is the period of a rate, no duration."""
        toks = self.tokens
        k = i - 1
        if any(t.is_digits for t in toks[max(0, i - 4) : i - 1]):  # a currency named after
            for start in range(max(1, i - 3), i):  # the amount ("400 euros a month")
                cur = self.currency_at(start)
                if cur is not None and cur.end == i and not self._then_when(i + 2):
                    k = start - 1
                    break
        while (
            k >= 0
            and toks[k].is_alpha
            and toks[k].lower in set(SCALE_ABBREVS) | {"bn", "million", "billion"}
        ):
            k -= 1
        return k >= 0 and toks[k].is_digits

    def _then_when(self, j: int) -> bool:
        """Whether a word at ``j`` makes the period before it a time ("a year ago",
        "a year earlier"), not the period of a rate."""
        return j < self.n and self.tokens[j].lower in ("ago", "earlier", "later", "before")

    def is_change(self, start: int) -> bool:
        """Whether the words before token ``start`` say a change ("rose 2%", "up by 5")."""
        if start == 0:
            return False
        k = start - 1
        word = self.tokens[k].lower
        sp = self.sp(k)
        lemma = sp.lemma_.lower() if sp is not None else word
        return word in CHANGE_WORDS or lemma in CHANGE_WORDS
