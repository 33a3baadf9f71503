"""A readable terminal view of a Document (rich): marked text, summary, quotes, runs."""

from __future__ import annotations

from copydesk.document import Document
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

ENTITY_STYLES = {
    "PERSON": "bold cyan",
    "ORG": "bold magenta",
    "GPE": "bold green",
    "LOC": "bold green",
    "NORP": "bold yellow",
}


def render_document(doc: Document) -> Group:
    """The document as rich renderables: marked text first, then the layers as tables."""
    text = Text(doc.text)
    for heading in doc.headings:
        text.stylize("bold underline", heading.start, heading.end)
    for quote in doc.quotes:
        text.stylize("italic", quote.start, quote.end)
    for number in doc.numbers:
        text.stylize("reverse", number.start, number.end)
    for ent in doc.entities:
        text.stylize(ENTITY_STYLES.get(ent.label, "bold"), ent.start, ent.end)
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


def _fmt(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def print_document(doc: Document, console: Console) -> None:
    console.print(render_document(doc))
