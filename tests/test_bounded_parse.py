"""The parse costs linear time whatever the text: the bounded tokenizer and the long-text
split keep every token's offset right and change ordinary text in nothing.

No timing here (the benchmark bench/adversarial.py measures); these inputs used to take
minutes, so a regression shows as a suite that does not finish."""

from __future__ import annotations

import pytest
from copydesk.document import Article
from copydesk.longparse import TextTooLong, cut_points, parse_texts, pieces
from copydesk.nlp import load_model
from copydesk.settings import DEFAULT_SPACY_MODEL
from copydesk.tokenguard import MAX_RUN, MAX_SPAN, BoundedTokenizer

PROSE = (
    "The minister said on Tuesday that talks would resume. \"We are close,\" she told "
    "reporters in Istanbul.\n\nOfficials from both sides met for three hours. Prices rose "
    "2.5% in May, the statistics office said.\n"
)


@pytest.fixture(scope="module")
def nlp():  # type: ignore[no-untyped-def]
    return load_model(DEFAULT_SPACY_MODEL)


def assert_offsets_exact(doc, text: str) -> None:  # type: ignore[no-untyped-def]
    assert doc.text == text
    for token in doc:
        assert text[token.idx:token.idx + len(token.text)] == token.text


def test_loaded_pipelines_tokenize_with_the_bounded_tokenizer(nlp) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(nlp.tokenizer, BoundedTokenizer)


def test_ordinary_text_is_tokenized_exactly_as_spacy_does(nlp) -> None:  # type: ignore[no-untyped-def]
    bounded = nlp.tokenizer
    assert [(t.text, t.whitespace_) for t in bounded(PROSE)] == \
        [(t.text, t.whitespace_) for t in bounded.inner(PROSE)]


@pytest.mark.parametrize("text", [
    '"' * 20_000,
    "[" * 20_000,
    "$%" * 10_000,
    "“—" * 10_000,
    "'s" * 10_000,
    "a:" * 10_000,
    "1234567890" * 20_000,
    "a" * 200_000 + "!",
], ids=["quotes", "brackets", "dollar-percent", "curly-dash", "apostrophe-s", "colons",
        "digits", "one-long-word"])
def test_a_pathological_span_keeps_exact_offsets(nlp, text: str) -> None:  # type: ignore[no-untyped-def]
    doc = nlp.tokenizer("Before it. " + text + " After it.")
    assert_offsets_exact(doc, "Before it. " + text + " After it.")
    assert max(len(t) for t in doc) <= MAX_SPAN
    assert [t.text for t in doc[-3:]] == ["After", "it", "."]


def test_a_punctuation_run_becomes_few_tokens_not_one_per_mark(nlp) -> None:  # type: ignore[no-untyped-def]
    doc = nlp.tokenizer('He said ' + '"' * 1600 + ' and left.')
    marks = [t for t in doc if t.text.startswith('"')]
    assert len(marks) == 1600 // MAX_RUN
    assert doc[1].whitespace_ == " " and marks[-1].whitespace_ == " "


def test_short_punctuation_runs_are_left_to_spacy(nlp) -> None:  # type: ignore[no-untyped-def]
    text = 'Really?!" he asked... (sic) -- "no".'
    assert [t.text for t in nlp.tokenizer(text)] == [t.text for t in nlp.tokenizer.inner(text)]


def test_bounded_tokenizer_refuses_limits_that_cannot_work(nlp) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        BoundedTokenizer(nlp.tokenizer.inner, max_run=MAX_RUN, max_span=MAX_RUN - 1)


def test_long_text_is_cut_just_after_paragraph_breaks() -> None:
    text = (PROSE + "\n") * 200
    cuts = cut_points(text, 2_000)
    assert cuts and all(text[c - 1] == "\n" and not text[c].isspace() for c in cuts)
    assert all(len(p) <= 2_000 for p in pieces(text, 2_000))
    assert "".join(pieces(text, 2_000)) == text


def test_text_without_newlines_is_cut_after_sentence_ends() -> None:
    text = "The talks went on for a long time. " * 400
    cuts = cut_points(text, 2_000)
    assert cuts and all(text[c - 2:c] == ". " for c in cuts)


def test_text_without_sentence_ends_is_cut_at_spaces_then_anywhere() -> None:
    words = "word " * 1_000
    assert all(words[c - 1] == " " for c in cut_points(words, 2_000))
    solid = "x" * 5_000
    assert cut_points(solid, 2_000) == [2_000, 4_000]


def test_a_long_text_parsed_in_pieces_matches_the_whole_parse(nlp) -> None:  # type: ignore[no-untyped-def]
    text = (PROSE + "\n") * 40
    whole = nlp(text)
    split = next(parse_texts(nlp, [text], max_chars=1_500))
    assert_offsets_exact(split, text)
    assert [t.text for t in split] == [t.text for t in whole]
    assert [(s.start_char, s.end_char) for s in split.sents] == \
        [(s.start_char, s.end_char) for s in whole.sents]
    assert [(e.start_char, e.end_char, e.label_) for e in split.ents] == \
        [(e.start_char, e.end_char, e.label_) for e in whole.ents]


def test_parse_texts_keeps_the_input_order_around_long_texts(nlp) -> None:  # type: ignore[no-untyped-def]
    texts = ["Short one.", (PROSE + "\n") * 20, "Short two.", "Short three."]
    assert [d.text for d in parse_texts(nlp, texts, max_chars=1_000)] == texts


def test_a_wall_of_quote_marks_goes_through_the_whole_pipeline_with_valid_offsets(
    pipeline,  # type: ignore[no-untyped-def]
) -> None:
    text = PROSE + '"' * 20_000 + "\n\n" + "[" * 20_000 + "\n\n" + PROSE
    doc = pipeline.process(Article(text=text))
    assert doc.offset_problems() == []
    assert {r.stage: r.status for r in doc.runs}.get("entities") == "ok"
    assert any(e.text == "Istanbul" for e in doc.entities)


def test_a_text_over_the_token_limit_is_refused_before_it_is_parsed(nlp) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TextTooLong, match=r"has [\d,]+ tokens, more than spacy.max_tokens \(100\)"):
        next(parse_texts(nlp, ["a, " * 200], max_tokens=100))
    with pytest.raises(TextTooLong):  # a long text, parsed in pieces, is counted whole
        next(parse_texts(nlp, ["a, " * 2_000], max_chars=1_000, max_tokens=3_000))
    assert len(next(parse_texts(nlp, ["a, " * 20], max_tokens=100))) == 40


def test_over_the_token_limit_the_parse_stages_fail_saying_why_and_the_rest_runs() -> None:
    from copydesk import Pipeline, Settings

    pipeline = Pipeline.build(Settings(spacy={"max_tokens": 50}))  # type: ignore[arg-type]
    doc = pipeline.process(Article(text="Officials met in Istanbul, " * 30))
    runs = {r.stage: r for r in doc.runs}
    assert doc.status == "done" and runs["cleaning"].status == "ok"
    assert runs["entities"].status == "failed"
    assert "spacy.max_tokens (50)" in (runs["entities"].error or "")
    assert doc.entities == []


def test_default_limits_admit_the_longest_ordinary_article_the_size_limit_admits(nlp) -> None:  # type: ignore[no-untyped-def]
    from copydesk import Settings

    settings = Settings()
    prose = (PROSE + "\n") * (settings.max_article_chars // (len(PROSE) + 1))
    assert len(nlp.tokenizer(prose)) < settings.spacy.max_tokens
