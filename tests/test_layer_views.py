"""Plugin layers in the terminal and HTML views: marks with labels, toggles and panels."""

from __future__ import annotations

import re

import lxml.html
from copydesk import Document, Entity, hookimpl
from copydesk.plugin_manager import PluginManager
from copydesk.views.html import render_html
from copydesk.views.terminal import render_document
from markupsafe import Markup
from rich.console import Console

TEXT = "The minister reportedly resigned after a very long night in Ankara."


def tone_doc() -> Document:
    doc = Document(id="t1", raw_text=TEXT, text=TEXT, status="done")
    at = TEXT.index("Ankara")
    doc.entities.append(Entity(start=at, end=at + 6, text="Ankara", label="GPE",
                               canonical="Ankara"))
    doc.extensions["tone"] = {
        "score": 0.5,
        "marks": [
            {"start": 13, "end": 23, "text": "reportedly", "label": "HEDGE", "weight": 2},
            {"start": 41, "end": 45, "text": "very", "label": "INTENSIFIER", "weight": 1},
        ],
    }
    doc.extensions["readtime"] = {"words": 11, "minutes": 0.1}
    return doc


def html_of(doc: Document, plugins: PluginManager | None = None) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(render_html([doc], plugins=plugins))


def terminal_text(doc: Document, plugins: PluginManager | None = None) -> str:
    console = Console(record=True, width=120)
    console.print(render_document(doc, plugins))
    return console.export_text()


def manager_with(plugin: object) -> PluginManager:
    manager = PluginManager(load=[])
    manager.register(plugin, "tone")
    return manager


def test_html_draws_each_span_of_a_plugin_layer_as_a_mark_with_its_label() -> None:
    tree = html_of(tone_doc())
    marks = tree.cssselect('.text.cleaned .m-ext[data-layer="tone"]')
    assert [(m.text_content(), m.get("data-badge")) for m in marks] == [
        ("reportedly", "HEDGE"), ("very", "INTENSIFIER")]
    assert "weight: 2" in marks[0].get("data-tip")


def test_html_text_stays_the_documents_text_with_plugin_marks() -> None:
    tree = html_of(tone_doc())
    assert tree.cssselect(".text.cleaned")[0].text_content() == TEXT


def test_html_has_a_toggle_for_a_plugin_layer_with_marks() -> None:
    tree = html_of(tone_doc())
    toggles = [t.get("data-toggle-layer") for t in tree.cssselect("input[data-toggle-layer]")]
    assert toggles == ["tone"]  # readtime has no spans to switch off


def test_html_default_panel_lists_spans_and_fields() -> None:
    tree = html_of(tone_doc())
    tone = tree.cssselect('.plugin-layer-panel[data-layer="tone"]')[0]
    rows = [[c.text_content().strip() for c in r.cssselect("td")]
            for r in tone.cssselect("tbody tr")]
    assert rows == [["reportedly", "HEDGE", "2"], ["very", "INTENSIFIER", "1"]]
    assert tone.cssselect("td a")[0].get("href") == "#d0-x0-0"
    readtime = tree.cssselect('.plugin-layer-panel[data-layer="readtime"]')[0]
    fields = [(d.cssselect("dt")[0].text, d.cssselect("dd")[0].text)
              for d in readtime.cssselect(".layer-fields div")]
    assert fields == [("words", "11"), ("minutes", "0.1")]


def test_html_shows_a_layer_without_spans_as_key_value_rows_not_json() -> None:
    doc = tone_doc()
    doc.extensions["audit"] = {"checked": True, "counts": {"claims": 3, "sources": 1200},
                               "tags": ["economy", "rates"], "sections": [{"title": "Rates"}]}
    audit = html_of(doc).cssselect('.plugin-layer-panel[data-layer="audit"]')[0]
    fields = [(d.cssselect("dt")[0].text, d.cssselect("dd")[0].text)
              for d in audit.cssselect(".layer-fields div")]
    assert fields == [("checked", "True"), ("counts.claims", "3"), ("counts.sources", "1,200"),
                      ("tags", "economy, rates"), ("sections[0].title", "Rates")]
    assert not audit.cssselect("pre")


