"""The annotated HTML view opened in headless Chromium: layers drawn, linked and safe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from copydesk.document import Document
from copydesk.views.html import render_html
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.conftest import SAMPLE, copydesk
from tests.viewdocs import HOSTILE_TEXT, annotated_sample, hostile_document

pytestmark = pytest.mark.browser

LAYER_MARKS = {"entities": "m-entity", "numbers": "m-number", "quotes": "m-quote",
               "headings": "m-heading"}


def open_page(browser: Any, path: Path) -> None:
    browser.get(path.as_uri())
    browser.get_log("browser")  # drop what earlier pages logged


def page_errors(browser: Any) -> list[str]:
    """Console errors and CSP violations the page produced."""
    return [entry["message"] for entry in browser.get_log("browser")
            if entry["level"] == "SEVERE"]


def hover(browser: Any, element: Any) -> None:
    ActionChains(browser).move_to_element(element).perform()


def tip_text(browser: Any) -> str:
    tip = browser.find_element(By.ID, "cd-tip")
    assert tip.is_displayed()
    return str(tip.text)


def first_fragments(browser: Any, css_class: str) -> int:
    return len(browser.find_elements(By.CSS_SELECTOR, f"#d0-text .{css_class}.first"))


@pytest.fixture(scope="module")
def sample_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Document]:
    """The sample article through ``copydesk process --format html`` (the full pipeline)."""
    out = tmp_path_factory.mktemp("view") / "seed.html"
    done = copydesk("process", str(SAMPLE), "--format", "html", "-o", str(out))
    assert done.returncode == 0, done.stderr
    import lxml.html

    tree = lxml.html.parse(str(out)).getroot()
    doc = Document.model_validate_json(tree.get_element_by_id("d0-json").text_content())
    return out, doc


@pytest.fixture(scope="module")
def annotated_page(tmp_path_factory: pytest.TempPathFactory, sample_text: str) -> Path:
    """The sample article with every layer written by hand (tests/viewdocs.py)."""
    out = tmp_path_factory.mktemp("view") / "annotated.html"
    out.write_text(render_html([annotated_sample(sample_text)]), encoding="utf-8")
    return out


# -- the sample article, processed by the command line ------------------------------------


def test_the_processed_sample_shows_its_text_and_every_layer_it_has(
    browser: Any, sample_page: tuple[Path, Document]
) -> None:
    path, doc = sample_page
    open_page(browser, path)
    assert browser.find_element(By.ID, "d0-text").get_property("textContent") == doc.text
    assert doc.entities, "the entities stage found nothing in the sample"
    for layer, css_class in LAYER_MARKS.items():
        assert first_fragments(browser, css_class) == len(getattr(doc, layer)), layer
    sentences = doc.summary.sentences if doc.summary else []
    assert first_fragments(browser, "m-summary") == len(sentences)
    runs = browser.find_elements(By.CSS_SELECTOR, "table.runs tbody tr")
    assert [r.find_element(By.TAG_NAME, "th").text for r in runs] == [r.stage for r in doc.runs]
    assert page_errors(browser) == []


def test_the_processed_sample_links_each_quote_to_its_speaker(
    browser: Any, sample_page: tuple[Path, Document]
) -> None:
    path, doc = sample_page
    attributed = [(i, q) for i, q in enumerate(doc.quotes) if q.speaker is not None]
    if not attributed:
        pytest.skip("the quotes stage attributed no quote in the sample")
    open_page(browser, path)
    for i, quote in attributed:
        element = browser.find_element(By.ID, f"d0-q{i}")
        speaker = browser.find_element(By.ID, element.get_attribute("data-speaker"))
        assert speaker.get_property("textContent") == quote.speaker.text  # type: ignore[union-attr]


def test_the_sample_page_loads_nothing_from_outside(
    browser: Any, sample_page: tuple[Path, Document]
) -> None:
    open_page(browser, sample_page[0])
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources == []


# -- behaviour, on a document with every layer ---------------------------------------------


def test_hovering_an_entity_shows_its_label_and_canonical_name(
    browser: Any, annotated_page: Path
) -> None:
    open_page(browser, annotated_page)
    mention = browser.find_element(By.ID, "d0-e4")
    assert mention.text.startswith("Zelenskyy")
    hover(browser, mention)
    assert tip_text(browser).splitlines()[0] == "PERSON · canonical: Volodymyr Zelenskyy"


def test_focusing_a_number_shows_its_value_unit_and_qualifier(
    browser: Any, annotated_page: Path
) -> None:
    open_page(browser, annotated_page)
    number = browser.find_element(By.ID, "d0-n4")
    browser.execute_script("arguments[0].focus()", number)
    assert tip_text(browser).splitlines()[0] == (
        "cardinal · value: 12 · unit: soldier · qualifier: at_least")
    assert number.get_attribute("aria-describedby") == "cd-tip"


def test_an_entity_inside_a_quote_shows_both_in_its_tip(
    browser: Any, annotated_page: Path
) -> None:
    open_page(browser, annotated_page)
    hover(browser, browser.find_element(By.ID, "d0-e8"))
    lines = tip_text(browser).splitlines()
    assert lines[0] == "ORG · canonical: Ukraine’s intelligence service"
    assert "according to · speaker: Ukraine’s intelligence service · cue: according to" in lines


def test_the_speaker_of_a_quote_is_found_from_the_quote_and_lit_on_hover(
    browser: Any, annotated_page: Path
) -> None:
    open_page(browser, annotated_page)
    quote = browser.find_element(By.ID, "d0-q0")
    speaker = browser.find_element(By.ID, quote.get_attribute("data-speaker"))
    assert speaker.text.endswith("President Zelenskyy")
    hover(browser, quote)
    assert "linked" in speaker.get_attribute("class").split()
    hover(browser, browser.find_element(By.ID, "d0-title"))
    assert "linked" not in speaker.get_attribute("class").split()


def test_hovering_a_speaker_lights_its_quote(browser: Any, annotated_page: Path) -> None:
    open_page(browser, annotated_page)
    quote = browser.find_element(By.ID, "d0-q0")
    speaker = browser.find_element(By.ID, quote.get_attribute("data-speaker"))
    hover(browser, speaker)
    assert "linked" in quote.get_attribute("class").split()


def test_enter_on_a_quote_moves_focus_to_its_speaker_and_back(
    browser: Any, annotated_page: Path
) -> None:
    open_page(browser, annotated_page)
    quote = browser.find_element(By.ID, "d0-q0")
    browser.execute_script("arguments[0].focus()", quote)
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    focused = browser.switch_to.active_element
    assert focused.get_attribute("id") == quote.get_attribute("data-speaker")
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    assert browser.switch_to.active_element.get_attribute("id") == "d0-q0"


def test_labels_and_quote_kinds_are_written_out_not_only_coloured(
    browser: Any, annotated_page: Path
) -> None:
    open_page(browser, annotated_page)
    after = browser.execute_script(
        "return getComputedStyle(document.getElementById('d0-e0'), '::after').content")
    assert after == '"GPE"'
    before = [browser.execute_script(
        "return getComputedStyle(document.getElementById(arguments[0]), '::before').content",
        f"d0-q{i}") for i in range(3)]
    assert before == ['"direct quote"', '"according to"', '"indirect quote"']


def test_switching_a_layer_off_removes_its_marks_but_keeps_the_text(
    browser: Any, annotated_page: Path
) -> None:
    open_page(browser, annotated_page)
    browser.find_element(By.CSS_SELECTOR, 'input[data-toggle="entity"]').click()
    after = browser.execute_script(
        "return getComputedStyle(document.getElementById('d0-e0'), '::after').content")
    assert after == "none"
    assert browser.find_element(By.ID, "d0-e0").text == "Istanbul"


def test_removed_text_is_struck_through_and_can_be_collapsed_to_its_reason(
    browser: Any, annotated_page: Path
) -> None:
    open_page(browser, annotated_page)
    removed = browser.find_element(By.ID, "d0-r0")
    assert "line-through" in removed.value_of_css_property("text-decoration")
    assert "Getty Images" in removed.text
    browser.find_element(By.CSS_SELECTOR, "input[data-collapse-removed]").click()
    assert removed.value_of_css_property("font-size") == "0px"
    badge = browser.execute_script(
        "return getComputedStyle(document.getElementById('d0-r0'), '::before').content")
    assert badge == '"removed: photo_credit"'


def test_the_page_runs_without_script_errors(browser: Any, annotated_page: Path) -> None:
    open_page(browser, annotated_page)
    hover(browser, browser.find_element(By.ID, "d0-q1"))
    assert page_errors(browser) == []


# -- hostile input -----------------------------------------------------------------------------


def assert_ran_nothing(browser: Any) -> None:
    for element in browser.find_elements(By.CSS_SELECTOR, "#d0-text .m"):
        hover(browser, element)
    assert browser.execute_script("return window.__copydeskPwned") is None
    with pytest.raises(NoAlertPresentException):
        _ = browser.switch_to.alert.text


def test_a_hostile_article_processed_by_the_cli_shows_its_markup_as_text(
    browser: Any, tmp_path: Path
) -> None:
    source = tmp_path / "hostile.txt"
    source.write_text(HOSTILE_TEXT, encoding="utf-8")
    out = tmp_path / "hostile.html"
    done = copydesk("process", str(source), "--format", "html", "-o", str(out))
    assert done.returncode == 0, done.stderr
    open_page(browser, out)
    assert_ran_nothing(browser)
    text = browser.find_element(By.ID, "d0-text").text
    assert "<script>window.__copydeskPwned = 1; alert('pwned')</script>" in text
    assert '<img src="x" onerror="window.__copydeskPwned = 2; alert(2)">' in text
    assert browser.find_elements(By.CSS_SELECTOR, "main img, main b") == []


def test_markup_in_labels_titles_urls_and_extensions_runs_nothing(
    browser: Any, tmp_path: Path
) -> None:
    out = tmp_path / "hostile-layers.html"
    out.write_text(render_html([hostile_document()]), encoding="utf-8")
    open_page(browser, out)
    assert_ran_nothing(browser)
    browser.find_element(By.CSS_SELECTOR, ".doc-header a, .doc-header dd")
    assert browser.find_elements(By.CSS_SELECTOR, 'a[href^="javascript"]') == []
    shown = browser.find_element(By.CSS_SELECTOR, "pre.extensions").text
    assert json.loads(shown)["x"].startswith("</script>")
    assert browser.title.startswith("<script>")


# -- a plugin's layer ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def plugin_layer_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    text = "The minister reportedly resigned after a very long night."
    doc = Document(id="tone", raw_text=text, text=text, status="done", extensions={"tone": {
        "marks": [{"start": 13, "end": 23, "text": "reportedly", "label": "HEDGE"}]}})
    out = tmp_path_factory.mktemp("plugin-layer") / "tone.html"
    out.write_text(render_html([doc]), encoding="utf-8")
    return out


def test_a_plugin_layer_span_shows_its_label_and_tip(browser: Any,
                                                     plugin_layer_page: Path) -> None:
    open_page(browser, plugin_layer_page)
    mark = browser.find_element(By.ID, "d0-x0-0")
    badge = browser.execute_script(
        "return getComputedStyle(arguments[0], '::after').content", mark)
    assert badge == '"HEDGE"' and mark.text.startswith("reportedly")
    hover(browser, mark)
    assert tip_text(browser) == "tone · HEDGE"
    assert page_errors(browser) == []


def test_switching_a_plugin_layer_off_removes_its_marks_but_keeps_the_text(
    browser: Any, plugin_layer_page: Path
) -> None:
    open_page(browser, plugin_layer_page)
    browser.find_element(By.CSS_SELECTOR, 'input[data-toggle-layer="tone"]').click()
    mark = browser.find_element(By.ID, "d0-x0-0")
    badge = browser.execute_script(
        "return getComputedStyle(arguments[0], '::after').content", mark)
    assert badge == "none" and mark.text == "reportedly"
    assert page_errors(browser) == []
