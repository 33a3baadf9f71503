"""Provenance in runs, the plan of what is stale, and reprocessing only that."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest
from copydesk import Document, Pipeline, Settings
from copydesk.document import Article
from copydesk.pipeline import ReprocessError
from copydesk.provenance import PipelineSpec, config_hash

from tests.conftest import shared_path
from tests.helpers import CapitalsStage, CountStage, TextStage, UpperConfig, build


def corpus_articles(n: int) -> list[Article]:
    path = shared_path("corpus", "bbc-news-2005.jsonl")
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            data = json.loads(line)
            data.pop("category", None)
            out.append(Article.model_validate(data))
            if len(out) == n:
                break
    return out


def stored(doc: Document) -> Document:
    """The Document as a file or the store gives it back: parsed from its JSON."""
    return Document.model_validate_json(doc.to_json())


def timings_aside(doc: Document) -> dict[str, Any]:
    data = json.loads(doc.to_json())
    for run in data["runs"]:
        run.pop("duration_ms")
    return data


def small(**settings: Any) -> Pipeline:
    return build(TextStage, CapitalsStage, CountStage, **settings)


ARTICLE = Article(text="  Alice met Bob in Paris.  ")


class VersionedCapitals(CapitalsStage):
    version: ClassVar[str | None] = "7"


# -- provenance in runs -----------------------------------------------------------------


def test_every_run_records_version_config_hash_and_fingerprint() -> None:
    doc = small().process(ARTICLE)
    for run in doc.runs:
        assert run.version and run.config_hash and run.fingerprint
        assert run.worker is None  # in-process


def test_config_hash_is_the_hash_of_the_validated_config() -> None:
    doc = small(stage={"strip": {"suffix": "!"}}).process(ARTICLE)
    assert doc.runs[0].config_hash == config_hash(UpperConfig(suffix="!"))
    assert doc.runs[0].config_hash != config_hash(UpperConfig())


def test_stage_version_attribute_overrides_the_distribution_version() -> None:
    doc = build(TextStage, VersionedCapitals).process(ARTICLE)
    assert [r.version for r in doc.runs] == ["0", "7"]


def test_stages_that_use_the_parse_record_the_model(sample_doc: Document) -> None:
    by_stage = {r.stage: r for r in sample_doc.runs}
    assert by_stage["cleaning"].model is None
    assert by_stage["entities"].model is not None
    assert by_stage["entities"].model.startswith("en_core_web_sm")


def test_a_change_upstream_changes_the_downstream_fingerprint() -> None:
    plain = small().process(ARTICLE)
    other = small(stage={"strip": {"suffix": " Carol"}}).process(ARTICLE)
    assert [r.fingerprint for r in plain.runs] != [r.fingerprint for r in other.runs]
    assert all(a.fingerprint != b.fingerprint
               for a, b in zip(plain.runs, other.runs, strict=True))


def test_the_pipeline_spec_survives_json() -> None:
    spec = small().spec
    assert PipelineSpec.from_json(spec.to_json()) == spec
    assert spec.get("count").upstream == ("strip", "capitals")  # type: ignore[union-attr]


# -- the plan ---------------------------------------------------------------------------


def test_a_fresh_document_is_current_everywhere() -> None:
    pipeline = small()
    plan = pipeline.plan(stored(pipeline.process(ARTICLE)))
    assert [s.label for s in plan.stages] == ["current"] * 3
    assert not plan.changes


def test_a_config_change_is_stale_config_and_makes_dependents_stale_upstream() -> None:
    doc = stored(build(TextStage, CapitalsStage, CountStage).process(ARTICLE))
    plan = build(TextStage, VersionedCapitals, CountStage).plan(doc)
    assert {s.stage: s.label for s in plan.stages} == {
        "strip": "current", "capitals": "stale (version)", "count": "stale (upstream)"}


def test_a_change_to_the_text_stage_means_everything() -> None:
    doc = stored(small().process(ARTICLE))
    plan = small(stage={"strip": {"suffix": "."}}).plan(doc)
    assert plan.to_run == ["strip", "capitals", "count"]
    assert plan.state_of("strip").reasons == ("config",)  # type: ignore[union-attr]


def test_a_stage_without_a_run_is_missing_and_a_stage_no_longer_run_is_removed() -> None:
    doc = stored(build(TextStage, CapitalsStage).process(ARTICLE))
    plan = build(TextStage, CapitalsStage, CountStage).plan(doc)
    assert plan.state_of("count").state == "missing"  # type: ignore[union-attr]
    back = build(TextStage, CapitalsStage).plan(stored(small().process(ARTICLE)))
    assert back.removed == ["count"]


def test_a_failed_stage_is_planned_again() -> None:
    doc = stored(small().process(Article(text="boom")))
    doc.runs[1].status = "failed"
    assert small().plan(doc).state_of("capitals").state == "failed"  # type: ignore[union-attr]


def test_a_layer_edited_after_its_run_makes_its_dependents_stale() -> None:
    doc = stored(small().process(ARTICLE))
    doc.runs[1].fingerprint = "0" * 32  # an older run of capitals than count read
    assert small().plan(doc).state_of("count").reasons == ("upstream",)  # type: ignore[union-attr]


def test_a_document_without_provenance_is_stale_by_config() -> None:
    doc = stored(small().process(ARTICLE))
    for run in doc.runs:
        run.config_hash = run.fingerprint = None
    assert small().plan(doc).to_run == ["strip", "capitals", "count"]


# -- reprocessing -----------------------------------------------------------------------


def test_reprocess_runs_only_the_stale_stages_and_keeps_the_other_runs() -> None:
    doc = stored(small().process(ARTICLE))
    before = [r.model_dump() for r in doc.runs]
    out, plan = build(TextStage, VersionedCapitals, CountStage).reprocess(doc)
    assert plan.to_run == ["capitals", "count"]
    assert out.runs[0].model_dump() == before[0]
    assert [r.stage for r in out.runs] == ["strip", "capitals", "count"]
    assert out.runs[1].version == "7"


def test_reprocess_of_a_current_document_changes_nothing() -> None:
    doc = stored(small().process(ARTICLE))
    before = doc.to_json()
    out, plan = small().reprocess(doc)
    assert not plan.changes
    assert out.to_json() == before


def test_reprocess_drops_the_layer_of_a_stage_no_longer_in_the_pipeline() -> None:
    doc = stored(small().process(ARTICLE))
    out, _ = build(TextStage, CapitalsStage).reprocess(doc)
    assert "count" not in out.extensions
    assert [r.stage for r in out.runs] == ["strip", "capitals"]


def test_reprocess_refuses_a_text_change_on_a_document_that_came_from_html(
        pipeline: Pipeline) -> None:
    html = "<html><body><article><h1>Talks</h1><p>" + "Alice met Bob in Paris. " * 20 + \
        "</p></article></body></html>"
    doc = stored(pipeline.process(Article(html=html)))
    changed = Pipeline.build(Settings(stage={"cleaning": {"classifier_on_html": True}}))
    with pytest.raises(ReprocessError, match="HTML"):
        changed.reprocess(doc)


def test_reprocess_keeps_the_extension_order_of_a_fresh_run() -> None:
    doc = stored(small().process(ARTICLE))
    doc.extensions = {"count": doc.extensions["count"], "other": 1}
    out, _ = build(TextStage, VersionedCapitals, CountStage).reprocess(doc)
    assert list(out.extensions) == ["count", "other"]


#: A config change for each built-in stage that changes what it writes on the corpus.
CHANGES = {
    "cleaning": {"classifier": False, "max_block_lines": 2},
    "entities": {"labels": ["PERSON"]},
    "numbers": {"counted_nouns": False, "resolve_dates": False},
    "quotes": {"indirect": False},
    "summary": {"sentences": 2},
}


@pytest.mark.slow
@pytest.mark.parametrize("stage", sorted(CHANGES))
def test_reprocessed_corpus_articles_equal_a_fresh_run(pipeline: Pipeline, stage: str) -> None:
    articles = corpus_articles(12)
    originals = [stored(d) for d in pipeline.process_many(articles)]
    changed = Pipeline.build(Settings(stage={stage: CHANGES[stage]}))
    fresh = changed.process_many(articles)
    plans = [changed.plan(d) for d in originals]
    assert all(p.state_of(stage).label == "stale (config)" for p in plans)  # type: ignore[union-attr]
    dependents = {s.stage for p in plans for s in p.stages if s.state != "current"}
    reprocessed = changed.reprocess_many([stored(d) for d in originals])
    assert sum(timings_aside(o) != timings_aside(r) for o, (r, _) in
               zip(originals, reprocessed, strict=True)) > 0, "the change changed nothing"
    for original, (out, plan), new in zip(originals, reprocessed, fresh, strict=True):
        assert timings_aside(out) == timings_aside(new)
        kept = [r for r in original.runs if r.stage not in plan.to_run]
        assert [r for r in out.runs if r.stage not in plan.to_run] == kept
        untouched = {"headings", "entities", "numbers", "quotes", "summary"} - {
            cap for s in changed.stages if s.name in dependents for cap in s.stage.provides}
        for layer in untouched:
            assert json.dumps(original.model_dump(mode="json")[layer]) == \
                json.dumps(out.model_dump(mode="json")[layer])
