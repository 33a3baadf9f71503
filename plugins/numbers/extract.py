"""The number extractor: reads text left to right and emits every quantity with a
machine value (cardinals, ordinals, money, percentages, measures, counted things, ages,
dates, times and durations), its qualifier and, for ranges, both ends.

At each token it tries the rules of ``rules.py`` in their declared order; after the
pass, ranges are joined across mentions, times take their dates and bracketed amounts
their sign or qualifier. The shared spaCy parse, when given, adds what rules cannot
see: the counted noun ("472 drones" → drone), the tense that decides whether "Monday"
is the last or the next one, and names such as "Apollo 11" in which a number is none.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from copydesk.plugins.numbers.dates import resolve_times
from copydesk.plugins.numbers.found import Declined, Found
from copydesk.plugins.numbers.measures import inherit_qualifiers, share_units
from copydesk.plugins.numbers.money import accounting_negatives
from copydesk.plugins.numbers.numerals import Reader
from copydesk.plugins.numbers.ranges import merge_cardinal_ranges
from copydesk.plugins.numbers.rules import after_numeral, at_position


class Extractor(Reader):
    """Reads one text; ``mentions()`` returns the mentions as dicts of the number layer."""

    def run(self) -> list[Found]:
        """Every mention of the text, in token indices, after the passes."""
        found: list[Found] = []
        i = 0
        while i < self.n:
            item = self.at(i)
            if item is None:
                i += 1
                continue
            if isinstance(item, list):
                found.extend(item)
                i = max([i + 1, self.last_end, *(x.end for x in item)])
            else:
                found.append(item)
                i = max(item.end, i + 1)
            self.last_end = i
        self._post(found)
        return found

    def at(self, i: int) -> Found | list[Found] | None:
        """The mention(s) at token ``i``: the position rules first, then a numeral and
        the numeral rules (``rules.py``); ``None`` when nothing starts here."""
        item = at_position(self, i)
        if item is not None:
            assert not isinstance(item, Declined)
            return item
        self.skip_to = 0
        num = self.read_numeral(i)
        if num is None:
            if self.skip_to > i:
                self.last_end = self.skip_to
                return []
            return None
        return after_numeral(self, num)

    def _post(self, found: list[Found]) -> None:
        """Ranges whose unit follows the second number, times joined with their dates,
        local times given a UTC offset by a converted time, and parenthesised
        conversions that share the qualifier of the amount they convert."""
        merge_cardinal_ranges(self, found)
        share_units(self, found)
        resolve_times(self, found)
        inherit_qualifiers(self, found)
        accounting_negatives(self, found)

    def mentions(self) -> list[dict[str, Any]]:
        """The mentions as dicts with character offsets: the fields of ``NumberMention``
        and ``rule``, the name of the rule that made it (for reports, not the layer)."""
        out = []
        for item in self.run():
            if item.start >= item.end:
                continue
            start = self.tokens[item.start].start
            end = self.tokens[item.end - 1].end
            record: dict[str, Any] = {
                "start": start,
                "end": end,
                "text": self.text[start:end],
                "kind": item.kind,
                "value": item.value,
                "unit": item.unit,
                "qualifier": item.qualifier,
                "value_max": item.value_max,
                "normalized": (
                    {"value": item.normalized[0], "unit": item.normalized[1]}
                    if item.normalized is not None and math.isfinite(item.normalized[0])
                    else None
                ),
                "rule": item.rule,
            }
            out.append(record)
        return out


def extract_numbers(
    text: str,
    anchor: datetime | None = None,
    parse: Any = None,
    entity_spans: Sequence[tuple[int, int, str]] = (),
    dollar: str = "USD",
    counted_nouns: bool = True,
) -> list[dict[str, Any]]:
    """Every number mention in ``text`` as a dict of ``NumberMention`` fields (and the
    ``rule`` that made it)."""
    return Extractor(text, anchor, parse, entity_spans, dollar, counted_nouns).mentions()


__all__ = ["Extractor", "extract_numbers"]
