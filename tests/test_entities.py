"""The entities stage: canonical names, the small model's error classes on news, user
patterns, headings, offsets, and a quality floor on CoNLL-2003.

Sentences come from the sample article (tests/data/istanbul-peace-talks.txt) or are
written for these tests, in the style of wire copy.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from copydesk import Article, Document, Pipeline, PipelineError, Settings
from copydesk.document import Entity, Heading
from copydesk.nlp import ModelNotInstalled, SharedParse, load_model
from copydesk.plugins.entities import EntitiesConfig, EntitiesStage
from copydesk.plugins.entities.canonical import Mention, canonicalize
from copydesk.settings import DEFAULT_SPACY_MODEL
from copydesk.stage import Services

from tests.conftest import shared_path

Run = Callable[..., list[Entity]]


@pytest.fixture(scope="module")
def services() -> Services:
    return Services(SharedParse(DEFAULT_SPACY_MODEL))


@pytest.fixture(scope="module")
def run(services: Services) -> Run:
    """Run the stage on clean text: ``run(text, headings=[...], **config)``."""
    stages: dict[str, EntitiesStage] = {}

    def entities(text: str, headings: list[str] | None = None, **config: Any) -> list[Entity]:
        key = json.dumps(config, sort_keys=True, default=str)
        if key not in stages:
            stages[key] = EntitiesStage(EntitiesConfig(**config), services)
            stages[key].setup()
        doc = Document(id="test", raw_text=text, text=text)
        for heading in headings or []:
            start = text.index(heading)
            doc.headings.append(Heading(start=start, end=start + len(heading), text=heading))
        stages[key].process(doc)
        services.shared_parse.release(doc)
        return doc.entities

    return entities


def found(entities: list[Entity]) -> set[tuple[str, str]]:
    return {(e.text, e.label) for e in entities}


def texts(entities: list[Entity]) -> set[str]:
    return {e.text for e in entities}


# -- canonical names -------------------------------------------------------------------


def test_mentions_of_one_person_share_the_longest_full_name(run: Run, sample_text: str) -> None:
    entities = run(sample_text)
    canonical = {e.text: e.canonical for e in entities if e.label == "PERSON"}
    assert canonical["Zelenskyy"] == "Volodymyr Zelenskyy"
    assert canonical["Volodymyr Zelenskyy"] == "Volodymyr Zelenskyy"
    assert canonical["Putin"] == "Vladimir Putin"


def test_canonical_name_drops_titles_and_possessive() -> None:
    mentions = [
        Mention("Volodymyr Zelenskyy", "PERSON", 0),
        Mention("President Zelenskyy", "PERSON", 50),
        Mention("Zelenskyy’s", "PERSON", 90),
    ]
    assert canonicalize(mentions, titles=["president"]) == ["Volodymyr Zelenskyy"] * 3


def test_short_name_resolves_to_the_nearest_full_name_before_it() -> None:
    mentions = [
        Mention("Vladimir Putin", "PERSON", 0),
        Mention("Vladimir Medinsky", "PERSON", 100),
        Mention("Vladimir", "PERSON", 150),
    ]
    assert canonicalize(mentions)[2] == "Vladimir Medinsky"


def test_acronym_takes_the_name_it_abbreviates(run: Run) -> None:
    text = (
        "Quellmark must restate two years of accounts after a review by the Serious Fraud "
        "Office (SFO) found gaps in its books."
    )
    sfo = [e for e in run(text) if e.text == "SFO"]
    assert sfo and sfo[0].canonical == "Serious Fraud Office"


def test_organisation_short_name_takes_its_full_name_with_a_generic_suffix() -> None:
    mentions = [Mention("Labour Party", "ORG", 0), Mention("Labour", "ORG", 40),
                Mention("AOL Europe", "ORG", 80), Mention("AOL", "ORG", 120)]
    names = canonicalize(mentions, org_suffixes=["party", "corp"])
    assert names == ["Labour Party", "Labour Party", "AOL Europe", "AOL"]


def test_honorific_makes_a_person_whatever_the_model_label(run: Run) -> None:
    text = (
        "State prosecutor Helena Marsh said former sales director Daniel Okafor had admitted "
        "forging invoices. Mr Okafor faces up to three years in prison. Ms Marsh's office "
        "said Mr Okafor would testify against two colleagues."
    )  # the bare model labels the second "Mr Okafor" GPE here
    okafor = [e for e in run(text) if "Okafor" in e.text]
    assert [(e.label, e.canonical) for e in okafor] == [("PERSON", "Daniel Okafor")] * 3


def test_name_found_once_is_found_again_where_the_model_missed_it(run: Run) -> None:
    text = (
        "Norwegian shipping group Holtveit may sue the port authority after a crane collapse "
        "halted loading. Holtveit handles four out of every ten containers passing through "
        "the harbour."
    )  # the bare model finds only the first "Holtveit" (and calls it a place)
    assert [e.label for e in run(text) if e.text == "Holtveit"] == ["ORG", "ORG"]


def test_pattern_id_is_the_canonical_name(run: Run) -> None:
    text = (
        "The talks are reportedly being facilitated at the request of former U.S. President "
        "Donald Trump, who has expressed interest in brokering a ceasefire."
    )
    us = [e for e in run(text) if e.text == "U.S."]
    assert us and us[0].canonical == "United States"


# -- the small model's error classes on news -------------------------------------------


def test_headline_words_are_not_a_person(run: Run) -> None:
    headline = "Russia and Ukraine Set for New Peace Talks in Turkey, But Hopes Remain Low"
    entities = run(headline)
    assert not [e for e in entities if e.label == "PERSON"]
    assert ("Turkey", "GPE") in found(entities)


def test_entities_inside_headings_are_dropped(run: Run) -> None:
    heading = "Escalation on the Ground Ahead of Talks"
    text = (
        f"{heading}\n\nUkrainian forces launched a major drone offensive, striking military "
        "airfields in five Russian regions."
    )
    entities = run(text, headings=[heading])
    assert all(e.start >= len(heading) for e in entities)
    assert ("Ukrainian", "NORP") in found(entities)


def test_capitalised_sentence_adverb_is_not_a_place(run: Run) -> None:
    entities = run("However, Ukraine also suffered heavy losses over the weekend.")
    assert "However" not in texts(entities)
    assert ("Ukraine", "GPE") in found(entities)


def test_title_word_is_not_an_organisation_and_the_name_after_it_is_a_person(run: Run) -> None:
    entities = run("Ukraine’s team will be led by Defense Minister Rustem Umerov.")
    assert "Defense" not in texts(entities)
    assert ("Rustem Umerov", "PERSON") in found(entities)


def test_time_zone_is_not_an_organisation(run: Run) -> None:
    text = (
        "The meeting is set for Monday at 1:00 PM local time (1000 GMT) at the historic "
        "Çırağan Palace on the Bosphorus."
    )
    assert "GMT" not in texts(run(text))


def test_strait_after_the_is_a_place_not_a_person(run: Run) -> None:
    text = (
        "The meeting is set for Monday at 1:00 PM local time (1000 GMT) at the historic "
        "Çırağan Palace on the Bosphorus."
    )
    # without the gazetteer too: a one-word "person" with "the" is a place
    for config in ({}, {"builtin_patterns": False}):
        assert ("Bosphorus", "LOC") in found(run(text, **config))


def test_city_coordinated_with_a_city_is_a_place_not_a_person(run: Run) -> None:
    text = "Neither Moscow nor Kyiv has signaled any significant shift in their positions."
    for config in ({}, {"builtin_patterns": False}):
        assert ("Kyiv", "GPE") in found(run(text, **config))


# -- what a name stands for, from its context --------------------------------------------


def test_towns_that_beat_each_other_in_a_sports_report_are_clubs(run: Run) -> None:
    text = (
        "Harrogate beat Stevenage 2-1 in the league on Saturday, with both goals from the "
        "striker Tom Bell. Stevenage's coach said his squad had played its worst match of "
        "the season."
    )  # the bare model misses "Harrogate"
    entities = found(run(text))
    assert {("Harrogate", "ORG"), ("Stevenage", "ORG"), ("Tom Bell", "PERSON")} <= entities


def test_the_same_town_outside_a_sports_report_stays_a_place(run: Run) -> None:
    text = "Flooding closed two schools in Harrogate on Saturday, the council said."
    assert ("Harrogate", "GPE") in found(run(text))


def test_every_side_of_a_result_line_is_a_club_even_where_the_model_saw_nothing(
    run: Run,
) -> None:
    text = (
        "Results of fifth-division matches on Saturday:\n"
        "Harrogate 2 Morecambe 1\n"
        "Stevenage 0 Gateshead 3"
    )  # the bare model reads a whole line as one name and misses others
    assert found(run(text)) == {("Harrogate", "ORG"), ("Morecambe", "ORG"),
                                ("Stevenage", "ORG"), ("Gateshead", "ORG")}


def test_a_club_word_makes_a_club_whatever_the_model_label(run: Run) -> None:
    entities = run("Leeds United signed the midfielder on a three-year contract on Friday.")
    assert ("Leeds United", "ORG") in found(entities)  # the bare model: PERSON


def test_a_plural_nickname_in_a_sports_report_is_a_club(run: Run) -> None:
    text = ("The Gunners have won four league matches in a row, and their coach said the "
            "squad was fitter than last season.")
    assert ("Gunners", "ORG") in found(run(text))


def test_a_country_playing_a_country_stays_a_place(run: Run) -> None:
    text = "Brazil beat Norway 3-0 in the cup on Sunday, their coach said after the match."
    assert {("Brazil", "GPE"), ("Norway", "GPE")} <= found(run(text))


def test_a_ground_named_with_a_venue_word_is_a_facility(run: Run) -> None:
    entities = run("The cup final will be played at Millbrook Stadium in May, the league said.")
    assert ("Millbrook Stadium", "FAC") in found(entities)


def test_companies_named_like_people_or_places_are_organisations(run: Run) -> None:
    text = ("Shares in carmaker Ostmark AG fell 4 percent on Monday, while mineral water firm "
            "Quellhof said its profits had doubled.")  # the bare model: Quellhof PERSON
    assert {("Ostmark AG", "ORG"), ("Quellhof", "ORG")} <= found(run(text))


def test_the_town_opening_a_dateline_is_a_place(run: Run) -> None:
    text = "BARNAUL, Russia 2024-05-02\nFlooding cut off the town on Tuesday, officials said."
    assert ("BARNAUL", "GPE") in found(run(text))  # the bare model: ORG


def test_an_initial_and_a_surname_is_a_person(run: Run) -> None:
    text = ("The visitors were bowled out for 212 , with K. Lindqvist taking four wickets "
            "and R. Osei scoring 61 .")  # the bare model: "K. Lindqvist" ORG
    assert {("K. Lindqvist", "PERSON"), ("R. Osei", "PERSON")} <= found(run(text))


@pytest.mark.slow
def test_sports_reports_are_told_from_other_news_on_the_corpus(services: Services) -> None:
    """The club rules only apply to sports reports: on the BBC corpus (its own category
    labels), at most one in fifty articles of the other sections is taken for one, and
    most sport articles are recognised."""
    from copydesk.plugins.entities.roles import sports_document
    from copydesk.plugins.entities.rules import BUILTIN_STOPLISTS, StopLists

    corpus = shared_path("corpus", "bbc-news-2005.jsonl")
    rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines()]
    stops = StopLists.load([BUILTIN_STOPLISTS])
    nlp = services.nlp_for("en")
    taken: dict[bool, list[bool]] = {True: [], False: []}
    sample = rows[::8]
    for row in sample:  # the words are enough: tokenize only
        taken[row["category"] == "sport"].append(sports_document(nlp.make_doc(row["text"]), stops))
    others, sport = taken[False], taken[True]
    print(f"sports reports: {sum(sport)}/{len(sport)} sport, {sum(others)}/{len(others)} other")
    assert sum(others) <= len(others) / 50
    assert sum(sport) >= len(sport) / 2


def test_page_furniture_is_not_an_entity(run: Run) -> None:
    text = "Tags\n\nPost a Comment\n\n* Please Don't Spam Here. All the Comments are Reviewed by Admin."
    assert run(text) == []


def test_configured_labels_choose_what_is_kept(run: Run) -> None:
    text = (
        "The Russian delegation will be led by Vladimir Medinsky, a senior aide to Putin who "
        "was involved in previous negotiations back in 2022."
    )
    assert {e.label for e in run(text, labels=["PERSON", "DATE"])} == {"PERSON", "DATE"}


def test_dates_and_numbers_are_left_to_the_numbers_stage(run: Run) -> None:
    text = (
        "The Russian delegation will be led by Vladimir Medinsky, a senior aide to Putin who "
        "was involved in previous negotiations back in 2022."
    )
    labels = {e.label for e in run(text)}
    assert labels == {"NORP", "PERSON"}


# -- user patterns ---------------------------------------------------------------------


def write_patterns(path: Path, *patterns: dict[str, Any]) -> Path:
    path.write_text("\n".join(json.dumps(p, ensure_ascii=False) for p in patterns) + "\n",
                    encoding="utf-8")
    return path


def test_user_pattern_overrides_the_model_label_and_canonical(run: Run, tmp_path: Path) -> None:
    patterns = write_patterns(
        tmp_path / "venues.jsonl",
        {"label": "VENUE", "pattern": "Çırağan Palace", "id": "Çırağan Palace Kempinski"},
    )
    text = "The meeting is set for Monday at the historic Çırağan Palace on the Bosphorus."
    palace = [e for e in run(text, patterns_file=patterns) if e.text == "Çırağan Palace"]
    assert [(e.label, e.canonical) for e in palace] == [("VENUE", "Çırağan Palace Kempinski")]


def test_user_token_pattern_adds_an_entity_the_model_missed(run: Run, tmp_path: Path) -> None:
    patterns = write_patterns(
        tmp_path / "agencies.jsonl",
        {"label": "ORG", "pattern": [{"LOWER": "intelligence"}, {"LOWER": "service"}]},
    )
    text = (
        "According to Ukraine’s intelligence service, the attacks caused an estimated "
        "$7 billion (€6.17 billion) in damages and destroyed 41 Russian aircraft."
    )
    assert "intelligence service" not in texts(run(text))
    assert ("intelligence service", "ORG") in found(run(text, patterns_file=patterns))


def test_malformed_patterns_file_is_refused_at_build_naming_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"label": "ORG", "pattern": "Kremlin"}\n{"label": "ORG"}\n', encoding="utf-8")
    settings = Settings(pipeline={"stages": ["entities"]},
                        stage={"entities": {"patterns_file": str(bad)}})
    with pytest.raises(PipelineError, match=r"bad\.jsonl:2"):
        Pipeline.build(settings)


# -- the contract ----------------------------------------------------------------------


def test_offsets_point_at_the_entity_text(run: Run, sample_text: str) -> None:
    doc = Document(id="offsets", raw_text=sample_text, text=sample_text)
    doc.entities = run(sample_text)
    assert doc.entities
    assert doc.offset_problems() == []
    assert all(e.text == e.text.strip() and "\n" not in e.text for e in doc.entities)


def test_after_cleaning_the_sample_keeps_people_places_and_no_error_class(
    sample_text: str,
) -> None:
    pipeline = Pipeline.build(Settings(pipeline={"stages": ["cleaning", "entities"]}))
    doc = pipeline.process(Article(text=sample_text))
    assert [r.status for r in doc.runs] == ["ok", "ok"]
    people = {e.canonical for e in doc.entities if e.label == "PERSON"}
    assert people == {"Donald Trump", "Volodymyr Zelenskyy", "Vladimir Putin",
                      "Vladimir Medinsky", "Rustem Umerov"}
    assert {"Kyiv", "Bosphorus", "Istanbul"} <= {
        e.text for e in doc.entities if e.label in ("GPE", "LOC")
    }
    assert not texts(doc.entities) & {"Hopes Remain Low", "However", "Defense", "GMT",
                                      "Admin", "Tags", "Getty Images"}


def test_missing_model_names_the_package_to_install() -> None:
    with pytest.raises(ModelNotInstalled, match=r"pip install en-core-web-zz"):
        load_model("en_core_web_zz")


# -- quality ---------------------------------------------------------------------------


@pytest.mark.slow
def test_stage_beats_the_bare_model_on_a_conll_slice() -> None:
    from bench.eval_ner import evaluate

    gold = shared_path("eval", "ner", "conll2003-eng.testa")
    tallies = evaluate(gold, limit=40)
    ours, bare = tallies["copydesk"].scores()[2], tallies["spacy"].scores()[2]
    print(f"CoNLL dev, first 40 documents: copydesk F1 {ours:.3f}, bare spaCy F1 {bare:.3f}")
    assert ours >= 0.60
    assert ours > bare