def test_a_layer_that_is_a_bare_list_is_drawn_with_its_marks_and_values() -> None:
    doc = tone_doc()
    doc.extensions["claims"] = [{"start": 13, "end": 23, "text": "reportedly"}]
    doc.extensions["topics"] = ["politics", "turkey"]
    tree = html_of(doc)
    assert [m.text_content() for m in tree.cssselect('.m-ext[data-layer="claims"]')] == [
        "reportedly"]
    topics = tree.cssselect('.plugin-layer-panel[data-layer="topics"] .layer-fields dd')
    assert [dd.text for dd in topics] == ["politics, turkey"]


def test_hook_layer_panel_supplies_the_html_panel_of_its_layer() -> None:
    class Tone:
        @hookimpl
        def layer_panel(self, name, layer, document, view):  # type: ignore[no-untyped-def]
            if name == "tone" and view == "html":
                return Markup('<p class="tone-score">score {}</p>').format(layer["score"])
            return None

    tree = html_of(tone_doc(), manager_with(Tone()))
    tone = tree.cssselect('.plugin-layer-panel[data-layer="tone"]')[0]
    assert tone.cssselect("p.tone-score")[0].text == "score 0.5"
    assert not tone.cssselect("table")  # the plugin's panel replaces the default
    assert tree.cssselect('.plugin-layer-panel[data-layer="readtime"] .layer-fields')
    assert len(tree.cssselect('.m-ext[data-layer="tone"]')) == 2  # marks are still drawn


def test_hook_layer_panel_plain_string_is_escaped_text() -> None:
    class Tone:
        @hookimpl
        def layer_panel(self, name, layer, document, view):  # type: ignore[no-untyped-def]
            return "<script>alert(1)</script>" if name == "tone" else None

    tree = html_of(tone_doc(), manager_with(Tone()))
    panel = tree.cssselect('.plugin-layer-panel[data-layer="tone"] .plugin-panel')[0]
    assert panel.text_content() == "<script>alert(1)</script>" and not panel.cssselect("script")


def test_hook_layer_panel_that_raises_falls_back_to_the_default() -> None:
    class Tone:
        @hookimpl
        def layer_panel(self, name, layer, document, view):  # type: ignore[no-untyped-def]
            raise KeyError("score")

    tree = html_of(tone_doc(), manager_with(Tone()))
    assert tree.cssselect('.plugin-layer-panel[data-layer="tone"] table.layer-spans')
    assert "reportedly" in terminal_text(tone_doc(), manager_with(Tone()))


def test_terminal_lists_a_plugin_layers_spans_with_labels_and_fields() -> None:
    out = terminal_text(tone_doc())
    assert "tone (plugin layer)" in out and "readtime (plugin layer)" in out
    line = next(line for line in out.splitlines() if "reportedly" in line and "HEDGE" in line)
    assert "2" in line
    assert re.search(r"score\W+0\.5", out)  # the tone layer's value beside its spans


def test_terminal_shows_a_layer_without_spans_as_a_key_value_table() -> None:
    doc = tone_doc()
    doc.extensions["audit"] = {"checked": True, "counts": {"claims": 3, "sources": 1200},
                               "tags": ["economy", "rates"], "notes": []}
    rows = {tuple(cell.strip() for cell in line.strip("│┃ ").split("│"))
            for line in terminal_text(doc).splitlines() if line.count("│") == 3}
    assert {("checked", "True"), ("counts.claims", "3"), ("counts.sources", "1,200"),
            ("tags", "economy, rates"), ("notes", "(none)")} <= rows
    assert ("words", "11") in rows


def test_terminal_styles_plugin_spans_on_the_text() -> None:
    from copydesk.views.terminal import LAYER_STYLES

    group = render_document(tone_doc())
    text = group.renderables[0].renderable  # type: ignore[attr-defined]
    styled = {(s.start, s.end, str(s.style)) for s in text.spans}
    assert (13, 23, LAYER_STYLES[0]) in styled and (41, 45, LAYER_STYLES[0]) in styled


def test_hook_layer_panel_supplies_the_terminal_panel_of_its_layer() -> None:
    class Tone:
        @hookimpl
        def layer_panel(self, name, layer, document, view):  # type: ignore[no-untyped-def]
            if name == "tone" and view == "terminal":
                return f"tone score {layer['score']:.2f}"
            return None

    out = terminal_text(tone_doc(), manager_with(Tone()))
    assert "tone score 0.50" in out and "INTENSIFIER" not in out
