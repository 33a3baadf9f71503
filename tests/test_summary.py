"""Specification of the summary stage: whole prose sentences, in order, configurable length."""

from __future__ import annotations

import json
import math
import re

import pytest
from copydesk import Pipeline, Settings
from copydesk.document import Article, Document, Heading
from copydesk.plugins.summary import SummaryConfig, SummaryStage, features
from copydesk.plugins.summary.features import candidates, is_furniture, stamp_length

from tests.conftest import shared_path

#: The heading lines of the sample article, marked by hand until the cleaning stage does it.
SAMPLE_HEADINGS = [
    ("Russia and Ukraine Set for New Peace Talks in Turkey, But Hopes Remain Low", 1),
    ("No Clear Signs of Compromise from Either Side", 2),
    ("Escalation on the Ground Ahead of Talks", 2),
    ("Outlook for Peace Talks Remains Grim", 2),
    ("Conclusion", 2),
]
FURNITURE_LINES = [
    "(Photo by Ukrainian Presidency / Handout/Anadolu via Getty Images)",
    "Tags",
    "Post a Comment",
    "0 Comments",
    "* Please Don't Spam Here. All the Comments are Reviewed by Admin.",
]


@pytest.fixture(scope="module")
def summary_pipeline() -> Pipeline:
    built = Pipeline.build(Settings(pipeline={"stages": ["summary"]}))  # type: ignore[arg-type]
    built.setup()
    return built


@pytest.fixture(scope="module")
def stage(summary_pipeline: Pipeline) -> SummaryStage:
    found = next(b.stage for b in summary_pipeline.stages if b.name == "summary")
    assert isinstance(found, SummaryStage)
    return found


def with_headings(article: Article) -> Document:
    doc = Document.from_article(article)
    for line, level in SAMPLE_HEADINGS:
        start = doc.text.index(line + "\n")
        doc.headings.append(
            Heading(start=start, end=start + len(line), text=line, level=level)
        )
    return doc


@pytest.fixture(scope="module")
def sampled(summary_pipeline: Pipeline, sample_article: Article) -> Document:
    """The sample with its headings marked, parsed once by the shared parse."""
    doc = with_headings(sample_article)
    summary_pipeline.services.shared_parse.parse_many([doc])
    return doc


def summarize(pipeline: Pipeline, doc: Document) -> Document:
    return pipeline.process(doc)


def test_sample_summary_is_three_sentences_in_article_order_with_valid_offsets(
    summary_pipeline: Pipeline, sample_article: Article
) -> None:
    doc = summarize(summary_pipeline, with_headings(sample_article))
    assert doc.summary is not None
    picked = doc.summary.sentences
    assert len(picked) == 3
    assert [s.start for s in picked] == sorted(s.start for s in picked)
    assert all(doc.text[s.start:s.end] == s.text for s in picked)
    assert doc.offset_problems() == []
    assert doc.summary.text == " ".join(s.text for s in picked)


def test_sample_summary_never_picks_a_heading_or_furniture(
    summary_pipeline: Pipeline, sample_article: Article
) -> None:
    doc = summarize(summary_pipeline, with_headings(sample_article))
    assert doc.summary is not None
    for sentence in doc.summary.sentences:
        assert not any(h.start < sentence.end and sentence.start < h.end for h in doc.headings)
        assert not any(line in sentence.text or sentence.text in line for line in FURNITURE_LINES)
        assert sentence.text.rstrip("\"'”’)").endswith((".", "!", "?"))


def test_full_pipeline_summary_of_the_sample_is_three_prose_sentences(sample_doc: Document) -> None:
    assert sample_doc.summary is not None
    picked = sample_doc.summary.sentences
    assert len(picked) == 3
    assert [s.start for s in picked] == sorted(s.start for s in picked)
    for sentence in picked:
        assert sample_doc.text[sentence.start:sentence.end] == sentence.text
        assert not any(h.start < sentence.end and sentence.start < h.end
                       for h in sample_doc.headings)
        assert not any(line in sentence.text for line in FURNITURE_LINES)


def test_heading_lines_are_not_picked_even_when_no_stage_marked_them(
    stage: SummaryStage, summary_pipeline: Pipeline, sample_article: Article
) -> None:
    doc = Document.from_article(sample_article)
    summary_pipeline.services.shared_parse.parse_many([doc])
    picked = stage.summarize(doc, ratio=1.0)
    texts = [s.text for s in picked.sentences]
    assert texts, "the article has prose sentences"
    for line, _ in SAMPLE_HEADINGS:
        assert line not in texts
    for line in FURNITURE_LINES:
        assert not any(line in t for t in texts)


def test_a_dateline_opening_the_article_is_left_out_of_the_picked_sentence(
    summary_pipeline: Pipeline, sample_article: Article
) -> None:
    doc = summarize(summary_pipeline, with_headings(sample_article))
    assert doc.summary is not None
    first = doc.summary.sentences[0]
    assert first.text.startswith("Delegates from Ukraine and Russia are scheduled")
    assert doc.text[first.start - len("Istanbul, Turkey — "):first.start] == "Istanbul, Turkey — "


