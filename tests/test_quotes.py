"""The quotes stage: direct, partial, interrupted, multi-paragraph, nested and reported
quotes with their speakers, on the sample article and sentences from the BBC corpus.

Documents are built with the entities layer set by hand (surface → canonical name), so
these tests specify the quotes stage alone; one test runs the full default pipeline.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from copydesk import Settings
from copydesk.document import Article, Document, Entity, Quote
from copydesk.nlp import SharedParse
from copydesk.plugins.quotes import QuotesConfig, QuotesStage
from copydesk.plugins.quotes.marks import find_quoted
from copydesk.stage import Services

from tests.conftest import shared_path

ROOT = Path(__file__).resolve().parents[1]

SAMPLE_PEOPLE = {
    "Volodymyr Zelenskyy": "Volodymyr Zelenskyy",
    "Zelenskyy": "Volodymyr Zelenskyy",
    "Vladimir Putin": "Vladimir Putin",
    "Putin": "Vladimir Putin",
    "Vladimir Medinsky": "Vladimir Medinsky",
    "Rustem Umerov": "Rustem Umerov",
    "Donald Trump": "Donald Trump",
}


@pytest.fixture(scope="module")
def stage() -> QuotesStage:
    services = Services(SharedParse(Settings().spacy.model))
    built = QuotesStage(QuotesConfig(), services)
    built.setup()
    return built


def entities_for(text: str, people: dict[str, str], label: str = "PERSON") -> list[Entity]:
    """Every occurrence of each surface form (longest first, no overlaps) as an entity."""
    found: list[Entity] = []
    for surface in sorted(people, key=len, reverse=True):
        for m in re.finditer(re.escape(surface), text):
            if any(e.start < m.end() and m.start() < e.end for e in found):
                continue
            found.append(Entity(start=m.start(), end=m.end(), text=surface, label=label,
                                canonical=people[surface]))
    return sorted(found, key=lambda e: e.start)


def run(
    stage: QuotesStage, text: str, people: dict[str, str] | None = None, label: str = "PERSON"
) -> Document:
    doc = Document.from_article(Article(text=text))
    doc.entities = entities_for(text, people or {}, label)
    stage.process(doc)
    assert doc.offset_problems() == []
    return doc


def quote_containing(doc: Document, fragment: str, kind: str | None = None) -> Quote:
    matches = [q for q in doc.quotes if fragment in q.text and kind in (None, q.kind)]
    assert matches, f"no quote contains {fragment!r}: {[q.text for q in doc.quotes]}"
    return matches[0]


@pytest.fixture(scope="module")
def sample(stage: QuotesStage, sample_text: str) -> Document:
    return run(stage, sample_text, SAMPLE_PEOPLE)


# -- the sample article ----------------------------------------------------------------


def test_partial_quote_is_attributed_to_the_president_named_before_it(sample: Document) -> None:
    quote = quote_containing(sample, "absolutely brilliant achievement", kind="direct")
    assert quote.text == '"absolutely brilliant achievement"'
    assert quote.speaker is not None
    assert quote.speaker.text == "President Zelenskyy"
    assert quote.speaker.canonical == "Volodymyr Zelenskyy"
    assert quote.cue == "praised"


def test_according_to_local_officials_gives_source_and_content(sample: Document) -> None:
    quote = quote_containing(sample, "killing at least 12 soldiers")
    assert quote.kind == "according_to"
    assert quote.text.startswith("One of the missiles hit")
    assert quote.text.endswith("killing at least 12 soldiers")
    assert quote.speaker is not None and quote.speaker.text == "local officials"
    assert quote.speaker.canonical is None  # a description, not a named person


def test_according_to_at_sentence_start_gives_the_rest_as_content(sample: Document) -> None:
    quote = quote_containing(sample, "destroyed 41 Russian aircraft")
    assert quote.kind == "according_to"
    assert quote.cue == "According to"
    assert quote.text.startswith("the attacks caused")
    assert quote.speaker is not None and quote.speaker.text == "Ukraine’s intelligence service"


def test_calling_for_a_ceasefire_is_indirect_speech(sample: Document) -> None:
    quote = quote_containing(sample, "immediate and comprehensive ceasefire")
    assert quote.kind == "indirect"
    assert quote.cue == "calling for"
    assert quote.text == (
        "an immediate and comprehensive ceasefire, along with the release of all prisoners "
        "held by Russia"
    )
    assert quote.speaker is not None
    assert quote.speaker.canonical == "Volodymyr Zelenskyy"


def test_sample_has_no_direct_quote_without_a_speaker(sample: Document) -> None:
    direct = [q for q in sample.quotes if q.kind == "direct"]
    assert direct and all(q.speaker is not None for q in direct)


def test_full_default_pipeline_attributes_the_partial_quote(sample_doc: Document) -> None:
    quote = quote_containing(sample_doc, "absolutely brilliant achievement", kind="direct")
    assert quote.speaker is not None
    assert quote.speaker.canonical is not None
    assert "Zelenskyy" in quote.speaker.canonical
    assert quote.cue == "praised"


def test_sample_article_has_no_quote_from_a_denied_signal_or_a_praised_object(
    sample_doc: Document,
) -> None:
    texts = [q.text for q in sample_doc.quotes]
    assert not [t for t in texts if "significant shift" in t]
    assert "the operation" not in texts
    assert not [q for q in sample_doc.quotes if q.speaker and "Moscow" in q.speaker.text]


# -- speech, non-speech and denial -----------------------------------------------------


def test_a_denied_verb_of_saying_reports_nothing(stage: QuotesStage) -> None:
    doc = run(stage, "The club has not confirmed the size of the transfer fee.")
    assert doc.quotes == []


def test_a_subject_naming_nobody_reports_nothing(stage: QuotesStage) -> None:
    doc = run(stage, "No council member has announced a date for the second vote. Neither "
                     "the drivers nor the bus company have called for new talks.")
    assert doc.quotes == []


def test_a_verb_joined_to_a_denied_subject_reports_nothing(stage: QuotesStage) -> None:
    doc = run(stage, "Neither the landlord nor the tenants have replied to the letter or "
                     "said that they would accept the offer.")
    assert doc.quotes == []


def test_a_denied_belief_is_still_the_believers_view(stage: QuotesStage) -> None:
    doc = run(stage, "Nora Okafor does not think the new bridge will open before May.",
              {"Nora Okafor": "Nora Okafor"})
    quote = quote_containing(doc, "the new bridge will open before May")
    assert quote.kind == "indirect"
    assert quote.speaker is not None and quote.speaker.canonical == "Nora Okafor"


def test_a_denial_at_the_end_of_the_quote_does_not_deny_the_cue(stage: QuotesStage) -> None:
    text = ('"Are we ready for the winter? Not yet," Ms. Okafor said. "Will we be '
            'ready by spring? Certainly."')
    doc = run(stage, text, {"Ms. Okafor": "Nora Okafor"})
    quote = quote_containing(doc, "Not yet")
    assert quote.speaker is not None and quote.speaker.canonical == "Nora Okafor"


def test_a_showing_verb_with_a_body_as_subject_reports_no_words(stage: QuotesStage) -> None:
    doc = run(stage, "The transport ministry has signalled a change of course on fuel prices.")
    assert doc.quotes == []


def test_a_survey_that_shows_something_is_a_source(stage: QuotesStage) -> None:
    doc = run(stage, "A new survey shows the incumbent ahead in the mayoral race.")
    quote = quote_containing(doc, "the incumbent ahead")
    assert quote.kind == "indirect"
    assert quote.speaker is not None and quote.speaker.text == "A new survey"


def test_praising_something_as_a_quoted_phrase_reports_the_praise_not_its_object(
    stage: QuotesStage,
) -> None:
    text = ("Mayor Nora Okafor praised the rescue crews as \"the bravest people in this "
            "city\" at a ceremony on Sunday.")
    doc = run(stage, text, {"Nora Okafor": "Nora Okafor"})
    assert "the rescue crews" not in [q.text for q in doc.quotes]
    direct = quote_containing(doc, "bravest people", kind="direct")
    assert direct.speaker is not None and direct.speaker.canonical == "Nora Okafor"
    praise = quote_containing(doc, "the rescue crews", kind="indirect")
    assert '"the bravest people in this city"' in praise.text


# -- people described instead of named -------------------------------------------------


def test_a_role_given_beside_a_name_resolves_the_description_to_that_person(
    stage: QuotesStage,
) -> None:
    text = (
        "Goalkeeper Ana Silva kept a clean sheet as her side beat the leaders. Coach Marta "
        "Reis praised the defence. \"We defended as one from the first minute,\" the "
        "goalkeeper said."
    )
    doc = run(stage, text, {"Ana Silva": "Ana Silva", "Marta Reis": "Marta Reis"})
    quote = quote_containing(doc, "defended as one")
    assert quote.speaker is not None and quote.speaker.text == "the goalkeeper"
    assert quote.speaker.canonical == "Ana Silva"


def test_a_role_the_text_never_gave_resolves_to_the_person_named_just_before(
    stage: QuotesStage,
) -> None:
    text = (
        "Tomas Berg scored the winner in the last minute of the match. \"I just hit it and "
        "hoped for the best,\" the striker said."
    )
    doc = run(stage, text, {"Tomas Berg": "Tomas Berg"})
    quote = quote_containing(doc, "hoped for the best")
    assert quote.speaker is not None and quote.speaker.canonical == "Tomas Berg"


def test_an_age_description_resolves_to_the_person_of_that_age(stage: QuotesStage) -> None:
    text = (
        "Ines Duarte, 41, has run the bakery on the square since 2009. Her son Rui Duarte, "
        "19, now works the early shift. \"We have never closed on a holiday,\" said the "
        "41-year-old."
    )
    doc = run(stage, text, {"Ines Duarte": "Ines Duarte", "Rui Duarte": "Rui Duarte"})
    quote = quote_containing(doc, "never closed on a holiday")
    assert quote.speaker is not None and quote.speaker.text == "the 41-year-old"
    assert quote.speaker.canonical == "Ines Duarte"


def test_a_body_that_speaks_is_not_resolved_to_a_person(stage: QuotesStage) -> None:
    text = (
        "Winger Leo Costa trained alone on Friday. \"We do not discuss contracts in "
        "public,\" the club said."
    )
    doc = run(stage, text, {"Leo Costa": "Leo Costa"})
    quote = quote_containing(doc, "discuss contracts")
    assert quote.speaker is not None and quote.speaker.text == "the club"
    assert quote.speaker.canonical is None


def test_who_speaks_for_the_person_the_clause_hangs_from(stage: QuotesStage) -> None:
    text = ("The plan was opposed by Rosa Lind, who said that the river path would "
            "flood every winter.")
    doc = run(stage, text, {"Rosa Lind": "Rosa Lind"})
    quote = quote_containing(doc, "flood every winter")
    assert quote.speaker is not None and quote.speaker.text == "who"
    assert quote.speaker.canonical == "Rosa Lind"


def test_a_direct_quote_after_reported_speech_continues_its_speaker(
    stage: QuotesStage,
) -> None:
    text = ("Council leader Omar Haddad said the budget would be tight this year. "
            "\"There is simply less money to go round.\"")
    doc = run(stage, text, {"Omar Haddad": "Omar Haddad"})
    quote = quote_containing(doc, "less money to go round", kind="direct")
    assert quote.speaker is not None and quote.speaker.canonical == "Omar Haddad"


# -- where a quote stops ---------------------------------------------------------------


NARRATED = (
    "Diego Diaz scored twice for the visitors on Saturday.\n\n"
    '"We knew the first half would be hard," added the 30-year-old, pointing to the '
    'injury list that has kept four regulars out since March. "After the break we were '
    'much better."'
)


def test_narration_after_the_cue_is_not_part_of_the_quote(stage: QuotesStage) -> None:
    doc = run(stage, NARRATED, {"Diego Diaz": "Diego Diaz"})
    direct = [q for q in doc.quotes if q.kind == "direct"]
    assert [q.text for q in direct] == [
        '"We knew the first half would be hard,"', '"After the break we were much better."'
    ]


def test_the_quote_after_the_narration_keeps_the_described_speaker(
    stage: QuotesStage,
) -> None:
    doc = run(stage, NARRATED, {"Diego Diaz": "Diego Diaz"})
    direct = [q for q in doc.quotes if q.kind == "direct"]
    assert [q.speaker.canonical if q.speaker else None for q in direct] == [
        "Diego Diaz", "Diego Diaz"
    ]


# -- direct quotes ---------------------------------------------------------------------

MOLYNEUX = (
    "Speaking to the BBC News website Mr Molyneux said receiving the honour was something "
    "of a surprise.\n\n"
    '"It was thought to be like skateboarding," he said, "a craze that everyone thought '
    'would go away." Now, he said, the gaming world rivals the movie industry.'
)


@pytest.fixture(scope="module")
def molyneux(stage: QuotesStage) -> Document:
    return run(stage, MOLYNEUX, {"Mr Molyneux": "Peter Molyneux"})


def test_interrupted_quote_is_one_quote_with_one_speaker(molyneux: Document) -> None:
    direct = [q for q in molyneux.quotes if q.kind == "direct"]
    assert len(direct) == 1
    quote = direct[0]
    assert quote.text.startswith('"It was thought') and quote.text.endswith('go away."')
    assert quote.speaker is not None and quote.speaker.text == "he"
    assert quote.cue == "said"


def test_pronoun_speaker_resolves_to_the_person_named_before(molyneux: Document) -> None:
    quote = quote_containing(molyneux, "skateboarding")
    assert quote.speaker is not None and quote.speaker.canonical == "Peter Molyneux"


def test_pronoun_skips_a_nearer_person_of_the_other_gender(stage: QuotesStage) -> None:
    text = (
        "Rachel Lomax, deputy governor of the Bank of England, met Gordon Brown on Friday. "
        '"The statistical fog surrounding the true state of the economy has proved a '
        'particularly potent breed," she said.'
    )
    doc = run(stage, text, {"Rachel Lomax": "Rachel Lomax", "Gordon Brown": "Gordon Brown"})
    quote = quote_containing(doc, "statistical fog")
    assert quote.speaker is not None and quote.speaker.text == "she"
    assert quote.speaker.canonical == "Rachel Lomax"


def test_plural_and_indefinite_pronouns_are_not_resolved_to_a_person(
    stage: QuotesStage,
) -> None:
    text = (
        "Green MSP Mark Ballard fears people not on the council's edited electoral register "
        "may miss out. \"Everyone should have a say on congestion charging,\" they said."
    )
    doc = run(stage, text, {"Mark Ballard": "Mark Ballard"})
    quote = quote_containing(doc, "congestion charging")
    assert quote.speaker is not None and quote.speaker.text == "they"
    assert quote.speaker.canonical is None


def test_bare_title_resolves_to_the_person_given_that_title(stage: QuotesStage) -> None:
    text = (
        "Both the prime minister and Chancellor Gordon Brown have called for urgent action "
        "to fight world poverty. South African president Thabo Mbeki has attacked British "
        "imperialists, saying they treated Africans like savages. \"We make this offer "
        'unilaterally but we are now asking other countries to join us," the chancellor said.'
    )
    doc = run(stage, text, {"Gordon Brown": "Gordon Brown", "Thabo Mbeki": "Thabo Mbeki"})
    quote = quote_containing(doc, "offer unilaterally")
    assert quote.speaker is not None and quote.speaker.text == "the chancellor"
    assert quote.speaker.canonical == "Gordon Brown"


def test_inverted_attribution_after_the_quote_names_the_speaker(stage: QuotesStage) -> None:
    text = (
        '"The combination of Foster\'s and Southcorp will transform the global wine '
        'industry," said Trevor O\'Hoy, Foster\'s chief executive officer.'
    )
    doc = run(stage, text, {"Trevor O'Hoy": "Trevor O'Hoy"})
    quote = quote_containing(doc, "global wine industry")
    assert quote.speaker is not None and quote.speaker.canonical == "Trevor O'Hoy"
    assert quote.cue == "said"


def test_a_description_speaks_without_a_canonical_name(stage: QuotesStage) -> None:
    text = (
        "Shares in Germany's biggest bank fell on Monday. \"I can confirm that BaFin has "
        'passed through the case to the public prosecutor," a BaFin spokeswoman said.'
    )
    doc = run(stage, text, {})
    quote = quote_containing(doc, "public prosecutor")
    assert quote.speaker is not None and quote.speaker.text == "a BaFin spokeswoman"
    assert quote.speaker.canonical is None  # never an invented name


def test_speaker_before_a_colon_introduces_the_quote(stage: QuotesStage) -> None:
    text = (
        "Gerhard Florin, EA's managing director for European publishing, said: "
        '"Doubling our industry in five years is not rocket science."'
    )
    doc = run(stage, text, {"Gerhard Florin": "Gerhard Florin"})
    quote = quote_containing(doc, "rocket science")
    assert quote.speaker is not None and quote.speaker.canonical == "Gerhard Florin"


def test_a_paragraph_ending_in_said_and_a_colon_introduces_the_next_one(
    stage: QuotesStage,
) -> None:
    text = ("Nora Okafor spoke after the vote. She said:\n\n"
            '"We have a plan for the buses and we will keep to it."')
    doc = run(stage, text, {"Nora Okafor": "Nora Okafor"})
    quote = quote_containing(doc, "plan for the buses")
    assert quote.speaker is not None and quote.speaker.text == "She"
    assert quote.speaker.canonical == "Nora Okafor"


def test_a_headline_opening_with_a_name_credits_the_quote_after_its_colon(
    stage: QuotesStage,
) -> None:
    text = ("Okafor Rejects Budget: ‘We Were Never Asked.’\n\n"
            "The council approved the cuts on Monday.")
    doc = run(stage, text, {"Okafor": "Nora Okafor"})
    quote = quote_containing(doc, "Never Asked")
    assert quote.cue == ":"
    assert quote.speaker is not None and quote.speaker.text.startswith("Okafor")


def test_multi_paragraph_quote_is_one_quote_to_the_last_closing_mark(
    stage: QuotesStage,
) -> None:
    text = (
        "Mr Florin predicted that the next round of games console would give developers "
        "enough power to create real emotion.\n\n"
        "\"It's the subtleties, the eyes, the mouth - 5,000 polygons doesn't really sell "
        "the emotion.\n\n"
        '"With PS3 and Xbox 2, we can go on the main character with 30,000 to 50,000 '
        'polygons," he said.'
    )
    doc = run(stage, text, {"Mr Florin": "Gerhard Florin"})
    direct = [q for q in doc.quotes if q.kind == "direct"]
    assert len(direct) == 1
    assert direct[0].text.startswith("\"It's the subtleties")
    assert direct[0].text.endswith('polygons,"')
    assert direct[0].speaker is not None and direct[0].speaker.canonical == "Gerhard Florin"


def test_nested_quote_stays_inside_the_outer_quote(stage: QuotesStage) -> None:
    text = (
        "The 13-strong AFI jury concluded \"the art of screen acting has two chapters - "
        "'Before Brando' and 'After Brando'.\""
    )
    quoted = find_quoted(text)
    assert len(quoted) == 1
    assert [text[n.start : n.end] for n in quoted[0].nested] == ["'Before Brando'",
                                                                 "'After Brando'"]


def test_british_single_quotes_are_quotation_marks_and_apostrophes_are_not() -> None:
    text = "Ukraine’s envoy said the talks were ‘a waste of everyone’s time’, officials’ notes show."
    quoted = find_quoted(text)
    assert [text[q.start : q.end] for q in quoted] == ["‘a waste of everyone’s time’"]


def test_scare_quotes_are_not_given_a_speaker(stage: QuotesStage) -> None:
    text = (
        "Among the new initiatives are the so-called \"one-euro jobs\" which top up "
        "unemployment benefit, Chancellor Gerhard Schroeder said."
    )
    doc = run(stage, text, {"Gerhard Schroeder": "Gerhard Schroeder"})
    assert not [q for q in doc.quotes if q.kind == "direct" and q.speaker is not None]


def test_title_of_a_work_is_not_a_quote(stage: QuotesStage) -> None:
    text = (
        "Mr Molyneux said he never expected \"Populous Two The Promised Lands\" to sell "
        "so well in Japan."
    )
    doc = run(stage, text, {"Mr Molyneux": "Peter Molyneux"})
    assert not [q for q in doc.quotes if q.kind == "direct"]


def test_two_apostrophes_serve_as_double_quote_marks() -> None:
    text = "''It's only a small step,'' said a planner. ''We haven't fixed the roads yet.''"
    quoted = find_quoted(text)
    assert [q.inner(text) for q in quoted] == [
        "It's only a small step,", "We haven't fixed the roads yet."
    ]


def test_dash_glued_to_the_closing_mark_still_credits_the_speaker(stage: QuotesStage) -> None:
    text = '"Doubling our industry in five years is not rocket science."― Gerhard Florin'
    doc = run(stage, text, {"Gerhard Florin": "Gerhard Florin"})
    quote = quote_containing(doc, "rocket science")
    assert quote.cue == "―"
    assert quote.speaker is not None and quote.speaker.text == "Gerhard Florin"


def test_a_dash_and_a_name_after_the_quote_credit_the_speaker(stage: QuotesStage) -> None:
    text = '"Doubling our industry in five years is not rocket science." ― Gerhard Florin'
    doc = run(stage, text, {"Gerhard Florin": "Gerhard Florin"})
    quote = quote_containing(doc, "rocket science")
    assert quote.speaker is not None and quote.speaker.canonical == "Gerhard Florin"


# -- reported speech -------------------------------------------------------------------


def test_said_that_is_indirect_with_the_clause_as_content(stage: QuotesStage) -> None:
    text = (
        "Andy Clarke, ERAA director of air transport, said that the EC advice misleads "
        "customers."
    )
    doc = run(stage, text, {"Andy Clarke": "Andy Clarke"})
    quote = quote_containing(doc, "misleads customers")
    assert quote.kind == "indirect"
    assert quote.text == "that the EC advice misleads customers"
    assert quote.cue == "said"
    assert quote.speaker is not None and quote.speaker.canonical == "Andy Clarke"


def test_reported_speech_after_its_content_is_indirect(stage: QuotesStage) -> None:
    text = "The WSJ said that the two were ripe for consolidation, analysts told the paper."
    doc = run(stage, text, {})
    kinds = {q.kind for q in doc.quotes}
    assert kinds == {"indirect"}
    assert any(q.speaker and q.speaker.text == "The WSJ" for q in doc.quotes)


def test_attribution_inside_the_sentence_reports_the_clause_around_it(
    molyneux: Document,
) -> None:
    quote = quote_containing(molyneux, "the gaming world rivals the movie industry")
    assert quote.kind == "indirect"
    assert quote.speaker is not None and quote.speaker.canonical == "Peter Molyneux"


def test_the_object_of_a_verb_of_criticism_is_reported_content(stage: QuotesStage) -> None:
    text = "Fostering Network executive director Robert Tapsfield criticised the existing system."
    doc = run(stage, text, {"Robert Tapsfield": "Robert Tapsfield"})
    quote = quote_containing(doc, "the existing system")
    assert quote.kind == "indirect"
    assert quote.text == "the existing system"
    assert quote.cue == "criticised"
    assert quote.speaker is not None and quote.speaker.canonical == "Robert Tapsfield"


def test_accused_of_reports_the_accused_and_the_charge(stage: QuotesStage) -> None:
    text = "The Lib Dems accused Mr Brown of ducking the issue of council tax rises."
    doc = run(stage, text, {})
    quote = quote_containing(doc, "ducking the issue")
    assert quote.text == "Mr Brown of ducking the issue of council tax rises"
    assert quote.cue == "accused of"
    assert quote.speaker is not None and quote.speaker.text == "The Lib Dems"


def test_a_listener_and_a_to_infinitive_are_the_content_of_urged(stage: QuotesStage) -> None:
    text = "Mr Lishman urged the next government to boost state pension."
    doc = run(stage, text, {"Mr Lishman": "Mr Lishman"})
    quote = quote_containing(doc, "boost state pension")
    assert quote.text == "the next government to boost state pension"
    assert quote.speaker is not None and quote.speaker.text == "Mr Lishman"


def test_an_owned_noun_cue_credits_its_owner(stage: QuotesStage) -> None:
    text = "Downing Street has stressed Mr Blair's support for the home secretary."
    doc = run(stage, text, {"Mr Blair": "Tony Blair"})
    support = next(q for q in doc.quotes if q.cue == "support for")
    assert support.text == "the home secretary"
    assert support.speaker is not None and support.speaker.text == "Mr Blair"
    stressed = quote_containing(doc, "Mr Blair's support")
    assert stressed.speaker is not None and stressed.speaker.text == "Downing Street"


def test_it_said_resolves_to_the_organisation_named_before(stage: QuotesStage) -> None:
    text = (
        "Winn-Dixie, once among the most profitable of US grocers, said Chapter 11 "
        "protection would enable it to successfully restructure. It said its 920 stores "
        "would remain open."
    )
    doc = run(stage, text, {"Winn-Dixie": "Winn-Dixie Stores"}, label="ORG")
    quote = quote_containing(doc, "its 920 stores would remain open")
    assert quote.speaker is not None and quote.speaker.text == "It"
    assert quote.speaker.canonical == "Winn-Dixie Stores"


def test_turns_of_a_quoted_transcript_go_to_the_named_speaker(stage: QuotesStage) -> None:
    text = (
        "The council published the exchange from Tuesday's meeting.\n\n"
        '"CHAIR: We will hear from the residents first.\n\n'
        '"OKAFOR: The bus route must stay open until the new depot is finished."\n\n'
        "The vote was put off until March."
    )
    doc = run(stage, text, {})
    turns = [q for q in doc.quotes if q.cue == ":" and "bus route must stay open" in q.text]
    assert len(turns) == 1 and turns[0].kind == "indirect"
    assert turns[0].speaker is not None and turns[0].speaker.text == "OKAFOR"


def test_a_custom_lexicon_replaces_the_built_in_word_lists(
    stage: QuotesStage, sample_text: str, tmp_path: Path
) -> None:
    cues = tmp_path / "cues.toml"
    cues.write_text('[verbs]\nspeech = ["say"]\n', encoding="utf-8")
    custom = QuotesStage(QuotesConfig(lexicon=str(cues)), stage.services)
    custom.setup()
    doc = run(custom, sample_text, SAMPLE_PEOPLE)
    quote = quote_containing(doc, "absolutely brilliant achievement", kind="direct")
    assert quote.speaker is None  # "praise" is not a speech verb in this lexicon


def test_indirect_speech_can_be_turned_off(stage: QuotesStage) -> None:
    quiet = QuotesStage(QuotesConfig(indirect=False), stage.services)
    quiet.setup()
    doc = run(quiet, "The WSJ said that the two were ripe for a deal.")
    assert doc.quotes == []


# -- contract --------------------------------------------------------------------------


def test_stage_declares_what_the_design_gives_it() -> None:
    assert QuotesStage.name == "quotes"
    assert QuotesStage.requires == ("text", "entities")
    assert QuotesStage.provides == ("quotes",)
    assert QuotesStage.uses_parse is True


def test_stage_reads_the_shared_parse_and_never_parses_again() -> None:
    shared = SharedParse(Settings().spacy.model)
    doc = Document.from_article(Article(text=MOLYNEUX))
    shared.parse_many([doc])

    class NoParsing:
        def __call__(self, *args: object, **kwargs: object) -> None:
            raise AssertionError("the quotes stage parsed the text again")

        def pipe(self, *args: object, **kwargs: object) -> None:
            raise AssertionError("the quotes stage parsed the text again")

    shared._nlp = NoParsing()  # type: ignore[assignment]
    built = QuotesStage(QuotesConfig(), Services(shared))
    built.setup()
    built.process(doc)
    assert doc.quotes


@pytest.mark.slow
def test_stage_runs_cleanly_on_corpus_articles(stage: QuotesStage) -> None:
    import json

    corpus = shared_path("corpus", "bbc-news-2005.jsonl")
    lines = corpus.read_text(encoding="utf-8").splitlines()[::75]
    for line in lines:
        article = json.loads(line)
        doc = run(stage, article["text"], {})
        for quote in doc.quotes:
            assert quote.text.strip() == quote.text, quote.text
            if quote.speaker is not None:
                assert any(ch.isalpha() for ch in quote.speaker.text), quote.speaker


# -- quality floor ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def polnear() -> dict[str, dict[str, float]]:
    """The stage and the simple baseline of bench/eval_quotes.py, scored in this run on the
    first 20 PolNeAR development articles."""
    data = shared_path("eval", "quotes")
    spec = importlib.util.spec_from_file_location("eval_quotes", ROOT / "bench" / "eval_quotes.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while loading
    spec.loader.exec_module(module)
    scores: dict[str, dict[str, float]] = module.evaluate(data, limit=20)["scores"]
    return scores


@pytest.mark.slow
def test_direct_quotes_are_kept_and_attributed_better_than_by_the_baseline(
    polnear: dict[str, dict[str, float]],
) -> None:
    ours, base = polnear["copydesk_direct"], polnear["baseline_direct"]
    assert ours["recall"] >= base["recall"]  # any reader of quotation marks finds them
    assert ours["lenient_precision"] > base["lenient_precision"]
    assert ours["attributed_recall"] > base["attributed_recall"]
    assert ours["speaker_accuracy"] > base["speaker_accuracy"]


@pytest.mark.slow
def test_reported_speech_beats_the_said_that_baseline(
    polnear: dict[str, dict[str, float]],
) -> None:
    ours, base = polnear["copydesk_indirect"], polnear["baseline_indirect"]
    assert ours["f1"] > base["f1"]
    assert ours["attributed_recall"] > base["attributed_recall"]


@pytest.mark.slow
def test_speakers_of_all_attributions_beat_the_baseline(
    polnear: dict[str, dict[str, float]],
) -> None:
    ours, base = polnear["copydesk_all"], polnear["baseline_all"]
    assert ours["attributed_recall"] > base["attributed_recall"]
    assert ours["speaker_accuracy"] >= base["speaker_accuracy"]
