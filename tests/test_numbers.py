"""The numbers stage: every quantity a news reader cares about, with a machine value.

Each test states one behaviour on real text: the Istanbul peace-talks sample (its
article body, as the cleaning stage leaves it) and sentences from the BBC corpus.
"""

from __future__ import annotations

from typing import Any

import pytest
from copydesk import Pipeline, Settings
from copydesk.document import Article, Document, NumberMention

from tests.conftest import shared_path

PUBLISHED = "2025-06-01T09:00:00+00:00"


def _clean_sample(text: str) -> str:
    """The sample's article body: no photo credit, no comment furniture after 'Tags'."""
    body = text.split("\nTags\n")[0]
    lines = [line for line in body.splitlines() if not line.strip().startswith("(Photo by")]
    return "\n".join(lines).strip() + "\n"


@pytest.fixture(scope="module")
def numbers_pipeline() -> Pipeline:
    built = Pipeline.build(Settings(pipeline={"stages": ["numbers"]}))  # type: ignore[arg-type]
    built.setup()
    return built


def run(pipeline: Pipeline, text: str, published_at: str | None = PUBLISHED) -> Document:
    article = Article(text=text, published_at=published_at)  # type: ignore[arg-type]
    return pipeline.process(article)


def find(doc: Document, text: str) -> NumberMention:
    hits = [m for m in doc.numbers if m.text == text]
    assert hits, f"no mention {text!r} in {[m.text for m in doc.numbers]}"
    return hits[0]


@pytest.fixture(scope="module")
def sample(numbers_pipeline: Pipeline, sample_text: str) -> Document:
    return run(numbers_pipeline, _clean_sample(sample_text))


SAMPLE_QUANTITIES: list[tuple[str, str, Any, str | None, str | None]] = [
    ("Monday", "date", "2025-06-02", None, None),
    ("second", "ordinal", 2, None, None),
    ("more than three years ago", "date", "2022", None, "more_than"),
    ("last month", "date", "2025-05", None, None),
    ("2022", "date", "2022", None, None),
    ("two nations", "cardinal", 2, "nation", None),
    ("five Russian regions", "cardinal", 5, "region", None),
    ("an estimated $7 billion", "money", 7_000_000_000, "USD", "approximately"),
    ("€6.17 billion", "money", 6_170_000_000, "EUR", "approximately"),
    ("41 Russian aircraft", "cardinal", 41, "aircraft", None),
    ("472 drones", "cardinal", 472, "drone", None),
    ("seven missiles", "cardinal", 7, "missile", None),
    ("overnight", "date", "2025-05-31/2025-06-01", None, None),
    ("at least 12 soldiers", "cardinal", 12, "soldier", "at_least"),
    ("thousands of lives", "cardinal", 1000, "life", "at_least"),
]


@pytest.mark.parametrize(("text", "kind", "value", "unit", "qualifier"), SAMPLE_QUANTITIES)
def test_sample_quantity_has_its_value_unit_and_qualifier(
    sample: Document, text: str, kind: str, value: Any, unit: str | None, qualifier: str | None
) -> None:
    mention = find(sample, text)
    assert (mention.kind, mention.value, mention.unit, mention.qualifier) == (
        kind,
        value,
        unit,
        qualifier,
    )


def test_sample_meeting_time_is_13_local_and_10_utc(sample: Document) -> None:
    local = find(sample, "1:00 PM local time")
    utc = find(sample, "1000 GMT")
    assert (local.kind, utc.kind) == ("time", "time")
    assert local.value == "2025-06-02T13:00+03:00"
    assert utc.value == "2025-06-02T10:00Z"


def test_sample_reports_nothing_that_is_not_a_quantity(sample: Document) -> None:
    expected = {t for t, *_ in SAMPLE_QUANTITIES} | {"1:00 PM local time", "1000 GMT"}
    assert {m.text for m in sample.numbers} == expected


def test_sample_second_appears_twice_as_ordinal(sample: Document) -> None:
    assert [m.value for m in sample.numbers if m.text == "second"] == [2, 2]


def test_one_on_one_and_one_of_the_most_are_no_quantities(sample: Document) -> None:
    ones = [m for m in sample.numbers if "one" in m.text.lower().split()]
    assert ones == []


def test_sample_offsets_point_at_their_text(sample: Document) -> None:
    assert sample.offset_problems() == []


