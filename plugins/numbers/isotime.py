"""Time words as data (``data/times.toml``: months, weekdays, duration units, zones) and
durations as ISO 8601 values: "2 years and 3 months" → P2Y3M, with its length in seconds.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data"

ISO_DESIGNATORS = ("Y", "MO", "W", "D", "H", "M", "S")


@dataclass(frozen=True)
class TimeData:
    """The word lists of ``data/times.toml``: months, weekdays, duration units, zones."""

    months: dict[str, int]
    weekdays: dict[str, int]
    durations: dict[str, tuple[str, float]]
    zones: dict[str, int]


@lru_cache(maxsize=1)
def time_data() -> TimeData:
    with (DATA / "times.toml").open("rb") as fh:
        data = tomllib.load(fh)
    return TimeData(
        months=dict(data["months"]),
        weekdays=dict(data["weekdays"]),
        durations={k: (str(v[0]), float(v[1])) for k, v in data["durations"].items()},
        zones=dict(data["zones"]),
    )


def duration_unit(word: str) -> tuple[str, float] | None:
    """(designator, seconds) for a duration unit word ("hours" → ("H", 3600))."""
    return time_data().durations.get(word.lower())


def _canonical(designator: str, amount: float) -> tuple[str, float]:
    """Fortnights, decades and centuries as weeks and years."""
    if designator == "W2":
        return "W", amount * 2
    if designator == "Y10":
        return "Y", amount * 10
    if designator == "Y100":
        return "Y", amount * 100
    return designator, amount


def duration_parts(items: Sequence[tuple[str, float]]) -> dict[str, float]:
    """Sum (designator, amount) pairs into ISO parts, carrying fractions downwards."""
    parts: dict[str, float] = {}
    for designator, amount in items:
        key, value = _canonical(designator, amount)
        parts[key] = parts.get(key, 0.0) + value
    carry = {
        "Y": ("MO", 12),
        "MO": ("D", 30),
        "W": ("D", 7),
        "D": ("H", 24),
        "H": ("M", 60),
        "M": ("S", 60),
    }
    for key in ISO_DESIGNATORS[:-1]:
        got = parts.get(key)
        if got is None or got == int(got):
            continue
        value = got
        whole = int(value)
        lower, factor = carry[key]
        parts[key] = whole
        parts[lower] = parts.get(lower, 0.0) + (value - whole) * factor
        if whole == 0:
            del parts[key]
    if "W" in parts and len(parts) > 1:  # ISO allows weeks only on their own
        parts["D"] = parts.get("D", 0.0) + parts.pop("W") * 7
    return parts


def iso_duration(parts: dict[str, float]) -> str:
    """ISO 8601 duration: {"Y": 1, "D": 2, "H": 3, "S": 4} → "P1Y2DT3H4S"."""

    def fmt(value: float) -> str:
        return str(int(value)) if value == int(value) else f"{round(value, 6):g}"

    date_part = "".join(
        f"{fmt(parts[k])}{'M' if k == 'MO' else k}" for k in ("Y", "MO", "W", "D") if k in parts
    )
    time_part = "".join(f"{fmt(parts[k])}{k}" for k in ("H", "M", "S") if k in parts)
    if not date_part and not time_part:
        return "PT0S"
    return "P" + date_part + ("T" + time_part if time_part else "")


def duration_seconds(parts: dict[str, float]) -> float:
    """Length in seconds (a month counts 30 days, a year 365)."""
    secs = {"Y": 31536000, "MO": 2592000, "W": 604800, "D": 86400, "H": 3600, "M": 60, "S": 1}
    return float(sum(secs[k] * v for k, v in parts.items()))


def duration_unit_name(word: str) -> str:
    """The unit of a duration mention, singular: "hours" → "hour", "hrs" → "hour"."""
    designator = duration_unit(word)
    names = {
        "S": "second",
        "M": "minute",
        "H": "hour",
        "D": "day",
        "W": "week",
        "W2": "fortnight",
        "MO": "month",
        "Y": "year",
        "Y10": "decade",
        "Y100": "century",
    }
    return names[designator[0]] if designator else word


def designator_of(iso: str) -> str | None:
    """The single designator of a simple ISO duration ("P3Y" → "Y", "PT2H" → "H")."""
    body = iso[1:]
    in_time = body.startswith("T")
    body = body.lstrip("T")
    letters = [c for c in body if c.isalpha()]
    if len(letters) != 1 or "T" in body:
        return None
    letter = letters[0]
    if letter == "M":
        return "M" if in_time else "MO"
    return letter