def test_same_article_gives_the_same_summary(
    summary_pipeline: Pipeline, sample_article: Article
) -> None:
    first = summarize(summary_pipeline, with_headings(sample_article))
    second = summarize(summary_pipeline, with_headings(sample_article))
    assert first.summary is not None and second.summary is not None
    assert first.summary.model_dump() == second.summary.model_dump()


def test_sentence_count_sets_the_length(stage: SummaryStage, sampled: Document) -> None:
    assert len(stage.summarize(sampled, sentences=1).sentences) == 1
    assert len(stage.summarize(sampled, sentences=5).sentences) == 5


def test_ratio_picks_that_share_of_the_eligible_sentences(
    stage: SummaryStage, summary_pipeline: Pipeline, sampled: Document
) -> None:
    eligible = [
        c for c in candidates(summary_pipeline.services.parse(sampled), sampled.text,
                              [(h.start, h.end) for h in sampled.headings])
        if c.eligible
    ]
    picked = stage.summarize(sampled, ratio=0.25).sentences
    assert len(picked) == math.ceil(0.25 * len(eligible))


def test_word_budget_caps_the_summary_length(stage: SummaryStage, sampled: Document) -> None:
    summary = stage.summarize(sampled, max_words=60)
    words = [w for w in summary.text.split() if re.search(r"\w", w)]
    assert summary.sentences and len(words) <= 60
    assert len(stage.summarize(sampled, max_words=1).sentences) == 1


def test_config_accepts_one_length_mode_only() -> None:
    assert SummaryConfig(ratio=0.3).ratio == 0.3
    with pytest.raises(ValueError, match="at most one"):
        SummaryConfig(ratio=0.3, max_words=50)


def test_near_duplicate_sentences_are_not_both_picked(summary_pipeline: Pipeline) -> None:
    lead = (
        "Delegates from Ukraine and Russia are scheduled to meet again in Istanbul for a new "
        "round of peace negotiations aimed at ending the prolonged conflict."
    )
    repeat = (
        "Delegates from Russia and Ukraine are scheduled to meet again in Istanbul for a new "
        "round of peace negotiations aimed at ending the long conflict."
    )
    rest = (
        "The meeting is set for Monday at 1:00 PM local time at the historic Çırağan Palace. "
        "Neither Moscow nor Kyiv has signaled any significant shift in their positions. "
        "Ukrainian forces launched a major drone offensive, striking airfields in five regions."
    )
    doc = summarize(summary_pipeline, Document.from_article(
        Article(text=f"{lead} {repeat} {rest}")))
    assert doc.summary is not None
    texts = [s.text for s in doc.summary.sentences]
    assert len(texts) == 3
    assert not (lead in texts and repeat in texts)


def test_furniture_lines_are_recognised_and_prose_is_not() -> None:
    for line in FURNITURE_LINES[:1] + FURNITURE_LINES[2:]:
        assert is_furniture(line), line
    assert not is_furniture(
        "By the end of March, the retailer said sales had risen 4% to $2.3bn."
    )
    assert not is_furniture("Comments made by the minister on Monday angered the unions.")


def test_an_editors_note_and_opinion_disclaimer_are_furniture() -> None:
    assert is_furniture("Editor's note: Ines Varga writes about transport for several papers.")
    assert is_furniture("The views expressed in this column are those of Ms Varga alone.")
    assert not is_furniture("The editor's note was withdrawn after complaints from readers.")


def test_a_time_stamp_opening_the_article_is_left_out_of_the_first_sentence(
    stage: SummaryStage, summary_pipeline: Pipeline
) -> None:
    lead = ("Retired harbour pilot Agnes Moreau is in hospital in Marseille after a fall "
            "at her home.")
    doc = Document.from_article(Article(text=f"updated 6:05 PM GMT, Fri March 3, 2023 {lead}"))
    summary_pipeline.services.shared_parse.parse_many([doc])
    picked = stage.summarize(doc, sentences=1).sentences
    assert [s.text for s in picked] == [lead]
    assert doc.text[picked[0].start:picked[0].end] == lead


def test_stamp_length_needs_a_clock_time_or_a_dated_month_before_a_capital() -> None:
    assert stamp_length("03/14/2021 AT 11:20 AM PST Like many small bakers, he starts early.") == 27
    assert stamp_length("June 8, 2017 was polling day across the country.") == 0
    assert stamp_length("2019 prize winners were named on Sunday.") == 0


def test_a_long_sentence_whose_verb_the_tagger_missed_is_still_prose(
    summary_pipeline: Pipeline,
) -> None:
    prose = ("The region, with a population of nearly four million, exports about 2.5 million "
             "tonnes of wheat every year.")
    team = ("Moreno, Castillo, Berg (Okafor 60), Lindqvist, Duarte, Abara, Kessler (Ng 71), "
            "Rowe, Tamura, Vidal, Osei (Park 84).")
    for text, eligible in ((prose, True), (team, False)):
        doc = Document.from_article(Article(text=text))
        parsed = summary_pipeline.services.parse(doc)
        assert [c.eligible for c in candidates(parsed, doc.text)] == [eligible], text


