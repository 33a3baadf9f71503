"""The ``reuse`` and ``story`` fields of the Document (schema version 1, additive)."""

from __future__ import annotations

import pytest
from copydesk import Document, Reuse, ReusedPassage, ReuseSource, Story
from pydantic import ValidationError

TEXT = "The council met on Monday. Rain is expected."


def passage(start: int, end: int, text: str | None = None) -> ReusedPassage:
    return ReusedPassage(start=start, end=end, text=TEXT[start:end] if text is None else text,
                         source_start=10, source_end=10 + end - start)


def test_a_document_without_reuse_or_story_reads_as_before() -> None:
    doc = Document.model_validate({"id": "a", "raw_text": TEXT, "text": TEXT})
    assert doc.reuse is None and doc.story is None


def test_reused_passages_round_trip_through_json() -> None:
    doc = Document(id="b", raw_text=TEXT, text=TEXT, reuse=Reuse(
        duplicate_of=None, sources=[ReuseSource(id="a", similarity=0.6,
                                                passages=[passage(0, 26)])]),
        story=Story(id="s1", label="council meeting", size=2, first_seen=None))
    again = Document.model_validate_json(doc.to_json())
    assert again == doc
    assert again.reuse is not None
    assert again.reuse.sources[0].passages[0].text == "The council met on Monday."


def test_a_passage_whose_text_differs_from_the_document_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"reuse\[0\]: text"):
        Document(id="b", raw_text=TEXT, text=TEXT, reuse=Reuse(sources=[ReuseSource(
            id="a", similarity=0.5, passages=[passage(0, 5, "Their")])]))


def test_a_passage_past_the_end_of_the_text_is_refused() -> None:
    with pytest.raises(ValidationError, match="past the text's end"):
        Document(id="b", raw_text=TEXT, text=TEXT, reuse=Reuse(sources=[ReuseSource(
            id="a", similarity=0.5, passages=[ReusedPassage(
                start=40, end=90, text=TEXT[40:], source_start=0, source_end=50)])]))