def test_group_words_take_the_unit_after_of(numbers_pipeline: Pipeline) -> None:
    doc = run(numbers_pipeline, "The repairs took a couple of days and cost millions of pounds.")
    assert find(doc, "a couple of days").value == "P2D"
    money = find(doc, "millions of pounds")
    assert (money.kind, money.value, money.unit, money.qualifier) == (
        "money",
        1_000_000,
        "GBP",
        "at_least",
    )


def test_relative_dates_without_published_at_have_no_value(numbers_pipeline: Pipeline) -> None:
    doc = run(
        numbers_pipeline,
        "The meeting is set for Monday, a month after talks last month.",
        published_at=None,
    )
    assert find(doc, "Monday").value is None
    assert find(doc, "last month").value is None


# --------------------------------------------------------------- BBC corpus sentences

TIME_WARNER = (
    "Quarterly profits at US media giant TimeWarner jumped 76% to $1.13bn (£600m) for the "
    "three months to December, from $639m year-earlier."
)


def test_parenthesised_conversion_is_its_own_money_mention(numbers_pipeline: Pipeline) -> None:
    doc = run(numbers_pipeline, TIME_WARNER, published_at=None)
    dollars, pounds = find(doc, "$1.13bn"), find(doc, "£600m")
    assert (dollars.kind, dollars.value, dollars.unit) == ("money", 1_130_000_000, "USD")
    assert (pounds.kind, pounds.value, pounds.unit) == ("money", 600_000_000, "GBP")


def test_percentage_and_duration_in_a_results_sentence(numbers_pipeline: Pipeline) -> None:
    doc = run(numbers_pipeline, TIME_WARNER, published_at=None)
    assert (find(doc, "76%").kind, find(doc, "76%").value) == ("percent", 76)
    assert find(doc, "three months").value == "P3M"


def test_three_currencies_in_one_parenthesis(numbers_pipeline: Pipeline) -> None:
    doc = run(numbers_pipeline, "Net profit was $186m (£98m; 143m euros) in the quarter.")
    assert [(m.value, m.unit) for m in doc.numbers if m.kind == "money"] == [
        (186_000_000, "USD"),
        (98_000_000, "GBP"),
        (143_000_000, "EUR"),
    ]


def test_pence_are_hundredths_of_a_pound(numbers_pipeline: Pipeline) -> None:
    doc = run(
        numbers_pipeline, "With its shares closing Tuesday at 873p, Exel is valued at £2.6bn."
    )
    assert (find(doc, "873p").value, find(doc, "873p").unit) == (8.73, "GBP")


def test_full_date_is_resolved_without_an_anchor(numbers_pipeline: Pipeline) -> None:
    doc = run(
        numbers_pipeline,
        "For the three months to 31 December 2004, the airline made a "
        "pre-tax profit of £75m ($141m).",
        published_at=None,
    )
    assert find(doc, "31 December 2004").value == "2004-12-31"


@pytest.mark.slow
def test_bbc_corpus_articles_get_numbers_with_consistent_offsets(
    numbers_pipeline: Pipeline,
) -> None:
    import json

    path = shared_path("corpus", "bbc-news-2005.jsonl")
    with path.open(encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for _, line in zip(range(25), fh, strict=False)]
    docs = numbers_pipeline.process_many([Article(text=t) for t in texts])
    assert all(d.runs[-1].status == "ok" for d in docs)
    assert all(d.numbers and d.offset_problems() == [] for d in docs)


# --------------------------------------------------------------- forms of numbers

CARDINALS = [
    ("The fund holds 1,250 tonnes of grain.", "1,250 tonnes", 1250),
    ("Some 1.5 million people fled.", "Some 1.5 million people", 1_500_000),
    ("Two dozen people were hurt.", "Two dozen people", 24),
    ("A hundred men marched.", "A hundred men", 100),
    ("Twenty-one people died.", "Twenty-one people", 21),
    ("It lost two-thirds of its value.", "two-thirds", 2 / 3),
    ("The ratio was 0.5 at the end.", "0.5", 0.5),
    ("Temperatures fell to -5 overnight.", "-5", -5),
]


@pytest.mark.parametrize(("sentence", "text", "value"), CARDINALS)
def test_cardinal_forms(numbers_pipeline: Pipeline, sentence: str, text: str, value: float) -> None:
    mention = find(run(numbers_pipeline, sentence), text)
    assert mention.value == pytest.approx(value)


