"""A readable terminal view of a Document (rich): marked text, summary, quotes, runs.

Plugin layers (``extensions``) are drawn too: their spans are styled on the text like
the built-in layers, and each layer gets a panel, the plugin's own through the
``layer_panel`` hook or by default a table of its spans (with their labels) and a key/value
table of its other values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from copydesk.document import Document
from copydesk.layers import find_spans, layer_fields
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from copydesk.plugin_manager import PluginManager

#: Styles of plugin layers' spans, one per layer in the order the layers appear.
LAYER_STYLES = ("underline bright_magenta", "underline bright_cyan", "underline bright_yellow",
                "underline bright_green", "underline bright_blue", "underline bright_red")

ENTITY_STYLES = {
    "PERSON": "bold cyan",
    "ORG": "bold magenta",
    "GPE": "bold green",
    "LOC": "bold green",
    "NORP": "bold yellow",
}


def render_document(doc: Document, plugins: PluginManager | None = None) -> Group:
    """The document as rich renderables: marked text first, then the layers as tables
    (``plugins`` answers the ``layer_panel`` hook for plugin layers)."""
    text = Text(doc.text)
    for heading in doc.headings:
        text.stylize("bold underline", heading.start, heading.end)
    for quote in doc.quotes:
        text.stylize("italic", quote.start, quote.end)
    for number in doc.numbers:
        text.stylize("reverse", number.start, number.end)
    for ent in doc.entities:
        text.stylize(ENTITY_STYLES.get(ent.label, "bold"), ent.start, ent.end)
    layer_parts = []
    for i, (name, value) in enumerate(doc.extensions.items()):
        style = LAYER_STYLES[i % len(LAYER_STYLES)]
        for span in find_spans(name, value):
            if 0 <= span.start < span.end <= len(doc.text):
                text.stylize(style, span.start, span.end)
        layer_parts.append(_layer_panel(doc, name, value, style, plugins))
    parts: list[object] = [
        Panel(text, title=f"[b]{doc.title or doc.id}[/b]", subtitle=f"status: {doc.status}")
    ]
    if doc.summary and doc.summary.sentences:
        parts.append(Panel(doc.summary.text, title="summary"))
    if doc.entities:
        table = Table("entity", "label", "mentions", title="entities")
        counts: dict[tuple[str, str], int] = {}
        for ent in doc.entities:
            counts[(ent.canonical, ent.label)] = counts.get((ent.canonical, ent.label), 0) + 1
        for (canonical, label), n in sorted(counts.items(), key=lambda kv: -kv[1]):
            table.add_row(canonical, label, str(n))
        parts.append(table)
    if doc.numbers:
        table = Table("text", "kind", "value", "unit", "qualifier", title="numbers")
        for num in doc.numbers:
            table.add_row(num.text, num.kind, _fmt(num.value), num.unit or "",
                          num.qualifier or "")
        parts.append(table)
    if doc.quotes:
        table = Table("speaker", "cue", "kind", "quote", title="quotes")
        for q in doc.quotes:
            who = (q.speaker.canonical or q.speaker.text) if q.speaker else "—"
            table.add_row(who, q.cue or "", q.kind, q.text[:120])
        parts.append(table)
    parts.extend(layer_parts)
    table = Table("stage", "plugin", "status", "ms", "error", title="runs")
    for run in doc.runs:
        style = {"ok": "green", "failed": "red", "skipped": "yellow"}[run.status]
        table.add_row(run.stage, f"{run.plugin} {run.version}", Text(run.status, style=style),
                      f"{run.duration_ms:.1f}", run.error or "")
    parts.append(table)
    if doc.removed:
        table = Table("reason", "removed text", title="removed by cleaning")
        for r in doc.removed:
            table.add_row(r.reason, r.text.strip()[:100])
        parts.append(table)
    return Group(*parts)  # type: ignore[arg-type]


def _layer_panel(doc: Document, name: str, value: Any, style: str,
                 plugins: PluginManager | None) -> Any:
    """The plugin's own panel for a layer, else a table of its spans (text, label and their
    plain fields) and a key/value table of its other values (``layer_fields``)."""
    title = f"{name} (plugin layer)"
    if plugins is not None:
        own = plugins.layer_panel(name, value, doc, "terminal")
        if own is not None and (isinstance(own, str) or hasattr(own, "__rich_console__")
                                or hasattr(own, "__rich__")):
            return Panel(own, title=title)
    spans = find_spans(name, value)
    rows = layer_fields(value, _cell)
    fields = Table("field", "value", title=None if spans else title, min_width=len(title) + 2)
    for key, text in rows or [("(empty layer)", "")]:
        fields.add_row(key, text)
    if not spans:
        return fields
    extra = sorted({k for s in spans for k, v in s.fields.items()
                    if k not in ("start", "end", "text", "label") and _is_scalar(v)})
    table = Table("text", "label", *extra, title=title, min_width=len(title) + 2)
    for span in spans:
        table.add_row(Text(span.text[:80], style=style), span.label or "—",
                      *(_fmt(span.fields.get(k)) for k in extra))
    return Group(table, fields) if rows else table


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _cell(value: object) -> str:
    return "—" if value is None else _fmt(value)


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


#: The width of standard output when it is not a terminal: wide enough that no message
#: or table row is wrapped (rich's default there is 80 columns).
UNWRAPPED_WIDTH = 1_000


def out_console() -> Console:
    """Standard output for people (tables, reports): on a terminal, as wide as the terminal;
    elsewhere (a pipe, a file, a CI log) each line as long as it is, not wrapped at 80."""
    console = Console(soft_wrap=True)
    return console if console.is_terminal else Console(soft_wrap=True, width=UNWRAPPED_WIDTH)


def print_document(doc: Document, console: Console,
                   plugins: PluginManager | None = None) -> None:
    console.print(render_document(doc, plugins))
