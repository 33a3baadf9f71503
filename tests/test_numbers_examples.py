"""The numbers stage against its table of examples (``tests/data/number_examples.toml``).

Each row is one phrase of a class the stage must read, with the mention it must give:
kind, value, both ends of a range, qualifier and unit. The table is the safety net for
refactoring the numbers code: a rule that stops reading a class fails here by name.
Rows under ``[[absent]]`` are phrases whose number is part of a name, a code or a score.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from copydesk import Pipeline, Settings
from copydesk.document import Article, Document

TABLE = Path(__file__).parent / "data" / "number_examples.toml"
PUBLISHED = "2025-06-01T09:00:00+00:00"
_DATA = tomllib.loads(TABLE.read_text(encoding="utf-8"))
EXAMPLES: list[tuple[str, dict[str, Any]]] = [
    (group["name"], example) for group in _DATA["class"] for example in group["examples"]
]
ABSENT: list[dict[str, str]] = list(_DATA["absent"])


@pytest.fixture(scope="module")
def documents() -> dict[str, Document]:
    """Every sentence of the table, processed once by the numbers stage alone."""
    pipeline = Pipeline.build(Settings(pipeline={"stages": ["numbers"]}))  # type: ignore[arg-type]
    pipeline.setup()
    sentences = sorted({e["say"] for _, e in EXAMPLES} | {a["say"] for a in ABSENT})
    articles = [Article(text=s, published_at=PUBLISHED) for s in sentences]  # type: ignore[arg-type]
    return dict(zip(sentences, pipeline.process_many(articles), strict=True))


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, float) and isinstance(got, int | float):
        return got == pytest.approx(want, rel=1e-9)
    return bool(got == want)


@pytest.mark.parametrize(
    ("name", "example"), EXAMPLES, ids=[f"{name}: {e['find']}" for name, e in EXAMPLES]
)
def test_example_is_read_with_its_value(
    documents: dict[str, Document], name: str, example: dict[str, Any]
) -> None:
    doc = documents[example["say"]]
    seen = [(m.text, m.kind, m.value, m.value_max, m.unit, m.qualifier) for m in doc.numbers]
    hits = [m for m in doc.numbers if m.text == example["find"]]
    assert hits, f"{name}: no mention {example['find']!r}; got {seen}"
    mention = hits[0]
    assert mention.kind == example["kind"], seen
    assert _same(mention.value, example["value"]), seen
    assert _same(mention.value_max, example.get("value_max")), seen
    assert mention.qualifier == example.get("qualifier"), seen
    if "unit" in example:
        assert mention.unit == example["unit"], seen


@pytest.mark.parametrize("case", ABSENT, ids=[a["say"] for a in ABSENT])
def test_number_in_a_name_code_or_score_is_no_quantity(
    documents: dict[str, Document], case: dict[str, str]
) -> None:
    doc = documents[case["say"]]
    start = case["say"].index(case["text"])
    end = start + len(case["text"])
    overlapping = [m.text for m in doc.numbers if m.start < end and start < m.end]
    assert overlapping == []


def test_table_covers_every_class_of_the_stage() -> None:
    """The classes named in issue 14 and the forms the stage read before it."""
    names = {name for name, _ in EXAMPLES}
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
    } <= names
    assert len(ABSENT) >= 10
