"""copydesk.testing: one stage on a text, with its requirements installed or passed in."""

from __future__ import annotations

import traceback

import pytest
from copydesk import Document, Entity, Stage
from copydesk.testing import StageFailed, assert_valid_document, run_stage

TEXT = "Mr Erdogan said the talks in Istanbul would resume on Monday."


class CountNames(Stage):
    """Counts entities into its layer (needs entities from somewhere)."""

    name = "count_names"
    requires = ("entities",)
    provides = ("count_names",)

    def process(self, doc: Document) -> None:
        doc.extensions["count_names"] = {"count": len(doc.entities)}


class Explodes(Stage):
    name = "explodes"
    requires = ("text",)

    def process(self, doc: Document) -> None:
        self.detonate(doc)

    def detonate(self, doc: Document) -> None:
        raise AttributeError("'Speaker' object has no attribute 'gender'")


def test_layers_passed_in_stand_for_the_stages_that_provide_them() -> None:
    erdogan = Entity(start=3, end=10, text="Erdogan", label="PERSON", canonical="Erdogan")
    doc = run_stage(CountNames, TEXT, layers={"entities": [erdogan]})
    assert doc.extensions["count_names"] == {"count": 1}
    assert "entities" not in [r.stage for r in doc.runs]


def test_requirements_not_passed_in_come_from_installed_stages() -> None:
    doc = run_stage(CountNames, TEXT)
    assert [r.stage for r in doc.runs] == ["entities", "count_names"]
    assert doc.extensions["count_names"]["count"] == len(doc.entities) >= 2


def test_an_installed_stage_runs_by_name_on_the_text_as_given() -> None:
    doc = run_stage("quotes", TEXT)
    assert [r.stage for r in doc.runs] == ["entities", "quotes"]
    assert doc.text == TEXT and doc.quotes[0].speaker is not None


def test_a_failed_stage_raises_its_own_exception_with_its_traceback() -> None:
    with pytest.raises(AttributeError, match="no attribute 'gender'") as caught:
        run_stage(Explodes, TEXT)
    frames = [f.name for f in traceback.extract_tb(caught.value.__traceback__)]
    assert frames[-2:] == ["process", "detonate"]
    assert any("stage 'explodes'" in note for note in caught.value.__notes__)


def test_a_requirement_nothing_provides_says_how_to_pass_it_in() -> None:
    class NeedsTone(CountNames):
        name = "needs_tone"
        requires = ("tone",)

    with pytest.raises(StageFailed, match=r"needs 'tone'.*layers=\{'tone': \.\.\.\}"):
        run_stage(NeedsTone, TEXT)


def test_layers_passed_in_must_fit_the_text() -> None:
    wrong = Entity(start=0, end=7, text="Erdogan", label="PERSON", canonical="Erdogan")
    with pytest.raises(StageFailed, match="do not fit the text"):
        run_stage(CountNames, TEXT, layers={"entities": [wrong]})


def test_an_unknown_stage_name_lists_the_installed_ones() -> None:
    with pytest.raises(StageFailed, match="'nope' is not installed.*entities"):
        run_stage("nope", TEXT)


def test_assert_valid_document_accepts_a_processed_document() -> None:
    assert_valid_document(run_stage(CountNames, TEXT))


def test_assert_valid_document_names_a_span_off_its_text() -> None:
    doc = Document(id="x", raw_text=TEXT, text=TEXT,
                   extensions={"tone": {"marks": [{"start": 0, "end": 2, "text": "no"}]}})
    with pytest.raises(AssertionError, match=r"extensions\['tone'\]\.marks\[0\]: text 'no'"):
        assert_valid_document(doc)


def test_assert_valid_document_names_a_built_in_layer_off_its_text() -> None:
    doc = Document(id="x", raw_text=TEXT, text=TEXT)
    doc.entities.append(Entity(start=0, end=2, text="no", label="X", canonical="no"))
    with pytest.raises(AssertionError, match="entities"):
        assert_valid_document(doc)
