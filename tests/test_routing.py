"""Routing stages to their own queues: how the pipeline is cut into segments, and what a
worker of some queues runs next on a Document."""

from __future__ import annotations

import pytest
from copydesk import Article, Pipeline
from copydesk.settings import Settings
from copydesk.workers.worker.routing import (
    RoutingError,
    check_worker_queues,
    next_step,
    segments,
    stages_served,
)

DEFAULT = ["cleaning", "entities", "reuse", "numbers", "quotes", "stories", "summary"]


def routed(**routes: str) -> tuple[Pipeline, Settings]:
    settings = Settings(pipeline={"routes": routes})
    return Pipeline.build(settings), settings


def test_without_routes_the_whole_pipeline_is_one_segment_on_the_default_queue() -> None:
    pipeline, settings = routed()
    [only] = segments(pipeline, settings)
    assert only.queue == "copydesk" and list(only.stages) == pipeline.names == DEFAULT


def test_a_routed_stage_at_the_end_makes_a_second_segment() -> None:
    pipeline, settings = routed(summary="heavy")
    segs = segments(pipeline, settings)
    assert [(s.queue, s.stages) for s in segs] == [
        ("copydesk", tuple(DEFAULT[:-1])), ("heavy", ("summary",))]
    assert segs[1].label == "2/2 heavy: summary"


def test_a_routed_stage_in_the_middle_splits_the_default_queue_in_two() -> None:
    pipeline, settings = routed(numbers="heavy")
    assert [s.queue for s in segments(pipeline, settings)] == ["copydesk", "heavy", "copydesk"]


def test_a_route_for_a_stage_the_pipeline_does_not_run_is_refused_naming_it() -> None:
    pipeline, settings = routed(sumary="heavy")
    with pytest.raises(RoutingError, match="'sumary'.*its stages: cleaning"):
        segments(pipeline, settings)


def test_a_route_to_an_invalid_queue_name_is_refused_by_the_settings() -> None:
    with pytest.raises(ValueError, match="not a queue name"):
        Settings(pipeline={"routes": {"summary": "heavy queue!"}})


def test_a_worker_for_a_queue_no_stage_runs_on_is_refused() -> None:
    pipeline, settings = routed(summary="heavy")
    with pytest.raises(RoutingError, match="'hevy'.*2/2 heavy: summary"):
        check_worker_queues(segments(pipeline, settings), ["hevy"])


def test_each_worker_serves_only_the_stages_of_its_queues() -> None:
    pipeline, settings = routed(summary="heavy")
    segs = segments(pipeline, settings)
    assert stages_served(segs, ["heavy"]) == ["summary"]
    assert stages_served(segs, ["copydesk"]) == DEFAULT[:-1]


def test_a_new_article_runs_the_first_segment_then_goes_to_the_routed_queue() -> None:
    pipeline, settings = routed(summary="heavy")
    segs = segments(pipeline, settings)
    doc = pipeline.process(Article(text="Kyiv said on Monday.")).model_copy(
        update={"runs": []})
    step = next_step(pipeline, doc, segs, ["copydesk"])
    assert [s.queue for s in step.run] == ["copydesk"] and step.then is segs[1]
    # on the heavy worker the same new article is handed on at once, nothing run
    step = next_step(pipeline, doc, segs, ["heavy"])
    assert step.run == () and step.then is segs[0]


def test_a_segment_run_leaves_the_other_stages_to_their_own_queue() -> None:
    pipeline, settings = routed(summary="heavy")
    segs = segments(pipeline, settings)
    article = Article(text="President Zelenskyy praised the talks. Kyiv said on Monday.")
    from copydesk.document import Document

    doc = Document.from_article(article)
    pipeline.run_segment([doc], segs[0].stages, final=False)
    assert [r.stage for r in doc.runs] == DEFAULT[:-1] and doc.summary is None
    step = next_step(pipeline, doc, segs, ["heavy"])
    assert step.run == (segs[1],) and step.then is None
    pipeline.run_segment([doc], segs[1].stages, final=True)
    fresh = pipeline.process(article)
    assert doc.summary == fresh.summary and doc.entities == fresh.entities
    assert [r.stage for r in doc.runs] == DEFAULT
    assert next_step(pipeline, doc, segs, ["copydesk"]).run == ()


def test_a_carried_parse_is_adopted_instead_of_parsing_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from copydesk import nlp
    from copydesk.document import Document

    pipeline, _ = routed(summary="heavy")
    shared = pipeline.services.shared_parse
    doc = Document.from_article(Article(text="Kyiv said on Monday. Ankara waited."))
    parsed = shared.get(doc)
    carried = shared.pack(doc)
    assert carried is not None
    elsewhere = Document.from_article(Article(text=doc.text))

    def no_parsing(*_: object, **__: object) -> object:
        raise AssertionError("parsed again")

    monkeypatch.setattr(nlp, "parse_texts", no_parsing)
    assert shared.adopt(elsewhere, carried)
    adopted = shared.get(elsewhere)
    assert [(t.text, t.idx, t.dep_, t.ent_type_) for t in adopted] == [
        (t.text, t.idx, t.dep_, t.ent_type_) for t in parsed]
    assert [s.text for s in adopted.sents] == [s.text for s in parsed.sents]


def test_a_carried_parse_of_another_text_is_refused() -> None:
    from copydesk.document import Document

    pipeline, _ = routed(summary="heavy")
    shared = pipeline.services.shared_parse
    doc = Document.from_article(Article(text="Kyiv said on Monday."))
    shared.get(doc)
    carried = shared.pack(doc)
    assert carried is not None
    other = Document.from_article(Article(text="Moscow said nothing."))
    assert not shared.adopt(other, carried)
    assert not shared.adopt(other, b"not a DocBin")
