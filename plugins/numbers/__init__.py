"""The numbers plugin: finds every quantity a news reader cares about and gives it a
machine value (the ``numbers`` layer of the Document).

Cardinals, ordinals, money, percentages, measures (converted to SI), counted things
("472 drones" → unit "drone"), qualifiers, ranges, and dates, times and durations
resolved against the article's ``published_at``. Rules and word lists live in
``data/*.toml``; the shared spaCy parse supplies counted nouns and tense.
"""

from __future__ import annotations

from typing import ClassVar

from copydesk import Stage, StageConfig, hookimpl
from copydesk.document import Document, NumberMention
from copydesk.plugins.numbers.extract import extract_numbers
from pydantic import Field


class NumbersConfig(StageConfig):
    """Settings of the ``numbers`` stage (``[stage.numbers]``)."""

    dollar: str = Field(
        default="USD",
        pattern=r"^[A-Z]{3}$",
        description="The currency a bare '$' or 'dollars' means (AUD for an Australian paper).",
    )
    counted_nouns: bool = Field(
        default=True, description="Give counts the noun they count as unit ('472 drones' → drone)."
    )
    resolve_dates: bool = Field(
        default=True,
        description="Resolve relative dates ('last month', 'Monday') against published_at.",
    )


class NumbersStage(Stage[NumbersConfig]):
    """Adds the ``numbers`` layer."""

    name: ClassVar[str] = "numbers"
    requires: ClassVar[tuple[str, ...]] = ("text",)
    optional: ClassVar[tuple[str, ...]] = ("entities",)
    provides: ClassVar[tuple[str, ...]] = ("numbers",)
    uses_parse: ClassVar[bool] = True
    #: number words, units and calendar words are English data
    languages: ClassVar[tuple[str, ...] | None] = ("en",)
    description: ClassVar[str] = (
        "Numbers, money, percentages, measures, counts, dates and times with machine values"
    )

    def process(self, doc: Document) -> None:
        config = self.config
        parse = self.services.parse(doc) if doc.text.strip() else None
        entity_spans = [(e.start, e.end, e.label) for e in doc.entities]
        anchor = doc.published_at if config.resolve_dates else None
        records = extract_numbers(
            doc.text,
            anchor=anchor,
            parse=parse,
            entity_spans=entity_spans,
            dollar=config.dollar,
            counted_nouns=config.counted_nouns,
        )
        doc.numbers = [
            NumberMention(**{k: v for k, v in record.items() if k != "rule"}) for record in records
        ]


@hookimpl
def register_stages() -> list[type[Stage]]:
    return [NumbersStage]
