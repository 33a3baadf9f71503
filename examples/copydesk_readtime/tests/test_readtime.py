"""The readtime stage, run on its own with copydesk's test kit."""

from __future__ import annotations

import pytest
from copydesk.layers import read_layer
from copydesk.testing import StageFailed, assert_valid_document, run_stage
from copydesk_readtime import ReadtimeLayer, ReadtimeStage

LONG = "This sentence keeps going " + "and going " * 20 + "until it stops."


def test_counts_words_and_minutes() -> None:
    doc = run_stage("readtime", "Talks resume on Monday. " * 115)
    layer = read_layer(doc, "readtime", ReadtimeLayer)
    assert layer is not None
    assert (layer.words, layer.minutes) == (460, 2.0)


def test_words_per_minute_comes_from_the_config() -> None:
    doc = run_stage("readtime", "one two three four", config={"words_per_minute": 2})
    assert doc.extensions["readtime"]["minutes"] == 2.0


def test_long_sentences_are_marked_where_they_are() -> None:
    text = f"Short one. {LONG} Short again."
    doc = run_stage("readtime", text)
    [mark] = doc.extensions["readtime"]["long_sentences"]
    assert text[mark["start"]:mark["end"]] == LONG
    assert mark["label"] == "LONG" and mark["words"] == 47


def test_the_document_is_valid() -> None:
    assert_valid_document(run_stage("readtime", f"{LONG} And a short one."))


def test_an_unknown_option_is_refused() -> None:
    with pytest.raises(Exception, match="words_per_hour"):
        run_stage("readtime", "text", config={"words_per_hour": 1})


def test_a_failing_stage_raises_its_own_error() -> None:
    class Broken(ReadtimeStage):
        def process(self, doc):  # type: ignore[no-untyped-def]
            raise ZeroDivisionError("no minutes")

    with pytest.raises(ZeroDivisionError, match="no minutes"):
        run_stage(Broken, "text")


def test_a_mark_off_its_text_is_refused() -> None:
    class Sloppy(ReadtimeStage):
        def process(self, doc):  # type: ignore[no-untyped-def]
            doc.extensions["readtime"] = {"words": 1, "minutes": 0.0, "long_sentences": [
                {"start": 0, "end": 4, "text": "Long", "words": 1}]}

    with pytest.raises(StageFailed, match="invalid offsets"):
        run_stage(Sloppy, "Short text.")