@pytest.mark.parametrize(
    ("sentence", "text", "value"),
    [
        ("Spending in the 21st century rose.", "21st", 21),
        ("It was the third attack this week.", "third", 3),
        ("They met for a second round.", "second", 2),
    ],
)
def test_ordinals(numbers_pipeline: Pipeline, sentence: str, text: str, value: int) -> None:
    mention = find(run(numbers_pipeline, sentence), text)
    assert (mention.kind, mention.value) == ("ordinal", value)


def test_a_second_alone_is_a_duration(numbers_pipeline: Pipeline) -> None:
    mention = find(run(numbers_pipeline, "The screen froze for a second."), "a second")
    assert (mention.kind, mention.value) == ("duration", "PT1S")


MONEY = [
    ("He paid 5 million rubles for it.", "5 million rubles", 5_000_000, "RUB"),
    ("Pensions rose by 200 hryvnias.", "200 hryvnias", 200, "UAH"),
    ("The deal is worth US$2.5bn.", "US$2.5bn", 2_500_000_000, "USD"),
    ("The club was fined £3m.", "£3m", 3_000_000, "GBP"),
    ("A ticket costs ¥500 there.", "¥500", 500, "JPY"),
    ("The 7bn euros bailout.", "7bn euros", 7_000_000_000, "EUR"),
]


@pytest.mark.parametrize(("sentence", "text", "value", "unit"), MONEY)
def test_money_in_many_currencies(
    numbers_pipeline: Pipeline, sentence: str, text: str, value: float, unit: str
) -> None:
    mention = find(run(numbers_pipeline, sentence), text)
    assert (mention.kind, mention.value, mention.unit) == ("money", value, unit)


@pytest.mark.parametrize("text", ["12%", "12 per cent", "twelve percent"])
def test_percentages(numbers_pipeline: Pipeline, text: str) -> None:
    mention = find(run(numbers_pipeline, f"Unemployment reached {text} last year."), text)
    assert (mention.kind, mention.value, mention.unit) == ("percent", 12, "%")


QUANTITIES = [
    ("The border runs 300 square kilometres.", "300 square kilometres", 300, "km2", 3e8, "m2"),
    ("The convoy drove 10 km north.", "10 km", 10, "km", 10_000, "m"),
    ("They walked 5 miles to safety.", "5 miles", 5, "mi", 8046.72, "m"),
    ("Ships carried 40 tonnes of aid.", "40 tonnes", 40, "t", 40_000, "kg"),
    (
        "Output hit 1.5 million barrels a day.",
        "1.5 million barrels a day",
        1_500_000,
        "bbl/d",
        2.760196,
        "m3/s",
    ),
]


@pytest.mark.parametrize(("sentence", "text", "value", "unit", "si", "si_unit"), QUANTITIES)
def test_quantities_are_converted_to_si(
    numbers_pipeline: Pipeline,
    sentence: str,
    text: str,
    value: float,
    unit: str,
    si: float,
    si_unit: str,
) -> None:
    mention = find(run(numbers_pipeline, sentence), text)
    assert (mention.kind, mention.value, mention.unit) == ("quantity", value, unit)
    assert mention.normalized is not None
    assert mention.normalized.unit == si_unit
    assert mention.normalized.value == pytest.approx(si, rel=1e-5)


QUALIFIERS = [
    ("more than 40 people", "more_than"),
    ("over 5 km", "more_than"),
    ("nearly 300 homes", "approximately"),
    ("almost 20%", "approximately"),
    ("about $5m", "approximately"),
    ("around 60 villages", "approximately"),
    ("up to 4,000 km", "at_most"),
    ("fewer than 10 ships", "less_than"),
    ("at least 12 soldiers", "at_least"),
]


@pytest.mark.parametrize(("text", "qualifier"), QUALIFIERS)
def test_qualifiers(numbers_pipeline: Pipeline, text: str, qualifier: str) -> None:
    mention = find(run(numbers_pipeline, f"Officials said {text} were affected."), text)
    assert mention.qualifier == qualifier


@pytest.mark.parametrize(
    "text", ["10 to 12 soldiers", "10-12 soldiers", "between 10 and 12 soldiers"]
)
def test_ranges_keep_both_ends(numbers_pipeline: Pipeline, text: str) -> None:
    mention = find(run(numbers_pipeline, f"Officials said {text} were hurt."), text)
    assert (mention.value, mention.value_max, mention.unit) == (10, 12, "soldier")


