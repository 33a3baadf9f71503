"""The annotated HTML view: span nesting, every layer drawn, escaping, self-containment."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import lxml.html
import pytest
from copydesk.document import Article, Document, Entity, NumberMention, Quote, Speaker
from copydesk.views.html import Mark, Token, csp_hash, nest, render_html

from tests.helpers import copy_project
from tests.viewdocs import FTSE_SENTENCE, annotated_sample, find, hostile_document

ROOT = Path(__file__).resolve().parents[1]


def well_nested(tokens: list[Token]) -> bool:
    stack: list[str] = []
    for token in tokens:
        if token.kind == "open":
            assert token.mark is not None
            stack.append(token.mark.key)
        elif token.kind == "close":
            assert token.mark is not None
            if not stack or stack.pop() != token.mark.key:
                return False
    return not stack


def mark(text: str, needle: str, layer: str, key: str) -> Mark:
    start, end = find(text, needle)
    return Mark(start=start, end=end, layer=layer, key=key)


def shape(tokens: list[Token]) -> str:
    """The token stream as a compact string: [key text ]key."""
    out = []
    for t in tokens:
        if t.kind == "text":
            out.append(t.text)
        elif t.kind == "open":
            assert t.mark is not None
            out.append(f"[{t.mark.key}:")
        else:
            assert t.mark is not None
            out.append(f":{t.mark.key}]")
    return "".join(out)


def page(html: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(html)


@pytest.fixture(scope="module")
def doc(sample_text: str) -> Document:
    return annotated_sample(sample_text)


@pytest.fixture(scope="module")
def tree(doc: Document) -> lxml.html.HtmlElement:
    return page(render_html([doc]))


# -- nesting ------------------------------------------------------------------------------


def test_an_entity_inside_a_quote_opens_after_the_quote_and_closes_before_it() -> None:
    text = ('"Managers have torn up agreed procedures," said Jeremy Dear, NUJ General '
            'Secretary.')
    quote = mark(text, 'Managers have torn up agreed procedures', "quote", "q")
    entity = mark(text, "Managers", "entity", "e")
    tokens = nest(text, [entity, quote])
    assert shape(tokens) == ('"[q:[e:Managers:e] have torn up agreed procedures:q]," said '
                             'Jeremy Dear, NUJ General Secretary.')


def test_a_number_inside_an_entity_nests_inside_it() -> None:
    entity = mark(FTSE_SENTENCE, "FTSE 100", "entity", "e")
    number = mark(FTSE_SENTENCE, "100", "number", "n")
    tokens = nest(FTSE_SENTENCE, [number, entity])
    assert shape(tokens) == ("In London, the [e:FTSE [n:100:n]:e] index closed 15 points "
                             "higher at 4,751.")


def test_crossing_spans_split_the_later_one_into_fragments_that_share_its_key() -> None:
    entity = mark(FTSE_SENTENCE, "FTSE 100 index", "entity", "e")
    number = mark(FTSE_SENTENCE, "100 index closed 15", "number", "n")
    tokens = nest(FTSE_SENTENCE, [entity, number])
    assert well_nested(tokens)
    assert shape(tokens) == ("In London, the [e:FTSE [n:100 index:n]:e][n: closed 15:n] "
                             "points higher at 4,751.")
    opens = [t for t in tokens if t.kind == "open" and t.mark and t.mark.key == "n"]
    assert [(t.first, t.last) for t in opens] == [(True, False), (False, True)]


def test_spans_covering_the_same_characters_nest_in_layer_order() -> None:
    text = "said Jeremy Dear, NUJ General Secretary."
    entity = mark(text, "Jeremy Dear", "entity", "e")
    speaker = mark(text, "Jeremy Dear", "speaker", "s")
    assert shape(nest(text, [entity, speaker])) == (
        "said [s:[e:Jeremy Dear:e]:s], NUJ General Secretary.")


def test_empty_and_out_of_range_spans_are_not_drawn() -> None:
    text = "In London"
    marks = [Mark(start=3, end=3, layer="entity", key="empty"),
             Mark(start=3, end=99, layer="entity", key="past")]
    assert shape(nest(text, marks)) == "In London"


def test_random_overlapping_spans_nest_and_each_covers_exactly_its_characters() -> None:
    import random

    rng = random.Random(20261125)
    text = FTSE_SENTENCE * 3
    layers = ["summary", "heading", "quote", "speaker", "entity", "number"]
    for _ in range(50):
        marks = []
        for i in range(rng.randint(1, 25)):
            start = rng.randrange(len(text))
            end = rng.randint(start + 1, min(len(text), start + 60))
            marks.append(Mark(start=start, end=end, layer=rng.choice(layers), key=f"k{i}"))
        tokens = nest(text, marks)
        assert well_nested(tokens)
        covered: dict[str, list[tuple[int, int]]] = {m.key: [] for m in marks}
        open_keys: list[str] = []
        position = 0
        for t in tokens:
            if t.kind == "open" and t.mark:
                open_keys.append(t.mark.key)
            elif t.kind == "close":
                open_keys.pop()
            else:
                for key in open_keys:
                    covered[key].append((position, position + len(t.text)))
                position += len(t.text)
        for m in marks:
            chars = [c for a, b in covered[m.key] for c in range(a, b)]
            assert chars == list(range(m.start, m.end)), m


def test_nesting_keeps_every_character_of_the_text_in_order(doc: Document) -> None:
    from copydesk.views.html import text_marks

    tokens = nest(doc.text, text_marks(doc, "d0"))
    assert "".join(t.text for t in tokens if t.kind == "text") == doc.text
    assert well_nested(tokens)


# -- the page -----------------------------------------------------------------------------


def test_the_cleaned_text_on_the_page_is_exactly_the_document_text(
    doc: Document, tree: lxml.html.HtmlElement
) -> None:
    assert tree.get_element_by_id("d0-text").text_content() == doc.text


def test_the_raw_text_on_the_page_is_exactly_the_raw_text(
    doc: Document, tree: lxml.html.HtmlElement
) -> None:
    assert tree.get_element_by_id("d0-raw").text_content() == doc.raw_text


def test_every_entity_is_marked_with_its_label_and_canonical(
    doc: Document, tree: lxml.html.HtmlElement
) -> None:
    for i, ent in enumerate(doc.entities):
        element = tree.get_element_by_id(f"d0-e{i}")
        assert element.get("data-label") == ent.label
        assert element.get("data-badge") == ent.label
        assert f"canonical: {ent.canonical}" in element.get("data-tip")
        assert f"lab-{ent.label}" in element.classes


def test_every_number_carries_its_value_unit_and_qualifier_in_its_tip(
    tree: lxml.html.HtmlElement,
) -> None:
    tip = tree.get_element_by_id("d0-n0").get("data-tip")
    assert tip == "money · value: 7,000,000,000 · unit: USD · qualifier: approximately"
    assert tree.get_element_by_id("d0-n4").get("data-qualifier") == "at_least"


def test_a_quote_names_its_speaker_element_and_the_speaker_names_the_quote(
    doc: Document, tree: lxml.html.HtmlElement
) -> None:
    for i, quote in enumerate(doc.quotes):
        element = tree.get_element_by_id(f"d0-q{i}")
        assert quote.speaker is not None
        speaker = tree.get_element_by_id(element.get("data-speaker"))
        assert speaker.text_content() == quote.speaker.text
        assert f"d0-q{i}" in speaker.get("data-quotes").split()


def test_quote_kinds_are_told_apart_by_class_and_badge(tree: lxml.html.HtmlElement) -> None:
    kinds = [(tree.get_element_by_id(f"d0-q{i}").get("data-kind"),
              tree.get_element_by_id(f"d0-q{i}").get("data-badge")) for i in range(3)]
    assert kinds == [("direct", "direct quote"), ("according_to", "according to"),
                     ("indirect", "indirect quote")]


def test_summary_sentences_are_highlighted_with_their_rank(tree: lxml.html.HtmlElement) -> None:
    marks = tree.cssselect("#d0-text mark.m-summary.first")
    assert [m.get("data-badge") for m in marks] == ["summary 1", "summary 2"]


def test_headings_are_marked_as_headings_with_their_level(
    doc: Document, tree: lxml.html.HtmlElement
) -> None:
    heads = tree.cssselect('#d0-text [role="heading"]')
    assert [(h.text_content(), h.get("aria-level")) for h in heads] == [
        (h.text, str(h.level)) for h in doc.headings]


def test_cleaning_removals_are_struck_through_in_the_raw_text_with_their_reason(
    doc: Document, tree: lxml.html.HtmlElement
) -> None:
    removed = tree.cssselect("#d0-raw del.m-removed")
    assert [(d.text_content(), d.get("data-reason")) for d in removed] == [
        (r.text, r.reason) for r in doc.removed]


def test_entities_panel_groups_mentions_by_canonical_with_counts(
    tree: lxml.html.HtmlElement,
) -> None:
    rows = {row.cssselect("th")[0].text_content(): row.cssselect("td.num")[0].text_content()
            for row in tree.cssselect("table.entities tbody tr")}
    assert rows["Volodymyr Zelenskyy"] == "2"
    assert rows["Kremlin"] == "2"
    assert rows["Istanbul"] == "1"


def test_tables_list_numbers_quotes_and_runs(
    doc: Document, tree: lxml.html.HtmlElement
) -> None:
    assert len(tree.cssselect("table.numbers tbody tr")) == len(doc.numbers)
    quote_rows = tree.cssselect("table.quotes tbody tr")
    assert [r.cssselect("td")[1].text_content() for r in quote_rows] == [
        q.cue for q in doc.quotes]
    runs = tree.cssselect("table.runs tbody tr")
    assert runs[2].cssselect("td.error")[0].text_content() == doc.runs[2].error


def test_extensions_are_shown_as_plain_json(doc: Document, tree: lxml.html.HtmlElement) -> None:
    shown = tree.cssselect("pre.extensions")[0].text_content()
    assert json.loads(shown) == doc.extensions


def test_the_page_embeds_the_document_json_it_shows(
    doc: Document, tree: lxml.html.HtmlElement
) -> None:
    data = tree.get_element_by_id("d0-json").text_content()
    assert Document.model_validate_json(data) == doc


def test_a_document_with_no_layers_still_renders(sample_text: str) -> None:
    bare = Document.from_article(Article(text=sample_text))
    tree = page(render_html([bare]))
    assert tree.get_element_by_id("d0-text").text_content() == sample_text
    notes = [p.text_content() for p in tree.cssselect("p.none")]
    assert "No entities in this document." in notes
    assert "No quotes in this document." in notes


def test_several_documents_get_a_contents_list_and_distinct_ids(
    doc: Document, sample_text: str
) -> None:
    bare = Document.from_article(Article(text=sample_text))
    tree = page(render_html([doc, bare]))
    assert [a.get("href") for a in tree.cssselect("nav.toc a")] == ["#d0", "#d1"]
    ids = [e.get("id") for e in tree.iter() if e.get("id")]
    assert len(ids) == len(set(ids))


# -- safety -------------------------------------------------------------------------------


def test_markup_in_an_article_reaches_the_page_as_text_only() -> None:
    hostile = hostile_document()
    html = render_html([hostile])
    tree = page(html)
    scripts = tree.cssselect("script")
    assert [s.get("type") for s in scripts] == ["application/json", None]
    assert "__copydeskPwned" not in scripts[1].text_content()
    assert not tree.cssselect("img, svg, b, evil")
    assert not [e for e in tree.iter() for name in e.attrib if name.startswith("on")]
    assert tree.get_element_by_id("d0-text").text_content() == hostile.text
    assert not [a for a in tree.cssselect("a") if a.get("href", "").startswith("javascript")]


def test_the_embedded_json_cannot_close_its_script_element() -> None:
    html = render_html([hostile_document()])
    block = re.search(r'<script type="application/json"[^>]*>(.*?)</script>', html, re.S)
    assert block is not None
    assert "<" not in block.group(1)
    assert json.loads(block.group(1))["extensions"]["x"].startswith("</script>")


def test_the_content_security_policy_allows_only_the_inline_script_and_style(
    tree: lxml.html.HtmlElement,
) -> None:
    policy = tree.cssselect('meta[http-equiv="Content-Security-Policy"]')[0].get("content")
    script = next(s for s in tree.cssselect("script") if s.get("type") is None).text
    style = tree.cssselect("style")[0].text
    assert f"script-src {csp_hash(script)};" in policy
    assert f"style-src {csp_hash(style)};" in policy
    assert "default-src 'none'" in policy


def test_the_page_references_nothing_outside_itself(tree: lxml.html.HtmlElement) -> None:
    assert not tree.cssselect("link, img, iframe, script[src]")
    hrefs = [a.get("href") for a in tree.cssselect("a")]
    external = [h for h in hrefs if not h.startswith("#")]
    assert external == ["https://example.org/news/istanbul-talks"]


def test_a_speaker_shared_by_two_quotes_is_one_element_linked_to_both() -> None:
    text = FTSE_SENTENCE + ' "Markets were calm," said Paul Sheard. "Very calm."'
    speaker = Speaker(**dict(zip(("start", "end"), find(text, "Paul Sheard"), strict=True)),
                      text="Paul Sheard")
    quotes = [
        Quote(start=s, end=e, text=text[s:e], kind="direct", speaker=speaker, cue="said")
        for s, e in (find(text, '"Markets were calm,"'), find(text, '"Very calm."'))
    ]
    doc = Document(id="two", raw_text=text, text=text, quotes=quotes,
                   entities=[Entity(start=speaker.start, end=speaker.end, text=speaker.text,
                                    label="PERSON", canonical="Paul Sheard")],
                   numbers=[NumberMention(**dict(zip(("start", "end"),
                                                     find(text, "100"), strict=True)),
                                          text="100", kind="cardinal", value=100)])
    tree = page(render_html([doc]))
    speakers = tree.cssselect("#d0-text .m-speaker")
    assert len(speakers) == 1
    assert speakers[0].get("data-quotes") == "d0-q0 d0-q1"
    assert speakers[0].cssselect(".m-entity")[0].text_content() == "Paul Sheard"


# -- the command line and packaging -----------------------------------------------------------


@pytest.mark.slow
def test_templates_ship_in_the_wheel(tmp_path: Path) -> None:
    source = copy_project(ROOT, tmp_path / "src")  # the build leaves nothing in the work tree
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "dist"), str(source)],
        check=True, capture_output=True,
    )
    wheel = next((tmp_path / "dist").glob("copydesk-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for asset in ("base.html.j2", "view.html.j2", "document.html.j2", "view.css", "view.js"):
        assert f"copydesk/views/templates/{asset}" in names
    for asset in ("index.html.j2", "status.html.j2"):
        assert f"copydesk/workers/gateway/templates/{asset}" in names
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(site), str(wheel)], check=True, capture_output=True)
    script = ("import copydesk, copydesk.views.html as v; from copydesk.document import Document; "
              "print(copydesk.__file__); "
              "print(len(v.render_html([Document(id='a', raw_text='x', text='x')])))")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True,
                          capture_output=True, text=True, env={"PYTHONPATH": str(site)})
    where, size = done.stdout.split()
    assert Path(where).is_relative_to(site)
    assert int(size) > 1000


def test_carriage_returns_survive_html_parsing_so_offsets_hold() -> None:
    text = "Kyiv said.\r\nMoscow said nothing.\rAnkara waited."
    start, end = find(text, "Moscow")
    doc = Document(id="crlf", raw_text=text, text=text, entities=[
        Entity(start=start, end=end, text="Moscow", label="GPE", canonical="Moscow")])
    tree = page(render_html([doc]))
    assert tree.get_element_by_id("d0-text").text_content() == text
