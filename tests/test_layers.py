"""Typed plugin layers: validated, offset-checked and dropped on failure by the pipeline."""

from __future__ import annotations

import pytest
from copydesk import Article, Document, Pipeline, Span, Stage, StageConfig
from copydesk.layers import document_schema, find_spans, read_layer
from pydantic import BaseModel, RootModel

from tests.helpers import build


class Hedge(Span):
    label: str = "HEDGE"


class ToneLayer(BaseModel):
    hedges: list[Hedge]
    score: float


class ToneConfig(StageConfig):
    write: str = "good"


class ToneStage(Stage[ToneConfig]):
    """Marks 'reportedly'; the config picks a way to go wrong."""

    name = "tone"
    requires = ("text",)
    provides = ("tone",)
    Layer = ToneLayer

    def process(self, doc: Document) -> None:
        at = doc.text.find("reportedly")
        hedges = [Hedge(start=at, end=at + 10, text="reportedly")] if at >= 0 else []
        if self.config.write == "good":
            doc.extensions["tone"] = ToneLayer(hedges=hedges, score=len(hedges) / 2)
        elif self.config.write == "wrong_type":
            doc.extensions["tone"] = {"hedges": [], "score": "very"}
        elif self.config.write == "bad_offsets":
            doc.extensions["tone"] = {"hedges": [{"start": 0, "end": 3, "text": "xyz"}],
                                      "score": 0}
        elif self.config.write == "half_then_raise":
            doc.extensions["tone"] = {"hedges": [], "score": 0}
            raise RuntimeError("lexicon missing")


TEXT = "The minister reportedly resigned."


def run(write: str) -> Document:
    return build(ToneStage, stage={"tone": {"write": write}}).process(Article(text=TEXT))


def test_layer_written_as_a_model_is_stored_as_json_data() -> None:
    doc = run("good")
    assert doc.extensions["tone"] == {
        "hedges": [{"start": 13, "end": 23, "text": "reportedly", "label": "HEDGE"}],
        "score": 0.5,
    }
    assert Document.model_validate_json(doc.to_json()) == doc


def test_layer_reads_back_as_its_model() -> None:
    layer = read_layer(run("good"), "tone", ToneLayer)
    assert layer is not None and layer.hedges[0].text == "reportedly"


def test_layer_that_does_not_match_its_model_fails_the_stage_and_is_dropped() -> None:
    doc = run("wrong_type")
    [tone] = [r for r in doc.runs if r.stage == "tone"]
    assert tone.status == "failed"
    assert "invalid layer extensions['tone'] (ToneLayer): score" in (tone.error or "")
    assert "tone" not in doc.extensions


def test_span_in_a_layer_off_its_text_fails_the_stage_and_is_dropped() -> None:
    doc = run("bad_offsets")
    [tone] = [r for r in doc.runs if r.stage == "tone"]
    assert tone.status == "failed"
    assert "extensions['tone'].hedges[0]: text 'xyz' differs" in (tone.error or "")
    assert "tone" not in doc.extensions


def test_layer_of_a_stage_that_raised_is_dropped() -> None:
    doc = run("half_then_raise")
    assert [r.status for r in doc.runs if r.stage == "tone"] == ["failed"]
    assert "tone" not in doc.extensions and doc.status == "done"


def test_untyped_extension_spans_are_offset_checked_too() -> None:
    class Loose(Stage):
        name = "loose"
        requires = ("text",)

        def process(self, doc: Document) -> None:
            doc.extensions["loose"] = {"marks": [{"start": 4, "end": 12, "text": "wrong"}]}

    doc = build(Loose).process(Article(text=TEXT))
    assert doc.runs[-1].status == "failed" and "loose" not in doc.extensions


def test_spans_are_found_at_any_depth_with_their_label() -> None:
    layer = {"a": {"b": [{"start": 1, "end": 2, "text": "x", "label": "L",
                           "inner": {"start": 1, "end": 2, "text": "x"}}]}}
    found = find_spans("p", layer)
    assert [(s.path, s.label) for s in found] == [("a.b[0]", "L"), ("a.b[0].inner", None)]


def test_schema_describes_each_layer_under_extensions() -> None:
    schema = document_schema({"tone": ToneLayer})
    extensions = schema["properties"]["extensions"]
    ref = extensions["$ref"].rsplit("/", 1)[-1]
    tone = schema["$defs"][ref]["properties"]["tone"]
    assert {"$ref": "#/$defs/ToneLayer"} in tone["anyOf"]
    assert schema["$defs"]["Hedge"]["properties"]["label"]["default"] == "HEDGE"
    assert schema["$defs"][ref]["additionalProperties"] is True


def test_schema_without_layers_is_the_plain_document_schema() -> None:
    from copydesk.document import document_json_schema

    assert document_schema({}) == document_json_schema()


def test_a_document_with_layers_validates_against_the_layered_schema() -> None:
    import jsonschema

    schema = document_schema({"tone": ToneLayer})
    jsonschema.validate(run("good").model_dump(mode="json"), schema)
    bad = run("good").model_dump(mode="json")
    bad["extensions"]["tone"]["score"] = "very"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


class Claim(Span):
    label: str = "CLAIM"


class ClaimsStage(Stage):
    """Writes a bare list of spans: its layer is a RootModel."""

    name = "claims"
    requires = ("text",)
    provides = ("claims",)
    Layer = RootModel[list[Claim]]

    def process(self, doc: Document) -> None:
        at = doc.text.find("resigned")
        doc.extensions["claims"] = [Claim(start=at, end=at + 8, text="resigned")]


def test_a_rootmodel_layer_is_checked_and_stored_as_its_bare_json() -> None:
    doc = build(ClaimsStage).process(Article(text=TEXT))
    assert doc.extensions["claims"] == [
        {"start": 24, "end": 32, "text": "resigned", "label": "CLAIM"}]
    assert [s.text for s in find_spans("claims", doc.extensions["claims"])] == ["resigned"]
    schema = document_schema({"claims": RootModel[list[Claim]]})
    assert "claims" in schema["$defs"]["Extensions"]["properties"]


def test_copydesk_schema_describes_the_built_in_extension_layers() -> None:
    import json

    from click.testing import CliRunner
    from copydesk.cli import cli

    result = CliRunner().invoke(cli, ["schema"], catch_exceptions=False)
    schema = json.loads(result.stdout)
    layers = schema["$defs"]["Extensions"]["properties"]
    assert {"cleaning", "language"} <= set(layers)
    language = schema["$defs"]["LanguageLayer"]["properties"]
    assert language["source"]["enum"] == ["given", "detected", "default"]
    assert schema["$defs"]["CleaningLayer"]["properties"]["input"]["enum"] == ["text", "html"]


def test_the_cleaning_layer_of_an_html_article_validates_against_its_model(
        pipeline: Pipeline) -> None:
    from copydesk.plugins.cleaning.layer import CleaningLayer

    doc = pipeline.process(Article(html="<html><body><article><p>" + TEXT * 8
                                   + "</p></article></body></html>"))
    layer = CleaningLayer.model_validate(doc.extensions["cleaning"])
    assert layer.input == "html" and layer.extraction is not None
