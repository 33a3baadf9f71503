"""The numbers stage against its tables of examples, one per kind
(``tests/data/number_examples_<kind>.toml``: cardinals, money, measures, durations,
dates).

Each row is one phrase of a class the stage must read, with the mention it must give:
kind, value, both ends of a range, qualifier and unit. The tables are the corpus beside
the rules of ``plugins/numbers/rules.py``: a rule that stops reading a class fails here
by name. Rows under ``[[absent]]`` are phrases whose number is part of a name, a code or
a score. Every sentence goes through ``copydesk.testing.run_stage``, so a stage that
raises fails the row instead of leaving an empty layer behind.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from copydesk.document import Document
from copydesk.plugins.numbers.extract import extract_numbers
from copydesk.plugins.numbers.rules import RULE_NAMES
from copydesk.testing import run_stage

DATA = Path(__file__).parent / "data"
KINDS = ("cardinals", "money", "measures", "durations", "dates")
PUBLISHED = "2025-06-01T09:00:00+00:00"
TABLES = {
    kind: tomllib.loads((DATA / f"number_examples_{kind}.toml").read_text(encoding="utf-8"))
    for kind in KINDS
}
EXAMPLES: list[tuple[str, str, dict[str, Any]]] = [
    (kind, group["name"], example)
    for kind, table in TABLES.items()
    for group in table.get("class", [])
    for example in group["examples"]
]
ABSENT: list[dict[str, str]] = [a for table in TABLES.values() for a in table.get("absent", [])]
#: Rules that never make a mention of their own: they only refuse one ("no one").
REFUSING_RULES = frozenset({"pronoun_one"})

_seen: dict[str, Document] = {}


def numbers_of(sentence: str) -> Document:
    """The Document of ``sentence`` after the numbers stage alone (each sentence once)."""
    if sentence not in _seen:
        _seen[sentence] = run_stage("numbers", sentence, published_at=PUBLISHED)
    return _seen[sentence]


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, float) and isinstance(got, int | float):
        return got == pytest.approx(want, rel=1e-9)
    return bool(got == want)


@pytest.mark.parametrize(
    ("kind", "name", "example"),
    EXAMPLES,
    ids=[f"{kind}/{name}: {e['find']}" for kind, name, e in EXAMPLES],
)
def test_example_is_read_with_its_value(kind: str, name: str, example: dict[str, Any]) -> None:
    doc = numbers_of(example["say"])
    seen = [(m.text, m.kind, m.value, m.value_max, m.unit, m.qualifier) for m in doc.numbers]
    hits = [m for m in doc.numbers if m.text == example["find"]]
    assert hits, f"{kind}/{name}: no mention {example['find']!r}; got {seen}"
    mention = hits[0]
    assert mention.kind == example["kind"], seen
    assert _same(mention.value, example["value"]), seen
    assert _same(mention.value_max, example.get("value_max")), seen
    assert mention.qualifier == example.get("qualifier"), seen
    if "unit" in example:
        assert mention.unit == example["unit"], seen


@pytest.mark.parametrize("case", ABSENT, ids=[a["say"] for a in ABSENT])
def test_number_in_a_name_code_or_score_is_no_quantity(case: dict[str, str]) -> None:
    doc = numbers_of(case["say"])
    start = case["say"].index(case["text"])
    end = start + len(case["text"])
    overlapping = [m.text for m in doc.numbers if m.start < end and start < m.end]
    assert overlapping == []


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_has_its_table(kind: str) -> None:
    rows = [e for k, _, e in EXAMPLES if k == kind]
    assert len(rows) >= 8
    assert {e["kind"] for e in rows} & {
        "cardinals": {"cardinal", "ordinal"},
        "money": {"money"},
        "measures": {"quantity", "percent"},
        "durations": {"duration", "age"},
        "dates": {"date", "time"},
    }[kind]


def test_table_covers_every_class_of_the_stage() -> None:
    """The classes named in issues 14 and 24 and the forms the stage read before them."""
    names = {name for _, name, _ in EXAMPLES}
    assert {
        "cardinal",
        "ordinal",
        "money",
        "percent",
        "quantity",
        "duration",
        "date and time",
        "duration in several parts without and",
        "Indian numbering",
        "currency after the amount without a space",
        "amount plus a subunit in one currency",
        "an article or a fraction as the number before a unit",
        "temperatures below zero",
        "digits and words across several scale words",
        "archaic multipliers",
        "zeroth ordinal",
        "ages",
    } <= names
    assert len(ABSENT) >= 10


def test_every_rule_that_makes_mentions_has_examples() -> None:
    """Each named rule makes the expected mention of at least one row (read without the
    parse, which only refines counted nouns, tenses and names)."""
    used = set()
    for _, _, example in EXAMPLES:
        for record in extract_numbers(example["say"]):
            if record["text"] == example["find"]:
                used.add(record["rule"])
    assert set(RULE_NAMES) - REFUSING_RULES <= used