def test_a_football_score_is_no_range(numbers_pipeline: Pipeline) -> None:
    doc = run(numbers_pipeline, "Arsenal won 3-1 at Highbury.")
    assert all(m.value_max is None for m in doc.numbers)


def test_dollar_reading_is_configurable() -> None:
    settings = Settings(
        pipeline={"stages": ["numbers"]},  # type: ignore[arg-type]
        stage={"numbers": {"dollar": "AUD"}},
    )
    built = Pipeline.build(settings)
    built.setup()
    assert find(run(built, "Tickets cost $40."), "$40").unit == "AUD"


# --------------------------------------------------------------- quality floor


@pytest.mark.slow
def test_eval_accuracy_stays_above_floor() -> None:
    shared_path("eval", "numbers", "duckling-en.jsonl")  # skips when the gold data is absent
    from bench.eval_numbers import copydesk_system, evaluate

    scores = evaluate({"copydesk": copydesk_system()})["copydesk"]

    def share(prefix: str) -> float:
        parts = [v for k, v in scores.items() if k.startswith(prefix)]
        return sum(p[0] for p in parts) / sum(p[1] for p in parts)

    assert share("duckling") >= 0.80
    assert share("quantulum3") >= 0.65


def test_full_default_pipeline_finds_the_same_sample_quantities(sample_doc: Document) -> None:
    """After cleaning and entities, the numbers layer of the raw sample is the same list."""
    expected = {t for t, *_ in SAMPLE_QUANTITIES} | {"1:00 PM local time", "1000 GMT"}
    assert {m.text for m in sample_doc.numbers} == expected
    assert sample_doc.offset_problems() == []


# --------------------------------------------------------------- readings in context


def test_m_after_a_number_is_million_before_a_noun(numbers_pipeline: Pipeline) -> None:
    doc = run(numbers_pipeline, "Nintendo has sold almost 4m DS consoles in Europe.")
    assert (find(doc, "almost 4m DS consoles").value, find(doc, "almost 4m DS consoles").unit) == (
        4_000_000,
        "console",
    )


def test_m_after_a_race_distance_is_metres(numbers_pipeline: Pipeline) -> None:
    doc = run(numbers_pipeline, "She came fifth in the 5,000m at the Athens Olympics.")
    assert (find(doc, "5,000m").kind, find(doc, "5,000m").unit) == ("quantity", "m")


def test_possessive_after_a_number_is_no_foot(numbers_pipeline: Pipeline) -> None:
    doc = run(numbers_pipeline, "He told BBC Radio 4's Today programme the plan would work.")
    assert all(m.unit != "ft" for m in doc.numbers)


def test_a_foot_injury_is_no_length(numbers_pipeline: Pipeline) -> None:
    doc = run(numbers_pipeline, "He has been sidelined since breaking a foot against Blackburn.")
    assert doc.numbers == []


def test_decades_and_ages_are_no_seconds(numbers_pipeline: Pipeline) -> None:
    doc = run(numbers_pipeline, "They were hugely popular in the mid-80s with people in their 30s.")
    assert all(m.unit != "s" for m in doc.numbers)


def test_weekday_contradicting_its_date_leaves_no_value(numbers_pipeline: Pipeline) -> None:
    doc = run(numbers_pipeline, "Stores open just after midnight on Tuesday 9 November.")
    assert find(doc, "Tuesday 9 November").value is None


def test_past_participle_clause_takes_the_past_tense(numbers_pipeline: Pipeline) -> None:
    doc = run(numbers_pipeline, "The deal, signed on 3 March, took effect last week.")
    assert find(doc, "3 March").value == "2025-03-03"


def test_a_year_before_a_unit_is_a_quantity(numbers_pipeline: Pipeline) -> None:
    doc = run(numbers_pipeline, "Output rose to 2000 tonnes in 1999.")
    assert (find(doc, "2000 tonnes").kind, find(doc, "1999").kind) == ("quantity", "date")


@pytest.mark.parametrize(
    "sentence",
    [
        "Call 0800 123 4567 for details.",
        "Security was tightened after the 9/11 attacks.",
        "The shop is open 24/7.",
        "The ratio stood at 3:1 in favour.",
    ],
)
def test_codes_dates_and_ratios_are_no_quantities(
    numbers_pipeline: Pipeline, sentence: str
) -> None:
    doc = run(numbers_pipeline, sentence)
    assert [m.text for m in doc.numbers if m.kind not in ("date", "time")] == []


