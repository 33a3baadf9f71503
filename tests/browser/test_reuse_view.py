"""Reused passages and "also in" links in the HTML view, in headless Chromium: three
corpus-based articles (an original, a reprint under a new lede, a copy) through
``copydesk process --stages reuse --format html``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from copydesk.document import Document
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from tests.browser.conftest import copydesk
from tests.conftest import shared_path

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Document]]:
    with shared_path("corpus", "bbc-news-2005.jsonl").open(encoding="utf-8") as rows:
        first = json.loads(next(rows))
    paragraphs = first["text"].split("\n\n")
    reprint = "\n\n".join(["Shares rose in early trading after the figures came out.",
                           *paragraphs[1:3]])
    articles = [{"id": "wire", "title": first["title"], "text": first["text"]},
                {"id": "local", "title": "A local reprint", "text": reprint},
                {"id": "copy", "title": first["title"], "text": first["text"]}]
    root = tmp_path_factory.mktemp("reuse")
    source = root / "in.jsonl"
    source.write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")
    done = copydesk("--stages", "reuse", "process", str(source), "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    docs = [Document.model_validate_json(line) for line in done.stdout.splitlines()]
    out = root / "reuse.html"
    done = copydesk("--stages", "reuse", "process", str(source), "--format", "html",
                    "-o", str(out))
    assert done.returncode == 0, done.stderr
    return out, docs


def open_page(browser: Any, path: Path) -> None:
    browser.get(path.as_uri())
    browser.get_log("browser")


def reuse_marks(browser: Any, doc: str) -> list[Any]:
    return browser.find_elements(By.CSS_SELECTOR, f"#{doc}-text mark.m-reuse")


def test_a_reused_passage_is_highlighted_with_its_source(
        browser: Any, page: tuple[Path, list[Document]]) -> None:
    path, docs = page
    open_page(browser, path)
    [source] = docs[1].reuse.sources  # type: ignore[union-attr]
    [passage] = source.passages
    marks = reuse_marks(browser, "d1")
    assert marks and {m.get_attribute("data-source") for m in marks} == {"wire"}
    drawn = browser.execute_script(
        "return Array.from(document.querySelectorAll('#d1-text mark.m-reuse'))"
        ".map(m => m.textContent).join('')")
    assert drawn == passage.text
    first = browser.find_element(By.CSS_SELECTOR, "#d1-text mark.m-reuse.first")
    assert first.get_attribute("data-source-start") == str(passage.source_start)
    badge = browser.execute_script(
        "return getComputedStyle(arguments[0], '::before').content", first)
    assert badge == '"from wire"'
    ActionChains(browser).move_to_element(first).perform()
    assert "reused from wire" in browser.find_element(By.ID, "cd-tip").text
    assert reuse_marks(browser, "d0") == []  # the original reuses nothing


def test_the_original_links_to_where_its_text_is_also_found(
        browser: Any, page: tuple[Path, list[Document]]) -> None:
    path, _ = page
    open_page(browser, path)
    links = browser.find_elements(By.CSS_SELECTOR, "#d0 .also-in a")
    assert [(a.text, a.get_attribute("href").rsplit("#", 1)[1]) for a in links] == [
        ("local", "d1"), ("copy", "d2")]
    links[1].click()
    assert browser.execute_script("return location.hash") == "#d2"
    duplicate = browser.find_element(By.CSS_SELECTOR, "#d2 .duplicate")
    assert duplicate.text.startswith("Duplicate of wire")


def test_switching_reuse_off_removes_the_highlight_but_keeps_the_text(
        browser: Any, page: tuple[Path, list[Document]]) -> None:
    path, _ = page
    open_page(browser, path)
    text_before = browser.find_element(By.ID, "d1-text").text
    background = "return getComputedStyle(arguments[0]).backgroundColor"
    mark = reuse_marks(browser, "d1")[0]
    assert browser.execute_script(background, mark) != "rgba(0, 0, 0, 0)"
    browser.find_element(By.CSS_SELECTOR, '#d1 input[data-toggle="reuse"]').click()
    assert browser.execute_script(background, mark) == "rgba(0, 0, 0, 0)"
    assert browser.find_element(By.ID, "d1-text").text.replace("FROM WIRE", "").strip() \
        == text_before.replace("FROM WIRE", "").strip()
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
