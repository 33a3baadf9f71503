"""Web pages as they are: big markup, declared charsets, deep nesting."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from copydesk import Article, Pipeline, Settings
from copydesk.cli import cli
from copydesk.document import DEFAULT_MAX_CHARS, InvalidArticle, parse_article
from copydesk.inputs import InputError, read_input

from tests.conftest import shared_path

PARAGRAPH = ("The foreign minister said on Monday that the talks in Istanbul would resume "
             "next week, after both delegations agreed on a new agenda. ")


def news_page(body: str, head: str = "", filler_chars: int = 0) -> str:
    """A news page: furniture, the article, and ``filler_chars`` of inline script data."""
    script = ('<script>window.__STATE__ = ' + json.dumps({"items": "x" * filler_chars})
              + ';</script>') if filler_chars else ""
    nav = "".join(f'<li><a href="/s/{i}">Section {i}</a></li>' for i in range(40))
    return (f"<!DOCTYPE html><html><head>{head}<title>Talks to resume</title>{script}</head>"
            f"<body><nav><ul>{nav}</ul></nav><article><h1>Talks to resume</h1>{body}"
            "</article><footer>&copy; News Ltd</footer></body></html>")


def cleaning_only() -> Pipeline:
    return Pipeline.build(Settings(pipeline={"stages": ["cleaning"]}))


# -- limits ----------------------------------------------------------------------------------


def test_html_has_its_own_larger_limit_than_text() -> None:
    markup = "<html><body><p>Hello.</p>" + "<!-- -->" * 100_000 + "</body></html>"
    assert len(markup) > DEFAULT_MAX_CHARS
    assert parse_article({"html": markup}).html == markup
    with pytest.raises(InvalidArticle, match="max_article_chars"):
        parse_article({"text": "x" * (DEFAULT_MAX_CHARS + 1)})


def test_html_over_max_html_chars_is_refused_naming_the_setting() -> None:
    with pytest.raises(InvalidArticle, match=r"characters of HTML .* max_html_chars"):
        parse_article({"html": "<p>" + "x" * 200 + "</p>"}, max_html_chars=100)


def test_text_extracted_from_html_is_held_to_max_article_chars() -> None:
    pipeline = Pipeline.build(Settings(pipeline={"stages": ["cleaning"]},
                                       max_article_chars=200))
    doc = pipeline.process(Article(html=news_page(f"<p>{PARAGRAPH * 5}</p>")))
    assert doc.status == "failed"
    (run,) = doc.runs
    assert run.status == "failed" and "max_article_chars" in (run.error or "")


def test_a_large_page_file_is_read_by_default(tmp_path: Path) -> None:
    page = tmp_path / "big.html"
    page.write_text(news_page(f"<p>{PARAGRAPH}</p>", filler_chars=1_500_000), encoding="utf-8")
    assert page.stat().st_size > 1_500_000
    (article,) = read_input(str(page))
    assert isinstance(article, Article), article


@pytest.mark.slow
def test_a_1_5_mb_news_page_is_processed_by_the_default_pipeline(pipeline: Pipeline) -> None:
    body = "".join(f"<p>{PARAGRAPH}Paragraph {i}.</p>" for i in range(20))
    doc = pipeline.process(parse_article({"html": news_page(body, filler_chars=1_500_000)}))
    assert doc.status == "done"
    assert all(r.status == "ok" for r in doc.runs), doc.runs
    assert doc.text.count("Istanbul") == 20 and "__STATE__" not in doc.text


@pytest.mark.slow
def test_the_largest_benchmark_page_is_processed_by_process(tmp_path: Path) -> None:
    pages = shared_path("eval", "cleaning", "html")
    largest = max(pages.glob("*.html.gz"), key=lambda p: p.stat().st_size)
    page = tmp_path / "page.html"
    page.write_bytes(gzip.decompress(largest.read_bytes()))
    assert page.stat().st_size > DEFAULT_MAX_CHARS
    result = CliRunner().invoke(cli, ["process", str(page), "--format", "json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["status"] == "done" and len(doc["text"]) > 500


# -- charsets --------------------------------------------------------------------------------

CHARSET_PAGES = {
    "windows-1251": ('<meta charset="windows-1251">',
                     "Президент заявил в понедельник, что переговоры в Стамбуле "
                     "возобновятся на следующей неделе. «Мы готовы», — сказал министр."),
    "iso-8859-1": ('<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">',
                   "Le président a déclaré lundi que les négociations reprendraient à "
                   "Genève. « Nous sommes prêts », a-t-il ajouté, évoquant un accord."),
    "shift_jis": ("<meta http-equiv='content-type' content='text/html;charset=Shift_JIS'>",
                  "東京都は月曜日、新しい防災計画を発表した。知事は記者会見で、住民の安全を"
                  "最優先すると述べた。計画は来年四月から実施される。"),
}


@pytest.mark.parametrize("charset", sorted(CHARSET_PAGES))
def test_a_page_file_is_read_in_the_charset_it_declares(charset: str, tmp_path: Path) -> None:
    meta, text = CHARSET_PAGES[charset]
    data = news_page(f"<p>{text}</p><p>{text}</p>", head=meta).encode(charset)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the page really is in that charset
    page = tmp_path / "page.html"
    page.write_bytes(data)
    (article,) = read_input(str(page))
    assert isinstance(article, Article), article
    doc = cleaning_only().process(article)
    assert doc.status == "done"
    assert text in doc.text


def test_a_page_labelled_latin1_is_read_as_browsers_do_windows_1252(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(news_page("<p>\x93Quoted\x94 \x80 5</p>", head='<meta charset="iso-8859-1">')
                     .encode("latin-1"))
    (article,) = read_input(str(page))
    assert isinstance(article, Article) and "“Quoted” € 5" in (article.html or "")


def test_a_text_file_must_still_be_utf8(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes("Президент заявил.".encode("windows-1251"))
    (error,) = read_input(str(path))
    assert isinstance(error, InputError) and "not UTF-8" in error.message


# -- deep nesting ----------------------------------------------------------------------------


def nested(depth: int, inner: str) -> str:
    return news_page("<div>" * depth + inner + "</div>" * depth)


@pytest.mark.parametrize("depth", [260, 3000, 100_000])
def test_a_deeply_nested_page_keeps_its_text(depth: int) -> None:
    doc = cleaning_only().process(Article(html=nested(depth, f"<p>{PARAGRAPH}</p>")))
    assert doc.status == "done"
    assert PARAGRAPH.strip() in doc.text


def test_a_deeply_nested_page_without_text_fails_saying_why() -> None:
    doc = Pipeline.build(Settings(pipeline={"stages": ["cleaning", "entities"]})).process(
        Article(html="<html><body>" + "<div>" * 5000 + "</div>" * 5000 + "</body></html>"))
    assert doc.status == "failed" and doc.text == ""
    cleaning, entities = doc.runs
    assert cleaning.status == "failed"
    assert "nested 5,002 elements deep" in (cleaning.error or "")
    assert entities.status == "skipped" and "could not make text" in (entities.error or "")
