"""The Stage contract for plugin authors: a stage is generic over its config model."""

from __future__ import annotations

import pytest
from copydesk import Article, Document, PipelineError, Stage, StageConfig
from copydesk.stage import declaration_problems

from tests.helpers import build


class ShoutConfig(StageConfig):
    marks: int = 1


class ShoutStage(Stage[ShoutConfig]):
    name = "shout"
    requires = ("text",)
    provides = ("shout",)

    def process(self, doc: Document) -> None:
        doc.extensions["shout"] = doc.text + "!" * self.config.marks


def test_type_argument_is_the_config_model() -> None:
    assert ShoutStage.Config is ShoutConfig


def test_config_is_validated_against_the_type_argument() -> None:
    doc = build(ShoutStage, stage={"shout": {"marks": 3}}).process(Article(text="hey"))
    assert doc.extensions["shout"] == "hey!!!"


def test_unknown_option_for_a_typed_config_is_a_build_error() -> None:
    with pytest.raises(PipelineError, match="invalid config for stage 'shout'.*volume"):
        build(ShoutStage, stage={"shout": {"volume": 11}})


def test_bare_stage_has_the_empty_config() -> None:
    class Quiet(Stage):
        name = "quiet"

        def process(self, doc: Document) -> None:
            pass

    assert Quiet.Config is StageConfig and declaration_problems(Quiet) == []


def test_config_that_contradicts_the_type_argument_is_a_declaration_problem() -> None:
    class Confused(ShoutStage):
        Config = StageConfig

    assert any("declared as Stage[ShoutConfig]" in p for p in declaration_problems(Confused))


def test_layer_that_is_not_a_model_is_a_declaration_problem() -> None:
    class Sloppy(ShoutStage):
        Layer = dict  # type: ignore[assignment]

    assert any("Layer must be a pydantic model" in p for p in declaration_problems(Sloppy))


def test_public_api_exports_what_a_plugin_needs() -> None:
    import copydesk

    for name in ("Stage", "StageConfig", "Document", "hookimpl", "Entity", "NumberMention",
                 "Quote", "Speaker", "Summary", "Heading", "Removal", "StageRun", "Span"):
        assert name in copydesk.__all__ and hasattr(copydesk, name), name
