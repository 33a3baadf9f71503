"""Bad and hostile input: refused with a reason, or processed without losing anything else.

Two generators feed the property-based tests. ``NEWS`` writes plain news-like English
(reporting verbs, names, places, figures, money, dates, direct quotes, paragraphs) from
small vocabularies of invented words: on such text every stage of the default pipeline
must run ``ok`` (a stage that raised is recorded as ``failed`` while the document is still
``done``, so the document status alone would not show it). ``NOISE`` is any mix of
letters, digits, punctuation, quotation marks and odd spaces: the document must finish
with consistent offsets and no stage may fail on it.
"""

from __future__ import annotations

import string

import pytest
from copydesk import Article, Document, Pipeline
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

NOISE = st.text(
    alphabet=st.sampled_from(
        [*string.ascii_letters, *string.digits, *" \n\n\t.,;:!?'\"-—–$€£%()/",
         "“", "”", "‘", "’", "\u00a0", "\u200b", "Ç", "ı", "é", "\r"]
    ),
    min_size=1,
    max_size=400,
).filter(lambda s: s.strip())

# -- news-like text, in invented words ---------------------------------------------------

PEOPLE = st.sampled_from([
    "Marta Ellison", "Tomasz Wrede", "Ana Kovalenko", "Prime Minister Joel Harker",
    "the finance minister", "a company spokeswoman", "Dr. Priya Sandhu", "Mr. Okafor",
    "officials", "the 41-year-old striker", "local residents",
])
PLACES = st.sampled_from([
    "Lisbon", "the port city of Varna", "northern Kenya", "Ohio", "the capital", "Osaka",
])
GROUPS = st.sampled_from([
    "the Harbour Authority", "Northvale Bank", "the city council", "Redfield United",
    "the National Grain Board", "a union representing nurses",
])
FIGURES = st.one_of(
    st.integers(min_value=2, max_value=9_999).map(lambda n: f"{n:,} people"),
    st.integers(min_value=1, max_value=99).map(lambda n: f"{n} percent"),
    st.integers(min_value=1, max_value=950).map(lambda n: f"${n / 10:.1f} million"),
    st.integers(min_value=2, max_value=40).map(lambda n: f"£{n} billion"),
    st.integers(min_value=1, max_value=12).map(lambda n: f"{n} kilometres"),
    st.sampled_from(["a third", "twice as many", "dozens", "half a million"]),
)
WHEN = st.sampled_from([
    "on Monday", "last week", "in March 2019", "by the end of the year", "on 4 July",
    "at 9:30 a.m.", "earlier this month", "",
])
VERBS = st.sampled_from(["said", "told reporters", "announced", "warned", "confirmed"])


@st.composite
def news_sentence(draw: st.DrawFn) -> str:
    who, verb, when = draw(PEOPLE), draw(VERBS), draw(WHEN)
    kind = draw(st.integers(min_value=0, max_value=4))
    if kind == 0:
        text = (f"{who} {verb} {when} that {draw(GROUPS)} would spend {draw(FIGURES)} "
                f"on repairs in {draw(PLACES)}.")
    elif kind == 1:
        text = (f"\u201cWe cannot wait any longer,\u201d {who} {verb.split()[0]}, adding that "
                f"{draw(FIGURES)} had been affected.")
    elif kind == 2:
        text = f"About {draw(FIGURES)} gathered in {draw(PLACES)} {when}, police said."
    elif kind == 3:
        text = (f"{draw(GROUPS)} reported a loss of {draw(FIGURES)} {when}, "
                f"according to {who}.")
    else:
        text = f"\"This is not over,\" {who} {verb} {when} in {draw(PLACES)}."
    text = " ".join(text.split())
    return text[0].upper() + text[1:]


@st.composite
def news_article(draw: st.DrawFn) -> str:
    paragraphs = draw(st.lists(
        st.lists(news_sentence(), min_size=1, max_size=3).map(" ".join),
        min_size=1, max_size=4,
    ))
    return "\n\n".join(paragraphs)


NEWS = news_article()

PROPERTY = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def run_statuses(pipeline: Pipeline, doc: Document) -> dict[str, str]:
    """Each stage of the pipeline and how its run on ``doc`` ended ("missing": no run)."""
    ran = {run.stage: run.status for run in doc.runs}
    return {bound.name: ran.get(bound.name, "missing") for bound in pipeline.stages}


@pytest.mark.slow
@PROPERTY
@given(text=NEWS)
def test_every_stage_runs_ok_on_news_like_text(pipeline: Pipeline, text: str) -> None:
    doc = pipeline.process(Article(text=text, language="en"))
    failures = {name: status for name, status in run_statuses(pipeline, doc).items()
                if status != "ok"}
    assert failures == {}, [r.error for r in doc.runs if r.status != "ok"]
    assert doc.status == "done"
    assert doc.offset_problems() == []


@pytest.mark.slow
@PROPERTY
@given(text=NOISE)
def test_any_text_completes_with_consistent_offsets_and_no_failed_stage(
    pipeline: Pipeline, text: str
) -> None:
    doc = pipeline.process(Article(text=text))
    assert doc.status == "done"
    assert "failed" not in run_statuses(pipeline, doc).values(), [r.error for r in doc.runs]
    assert doc.offset_problems() == []


def test_a_hostile_article_does_not_take_its_batch_neighbours_down(pipeline: Pipeline) -> None:
    hostile = Article(text="(" * 5000 + '"' * 3000 + "1" * 5000 + "\u202e" * 100 + ")" * 5000)
    neighbours = [Article(text="Putin met Zelenskyy in Istanbul on Monday."),
                  Article(text="The talks failed, officials said.")]
    docs = pipeline.process_many([neighbours[0], hostile, neighbours[1]])
    assert [d.status for d in docs] == ["done", "done", "done"]
    assert any(e.canonical for e in docs[0].entities)
    assert all(d.offset_problems() == [] for d in docs)
    for doc in (docs[0], docs[2]):
        assert set(run_statuses(pipeline, doc).values()) == {"ok"}


def test_markup_in_plain_text_is_kept_as_text(pipeline: Pipeline) -> None:
    doc = pipeline.process(Article(text='Officials said <script>alert(1)</script> was found.'))
    assert "<script>alert(1)</script>" in doc.text