def test_decimal_clock_time_with_zone(numbers_pipeline: Pipeline) -> None:
    doc = run(numbers_pipeline, "Shares rose 3.4% by 10.30 GMT on Tuesday.")
    assert find(doc, "10.30 GMT").value == "2025-05-27T10:30Z"  # the Tuesday before


def test_capitalised_number_inside_a_name_is_no_count(numbers_pipeline: Pipeline) -> None:
    doc = run(numbers_pipeline, "England have lost three matches in this year's Six Nations.")
    assert [m.text for m in doc.numbers if m.kind == "cardinal"] == ["three matches"]


def test_tennis_set_scores_are_no_ranges(numbers_pipeline: Pipeline) -> None:
    doc = run(numbers_pipeline, "Labadze won 6-7 (4-7) 6-2 6-3 in Rotterdam.")
    assert doc.numbers == []


def test_day_range_is_an_iso_interval(numbers_pipeline: Pipeline) -> None:
    doc = run(numbers_pipeline, "The poll was carried out on 16-18 December 2004.")
    assert find(doc, "16-18 December 2004").value == "2004-12-16/2004-12-18"


def test_bare_year_is_a_date(numbers_pipeline: Pipeline) -> None:
    doc = run(numbers_pipeline, "But 2005 will also see more competition.")
    assert (find(doc, "2005").kind, find(doc, "2005").value) == ("date", "2005")


def test_number_beside_a_proper_name_is_part_of_it(numbers_pipeline: Pipeline) -> None:
    doc = run(numbers_pipeline, "US rap star 50 Cent spoke to Hot 97 about the feud.")
    assert [m for m in doc.numbers if m.kind == "cardinal"] == []


# --------------------------------------------------------------- units and signs


def test_bracketed_amount_on_its_own_is_an_accounting_loss(numbers_pipeline: Pipeline) -> None:
    doc = run(numbers_pipeline, "Net income for the quarter was ($4.2m).")
    assert find(doc, "($4.2m)").value == -4_200_000


def test_bracketed_conversion_keeps_its_sign(numbers_pipeline: Pipeline) -> None:
    doc = run(
        numbers_pipeline,
        "On Tuesday the courts awarded Varig 2bn reais ($725m), after ruling in its favour.",
    )
    assert find(doc, "$725m").value == 725_000_000


def test_rate_divided_twice_reads_left_to_right(numbers_pipeline: Pipeline) -> None:
    doc = run(numbers_pipeline, "The panels receive 5 kWh/m2 per day.")
    mention = find(doc, "5 kWh/m2 per day")
    assert mention.unit == "kWh/m2/d"
    assert mention.normalized is not None and round(mention.normalized.value, 6) == round(
        5 * 3.6e6 / 86400, 6
    )


def test_lone_t_after_a_number_is_tonnes(numbers_pipeline: Pipeline) -> None:
    doc = run(numbers_pipeline, "The mill produced 4,500 t last year.")
    assert (find(doc, "4,500 t").unit, find(doc, "4,500 t").value) == ("t", 4500)


def test_apostrophe_in_a_word_does_not_hide_a_foot_mark(numbers_pipeline: Pipeline) -> None:
    doc = run(numbers_pipeline, "He told Radio 4's Today programme the wall was 10' high.")
    assert find(doc, "10'").unit == "ft"


def test_half_of_something_is_a_fraction(numbers_pipeline: Pipeline) -> None:
    doc = run(
        numbers_pipeline,
        "Women now make up more than half of all graduates from Saudi universities "
        "but only 5% of the workforce.",
    )
    mention = find(doc, "more than half")
    assert (mention.value, mention.qualifier) == (0.5, "more_than")


def test_first_half_of_a_year_is_no_fraction(numbers_pipeline: Pipeline) -> None:
    doc = run(numbers_pipeline, "Exports had kept things going during the first half of 2004.")
    assert all("half" not in m.text for m in doc.numbers)


def test_a_barn_is_a_building(numbers_pipeline: Pipeline) -> None:
    doc = run(
        numbers_pipeline,
        "She is planning to convert a barn in Sweden into a base for her freelance work.",
    )
    assert doc.numbers == []
