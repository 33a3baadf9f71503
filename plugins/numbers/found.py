"""What the readers and rules pass around: a numeral read but not yet classified
(``Numeral``), a mention in token indices (``Found``) and the ``DECLINED`` answer of a
rule that owns a position but finds nothing there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Final

from copydesk.plugins.numbers.calendar import DateSpec
from copydesk.plugins.numbers.clock import ClockTime


class Declined:
    """The type of ``DECLINED``: a rule's "no mention here, and no later rule either"."""

    _instance: Declined | None = None

    def __new__(cls) -> Declined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "DECLINED"


DECLINED: Final = Declined()


@dataclass
class Numeral:
    """A number read at tokens ``[start, end)``, before its unit or kind is decided."""

    value: float
    start: int
    end: int
    ordinal: bool = False
    fraction: bool = False
    vague: bool = False
    words: bool = False
    integer_text: bool = False  # digits without decimals or separators
    #: an abbreviated scale right after, not applied yet: (token index, factor)
    weak_scale: tuple[int, float] | None = None
    group_word: bool = False  # "a dozen", "a couple"
    #: the scale that closes the number ("1.5 million" → 1e6, "3 hundred thousand" →
    #: 1e5, "two million" → 1e6); a smaller group may still follow it
    scale: float = 1.0


@dataclass
class Found:
    """A mention in token indices, before it becomes a ``NumberMention``."""

    start: int
    end: int
    kind: str
    value: float | int | str | None
    unit: str | None = None
    qualifier: str | None = None
    value_max: float | int | str | None = None
    normalized: tuple[float, str] | None = None
    clock: ClockTime | None = None
    date_spec: DateSpec | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: the name of the rule that made the mention (``rules.py``)
    rule: str | None = None


def as_number(value: float) -> float | int:
    """An int when the value is whole (JSON 7000000000, not 7000000000.0)."""
    if not math.isfinite(value):
        return 0 if math.isnan(value) else (1e308 if value > 0 else -1e308)
    nearest = round(value)
    if abs(value - nearest) <= 1e-9 * max(1.0, abs(value)) and abs(value) < 1e18:
        return int(nearest)
    return float(f"{value:.12g}")