def test_a_sentence_pointing_at_a_photo_is_flagged_and_ranked_down(
    summary_pipeline: Pipeline,
) -> None:
    pointer = ("Retired harbour pilot Agnes Moreau (pictured) is in hospital in Marseille after "
               "a fall at her home.")
    plain = pointer.replace(" (pictured)", "")
    for text, flagged in ((pointer, True), (plain, False)):
        doc = Document.from_article(Article(text=text))
        parsed = summary_pipeline.services.parse(doc)
        assert [c.pictured for c in candidates(parsed, doc.text)] == [flagged]
    assert SummaryConfig().weights.pictured > 0


def test_article_without_prose_gets_an_empty_summary(summary_pipeline: Pipeline) -> None:
    doc = summarize(summary_pipeline, Document.from_article(Article(text="Tags\n\n0 Comments")))
    assert doc.summary is not None
    assert doc.summary.sentences == [] and doc.summary.text == ""


#: Articles of each gold set's development half (its even lines) in the quality floor.
FLOOR_ARTICLES = 40


def development_rows(name: str, count: int) -> list[dict[str, object]]:
    """The first ``count`` articles of the development half of a summary gold set."""
    path = shared_path("eval", "summaries", name)
    lines = path.read_text(encoding="utf-8").splitlines()[::2][:count]
    return [json.loads(line) for line in lines]


@pytest.mark.slow
def test_summary_beats_lead_three_computed_in_the_same_run(
    stage: SummaryStage, summary_pipeline: Pipeline
) -> None:
    """Three picked sentences against two baselines on the same parses: the article's
    first three sentences, and the first three sentences the stage deems eligible (the
    stage with its ranker replaced by lead-3, which must not pass)."""
    rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2"], use_stemmer=True)
    totals: dict[str, list[float]] = {}

    def record(method: str, summary: str, references: list[str]) -> None:
        best = [0.0, 0.0]
        for reference in references:
            result = scorer.score(reference, summary)
            best = [max(best[0], result["rouge1"].fmeasure),
                    max(best[1], result["rouge2"].fmeasure)]
        totals.setdefault(method, [0.0, 0.0, 0.0])
        totals[method][0] += best[0]
        totals[method][1] += best[1]
        totals[method][2] += 1

    for name in ("bbc-news-summary.jsonl", "cnndm-newsroom.jsonl"):
        rows = development_rows(name, FLOOR_ARTICLES)
        docs = [Document.from_article(Article(text=str(r["text"]), title=r.get("title")))
                for r in rows]
        summary_pipeline.services.shared_parse.parse_many(docs)
        for row, doc in zip(rows, docs, strict=True):
            references = list(row.get("references") or [row["reference"]])  # type: ignore[call-overload]
            parsed = summary_pipeline.services.parse(doc)
            first = [s.text.strip() for s in parsed.sents if s.text.strip()][:3]
            eligible = [c.text for c in candidates(parsed, doc.text) if c.eligible][:3]
            record("lead-3", " ".join(first), references)
            record("eligible lead-3", " ".join(eligible), references)
            record("copydesk", stage.summarize(doc, sentences=3).text, references)
            summary_pipeline.services.shared_parse.release(doc)
    means = {m: (r1 / n, r2 / n) for m, (r1, r2, n) in totals.items()}
    print({m: f"R1 {r1:.4f} R2 {r2:.4f}" for m, (r1, r2) in means.items()})
    ours = means.pop("copydesk")
    for method, (r1, r2) in means.items():
        assert ours[0] > r1 and ours[1] > r2, method


def test_only_the_first_max_candidates_eligible_sentences_compete(
    summary_pipeline: Pipeline, sampled: Document
) -> None:
    parsed = summary_pipeline.services.parse(sampled)
    spans = [(h.start, h.end) for h in sampled.headings]
    every = candidates(parsed, sampled.text, spans)
    capped = candidates(parsed, sampled.text, spans, max_candidates=4)
    assert [c.index for c in capped if c.eligible] == [c.index for c in every if c.eligible][:4]
    assert {c.reason for c in capped if not c.eligible} >= {"beyond the first 4 eligible sentences"}


def test_names_and_figures_are_counted_inside_their_own_sentence(
    summary_pipeline: Pipeline, sampled: Document
) -> None:
    parsed = summary_pipeline.services.parse(sampled)
    for cand in candidates(parsed, sampled.text):
        if not cand.eligible:
            continue
        names = {key for s, e, key in features.entity_mentions(parsed, None)
                 if s >= cand.start and e <= cand.end}
        figures = [s for s in features.number_mentions(parsed, None) if cand.start <= s < cand.end]
        assert cand.entities == names and cand.numbers == len(figures)
