"""The annotated HTML view of Documents: one self-contained page, like displaCy for copydesk.

``render_html(docs)`` returns a page that opens offline from a file: CSS and a small
script are inlined, nothing is fetched. Every layer of a Document is drawn on its text
(entities, numbers, quotes and their speakers, summary sentences, headings, passages reused
from earlier articles), and what cleaning removed is shown in place in the raw text. The
reuse panel links each Document to the others it shares text with ("also in"): on the same
page by anchor, else by id. Panels list the same layers as
tables, plus the stage runs and the ``extensions`` as JSON. A plugin's layer in
``extensions`` is drawn like the built-in ones: each span in it (any object with
``start``, ``end`` and ``text``) is a mark with its ``label`` as badge, the layer has a
toggle, and a panel, the plugin's own (the ``layer_panel`` hook) or a default table.

Spans may nest or cross (an entity inside a quote, a number inside an entity, two
spans overlapping without nesting). ``nest()`` turns any set of spans into a
well-nested stream of open/text/close tokens by splitting the text at every span
boundary; a span that crosses another is drawn as several fragments that share one
key. The templates (``core/views/templates``, Jinja2 with autoescaping) turn those tokens
into elements, so every character of the article reaches the page escaped.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Literal

from copydesk.document import Document, NumberMention, Quote
from copydesk.layers import LayerSpan, find_spans, layer_fields
from jinja2 import BaseLoader, ChoiceLoader, Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

if TYPE_CHECKING:
    from copydesk.plugin_manager import PluginManager

#: Outer-to-inner order of layers whose spans cover exactly the same characters.
LAYER_ORDER: tuple[str, ...] = (
    "removed", "summary", "reuse", "heading", "quote", "speaker", "entity", "number", "ext",
)

#: How many distinct looks plugin layers cycle through (classes xl-0 … xl-5).
PLUGIN_PALETTE = 6
_RANK = {layer: i for i, layer in enumerate(LAYER_ORDER)}

#: Entity labels with a style of their own; any other label gets the neutral style.
STYLED_LABELS: tuple[str, ...] = (
    "PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "PRODUCT", "LAW",
    "WORK_OF_ART", "LANGUAGE", "MISC",
)

QUOTE_KIND_LABELS = {
    "direct": "direct quote",
    "indirect": "indirect quote",
    "according_to": "according to",
}


@dataclass(frozen=True)
class Mark:
    """One span to draw: ``[start, end)`` of a text, with the element that marks it."""

    start: int
    end: int
    layer: str
    key: str
    tag: str = "span"
    classes: tuple[str, ...] = ()
    attrs: tuple[tuple[str, str], ...] = ()
    tip: str = ""
    badge: str = ""
    seq: int = 0

    def sort_key(self) -> tuple[int, int, int, int]:
        """Outer marks first: earlier start, then later end, then layer order."""
        return (self.start, -self.end, _RANK.get(self.layer, len(_RANK)), self.seq)


@dataclass(frozen=True)
class Token:
    """An event of the nested stream: open a mark, close it, or a run of text."""

    kind: Literal["open", "close", "text"]
    text: str = ""
    mark: Mark | None = None
    first: bool = False  # the first fragment of its mark (carries the element id)
    last: bool = False  # the last fragment of its mark


def nest(text: str, marks: Iterable[Mark]) -> list[Token]:
    """Split ``text`` at every mark boundary and emit well-nested open/text/close tokens.

    Within each stretch between two boundaries the covering marks are opened outermost
    first (see ``Mark.sort_key``). Moving to the next stretch keeps open the longest
    run of marks that still apply in the same order and closes the rest, so a mark that
    crosses another one is split into fragments instead of producing crossed tags.
    Empty and out-of-range marks are dropped: they cannot be drawn.
    """
    usable = sorted(
        (m for m in marks if 0 <= m.start < m.end <= len(text)), key=Mark.sort_key
    )
    bounds = sorted({0, len(text), *(m.start for m in usable), *(m.end for m in usable)})
    plan: list[tuple[int, int, list[Mark]]] = []
    active: list[Mark] = []
    index = 0
    for a, b in pairwise(bounds):
        active = [m for m in active if m.end > a]
        while index < len(usable) and usable[index].start <= a:
            active.append(usable[index])
            index += 1
        active.sort(key=Mark.sort_key)
        plan.append((a, b, list(active)))

    # First pass: which marks open in each stretch, and how many fragments each gets.
    fragments_left: Counter[str] = Counter()
    opened_per_stretch: list[tuple[int, list[Mark], list[Mark]]] = []
    stack: list[Mark] = []
    for _a, _b, wanted in plan:
        keep = 0
        while keep < len(stack) and keep < len(wanted) and stack[keep] is wanted[keep]:
            keep += 1
        closing = stack[keep:]
        opening = wanted[keep:]
        for mark in opening:
            fragments_left[mark.key] += 1
        opened_per_stretch.append((keep, closing, opening))
        stack = list(wanted)

    # Second pass: emit tokens, flagging first and last fragments.
    tokens: list[Token] = []
    seen: set[str] = set()
    emitted: Counter[str] = Counter()
    stack = []
    for (a, b, _wanted), (keep, closing, opening) in zip(plan, opened_per_stretch, strict=True):
        for mark in reversed(closing):
            tokens.append(Token("close", mark=mark))
        stack = stack[:keep]
        for mark in opening:
            emitted[mark.key] += 1
            tokens.append(Token(
                "open", mark=mark, first=mark.key not in seen,
                last=emitted[mark.key] == fragments_left[mark.key],
            ))
            seen.add(mark.key)
            stack.append(mark)
        tokens.append(Token("text", text=text[a:b]))
    for mark in reversed(stack):
        tokens.append(Token("close", mark=mark))
    return tokens


def token_attrs(token: Token) -> dict[str, str]:
    """The attributes of an opening tag: the first fragment carries the id and is focusable."""
    mark = token.mark
    assert mark is not None
    classes = [*mark.classes, "first" if token.first else "cont"]
    if token.last:
        classes.append("last")
    attrs = {"class": " ".join(classes), "data-key": mark.key}
    if token.first:
        attrs["id"] = mark.key
        attrs["tabindex"] = "0"
    if mark.tip:
        attrs["data-tip"] = mark.tip
    if mark.badge:
        attrs["data-badge"] = mark.badge
    attrs.update(mark.attrs)
    return attrs


# -- building the marks of a document ------------------------------------------------------


def _fmt_value(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e18:
        return f"{int(value):,}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.6g}"
    return str(value)


def number_value_text(number: NumberMention) -> str:
    """The normalized value of a number as a person reads it: '7,000,000,000' or '10–12'."""
    text = _fmt_value(number.value)
    if number.value_max is not None:
        text += f"–{_fmt_value(number.value_max)}"
    return text


def _label_class(label: str) -> str:
    return "lab-" + (label if label in STYLED_LABELS else "other")


def _safe_token(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", text) or "_"


def _speaker_name(quote: Quote) -> str:
    if quote.speaker is None:
        return "unattributed"
    return quote.speaker.canonical or quote.speaker.text


def _speaker_keys(doc: Document, prefix: str) -> dict[tuple[int, int], str]:
    """One key per distinct speaker span, numbered in the order of the quotes."""
    keys: dict[tuple[int, int], str] = {}
    for quote in doc.quotes:
        if quote.speaker is not None:
            keys.setdefault((quote.speaker.start, quote.speaker.end),
                            f"{prefix}-sp{len(keys)}")
    return keys


def _normalized_text(number: NumberMention) -> str:
    """The normalized value and unit of a number ('' when it has none)."""
    if number.normalized is None:
        return ""
    return f"{_fmt_value(number.normalized.value)} {number.normalized.unit}"


@dataclass
class PluginLayerView:
    """One plugin layer of a Document: its marks' rows and fields, or the plugin's panel."""

    name: str
    key: str
    palette: int
    rows: list[dict[str, Any]]
    columns: list[str]
    #: Its values other than spans, flattened to key/value rows (``layer_fields``).
    fields: list[tuple[str, str]]
    panel: Markup | None


def _ext_key(prefix: str, layer_index: int, span_index: int) -> str:
    return f"{prefix}-x{layer_index}-{span_index}"


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _span_extras(span: LayerSpan) -> list[tuple[str, str]]:
    return [(k, _fmt_value(v)) for k, v in span.fields.items()
            if k not in ("start", "end", "text", "label") and _is_scalar(v)]


def _plugin_panel(plugins: PluginManager | None, name: str, value: Any,
                  doc: Document) -> Markup | None:
    if plugins is None:
        return None
    own = plugins.layer_panel(name, value, doc, "html")
    if isinstance(own, Markup):
        return own
    if isinstance(own, str):
        return Markup("<p>{}</p>").format(own)  # a plain string is text, escaped
    return None


def plugin_layer_views(doc: Document, prefix: str,
                       plugins: PluginManager | None = None) -> list[PluginLayerView]:
    """The panels of the plugin layers in ``doc.extensions``, in the order they were written."""
    views = []
    for li, (name, value) in enumerate(doc.extensions.items()):
        spans = find_spans(name, value)
        extras = [dict(_span_extras(span)) for span in spans]
        rows: list[dict[str, Any]] = [
            {"span": span, "key": _ext_key(prefix, li, i), "extras": extras[i]}
            for i, span in enumerate(spans)]
        columns = sorted({k for row_extras in extras for k in row_extras})
        views.append(PluginLayerView(
            name=name, key=f"{prefix}-layer{li}", palette=li % PLUGIN_PALETTE, rows=rows,
            columns=columns, fields=layer_fields(value, _fmt_value),
            panel=_plugin_panel(plugins, name, value, doc),
        ))
    return views


@dataclass
class DocumentView:
    """Everything the template needs to draw one Document, computed once."""

    doc: Document
    prefix: str
    heading: str
    text_tokens: list[Token]
    raw_tokens: list[Token]
    entity_groups: list[dict[str, Any]]
    number_rows: list[dict[str, Any]]
    quote_rows: list[dict[str, Any]]
    summary_rows: list[dict[str, Any]]
    removal_reasons: list[tuple[str, int]]
    plugin_layers: list[PluginLayerView]
    reuse_rows: list[dict[str, Any]]
    also_in: list[dict[str, Any]]
    duplicate_of: dict[str, Any] | None
    layer_counts: dict[str, int]
    extensions_json: str
    metadata_json: str
    document_json: Markup
    safe_url: str | None


def text_marks(doc: Document, prefix: str) -> list[Mark]:
    """Marks for every layer drawn on the cleaned text; keys are unique within the page."""
    marks: list[Mark] = []
    seq = 0

    def add(**kwargs: Any) -> None:
        nonlocal seq
        marks.append(Mark(seq=seq, **kwargs))
        seq += 1

    if doc.summary is not None:
        ranked = sorted(range(len(doc.summary.sentences)),
                        key=lambda i: -doc.summary.sentences[i].score)  # type: ignore[union-attr]
        rank = {i: r + 1 for r, i in enumerate(ranked)}
        for i, sent in enumerate(doc.summary.sentences):
            add(start=sent.start, end=sent.end, layer="summary", key=f"{prefix}-s{i}",
                tag="mark", classes=("m", "m-summary"),
                tip=f"summary sentence, rank {rank[i]} (score {sent.score:.3f})",
                badge=f"summary {rank[i]}")
    for si, source in enumerate(doc.reuse.sources if doc.reuse else []):
        for pi, passage in enumerate(source.passages):
            add(start=passage.start, end=passage.end, layer="reuse",
                key=f"{prefix}-u{si}-{pi}", tag="mark", classes=("m", "m-reuse"),
                attrs=(("data-source", source.id),
                       ("data-source-start", str(passage.source_start)),
                       ("data-source-end", str(passage.source_end))),
                tip=f"reused from {source.id} · its characters "
                    f"{passage.source_start}–{passage.source_end}",
                badge=f"from {source.id}")
    for i, heading in enumerate(doc.headings):
        add(start=heading.start, end=heading.end, layer="heading", key=f"{prefix}-h{i}",
            classes=("m", "m-heading", f"lvl-{heading.level}"),
            attrs=(("role", "heading"), ("aria-level", str(heading.level))),
            tip=f"heading, level {heading.level}", badge=f"H{heading.level}")

    # Speakers: one mark per distinct speaker span, linked to every quote it speaks.
    speaker_keys = _speaker_keys(doc, prefix)
    speaker_quotes: dict[str, list[int]] = defaultdict(list)
    for i, quote in enumerate(doc.quotes):
        if quote.speaker is not None:
            speaker_quotes[speaker_keys[(quote.speaker.start, quote.speaker.end)]].append(i)
    for i, quote in enumerate(doc.quotes):
        attrs: list[tuple[str, str]] = [("data-kind", quote.kind)]
        if quote.speaker is not None:
            attrs.append(("data-speaker",
                          speaker_keys[(quote.speaker.start, quote.speaker.end)]))
        tip = f"{QUOTE_KIND_LABELS[quote.kind]} · speaker: {_speaker_name(quote)}"
        tip += f" · cue: {quote.cue or '—'}"
        add(start=quote.start, end=quote.end, layer="quote", key=f"{prefix}-q{i}",
            classes=("m", "m-quote", f"qk-{quote.kind}"), attrs=tuple(attrs), tip=tip,
            badge=QUOTE_KIND_LABELS[quote.kind])
    for (start, end), key in speaker_keys.items():
        quotes = speaker_quotes[key]
        quote_ids = " ".join(f"{prefix}-q{i}" for i in quotes)
        name = _speaker_name(doc.quotes[quotes[0]])
        add(start=start, end=end, layer="speaker", key=key,
            classes=("m", "m-speaker"), attrs=(("data-quotes", quote_ids),),
            tip=f"speaker: {name} · of {len(quotes)} quote(s)", badge="speaker")
    for i, ent in enumerate(doc.entities):
        add(start=ent.start, end=ent.end, layer="entity", key=f"{prefix}-e{i}",
            classes=("m", "m-entity", _label_class(ent.label)),
            attrs=(("data-label", ent.label), ("data-canonical", ent.canonical)),
            tip=f"{ent.label} · canonical: {ent.canonical}", badge=ent.label)
    for i, num in enumerate(doc.numbers):
        tip = (f"{num.kind} · value: {number_value_text(num)} · unit: {num.unit or '—'}"
               f" · qualifier: {num.qualifier or '—'}")
        if num.normalized is not None:
            tip += f" · normalized: {_normalized_text(num)}"
        attrs = [("data-kind", num.kind), ("data-value", json.dumps(num.value))]
        if num.unit:
            attrs.append(("data-unit", num.unit))
        if num.qualifier:
            attrs.append(("data-qualifier", num.qualifier))
        add(start=num.start, end=num.end, layer="number", key=f"{prefix}-n{i}",
            classes=("m", "m-number", f"nk-{_safe_token(num.kind)}"), attrs=tuple(attrs),
            tip=tip, badge=num.kind)
    for li, (name, value) in enumerate(doc.extensions.items()):
        for i, span in enumerate(find_spans(name, value)):
            label = span.label or name
            details = " · ".join(f"{k}: {v}" for k, v in _span_extras(span))
            ext_attrs = [("data-layer", name)]
            if span.label:
                ext_attrs.append(("data-label", span.label))
            add(start=span.start, end=span.end, layer="ext", key=_ext_key(prefix, li, i),
                classes=("m", "m-ext", f"xl-{li % PLUGIN_PALETTE}"), attrs=tuple(ext_attrs),
                tip=f"{name} · {label}" + (f" · {details}" if details else ""), badge=label)
    return marks


def raw_marks(doc: Document, prefix: str) -> list[Mark]:
    """Marks for what cleaning removed, drawn on the raw text."""
    return [
        Mark(start=r.start, end=r.end, layer="removed", key=f"{prefix}-r{i}", tag="del",
             classes=("m", "m-removed"), attrs=(("data-reason", r.reason),),
             tip=f"removed by cleaning: {r.reason} ({r.end - r.start} characters)",
             badge=r.reason, seq=i)
        for i, r in enumerate(doc.removed)
    ]


def _json_for_script(data: str) -> Markup:
    """JSON safe inside a ``<script type="application/json">`` element."""
    escaped = (data.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
               .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return Markup(escaped)


def display_title(doc: Document) -> str:
    """The title to show: the submitted one, else the level-1 heading, else the id."""
    if doc.title:
        return doc.title
    top = [h for h in doc.headings if h.level == 1]
    return top[0].text.strip() if top and top[0].text.strip() else doc.id


def _link(article_id: str, anchors: Mapping[str, str]) -> dict[str, Any]:
    """An article to link to: its anchor on this page when it is here."""
    return {"id": article_id, "anchor": anchors.get(article_id)}


def reused_by(docs: Sequence[Document]) -> dict[str, list[tuple[str, str]]]:
    """For each article id: the later articles on the page that duplicate it or reuse its
    text, with how (``duplicate`` or ``reuses``)."""
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for doc in docs:
        if doc.reuse is None:
            continue
        if doc.reuse.duplicate_of:
            found[doc.reuse.duplicate_of].append((doc.id, "duplicate"))
        for source in doc.reuse.sources:
            if source.id != doc.reuse.duplicate_of:
                found[source.id].append((doc.id, "reuses"))
    return found


def _reuse_views(doc: Document, prefix: str, anchors: Mapping[str, str],
                 later: Sequence[tuple[str, str]]
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any] | None]:
    """The reuse panel's rows (one per source), its "also in" links and the original."""
    reuse = doc.reuse
    rows = [{**_link(src.id, anchors), "similarity": f"{src.similarity:.0%}",
             "passages": [f"{prefix}-u{si}-{pi}" for pi in range(len(src.passages))]}
            for si, src in enumerate(reuse.sources if reuse else [])]
    also: list[dict[str, Any]] = []
    original = _link(reuse.duplicate_of, anchors) if reuse and reuse.duplicate_of else None
    if original is not None:
        also.append({**original, "how": "same text, earlier"})
    for row in rows:
        if original is None or row["id"] != original["id"]:
            also.append({"id": row["id"], "anchor": row["anchor"],
                         "how": f"{row['similarity']} of this text, earlier"})
    for article_id, how in later:
        also.append({**_link(article_id, anchors),
                     "how": "same text, later" if how == "duplicate" else "reuses this, later"})
    return rows, also, original


def document_view(doc: Document, index: int = 0,
                  plugins: PluginManager | None = None,
                  anchors: Mapping[str, str] | None = None,
                  later: Sequence[tuple[str, str]] = ()) -> DocumentView:
    """Compute the tokens and the panels' rows for one Document (``plugins``: a
    ``PluginManager`` asked for plugin layers' own panels; ``anchors``: the ids of the
    Documents on the same page and their anchors; ``later``: the articles on the page that
    duplicate or reuse this one)."""
    prefix = f"d{index}"
    reuse_rows, also_in, duplicate_of = _reuse_views(doc, prefix, anchors or {}, later)
    groups: dict[str, dict[str, Any]] = {}
    for i, ent in enumerate(doc.entities):
        group = groups.setdefault(ent.canonical, {
            "canonical": ent.canonical, "labels": Counter(), "count": 0,
            "mentions": [], "forms": Counter()})
        group["labels"][ent.label] += 1
        group["count"] += 1
        group["forms"][ent.text] += 1
        group["mentions"].append(f"{prefix}-e{i}")
    entity_groups = sorted(groups.values(), key=lambda g: (-g["count"], g["canonical"]))
    for group in entity_groups:
        group["label"] = group["labels"].most_common(1)[0][0]
        group["label_class"] = _label_class(group["label"])

    speaker_keys = _speaker_keys(doc, prefix)
    quote_rows = [
        {"quote": quote, "key": f"{prefix}-q{i}",
         "speaker_key": (speaker_keys[(quote.speaker.start, quote.speaker.end)]
                         if quote.speaker is not None else None),
         "kind_label": QUOTE_KIND_LABELS[quote.kind], "speaker_name": _speaker_name(quote)}
        for i, quote in enumerate(doc.quotes)
    ]

    number_rows = [
        {"number": num, "key": f"{prefix}-n{i}", "value": number_value_text(num),
         "normalized": _normalized_text(num)}
        for i, num in enumerate(doc.numbers)
    ]
    summary_rows = []
    if doc.summary is not None:
        summary_rows = [{"sentence": s, "key": f"{prefix}-s{i}"}
                        for i, s in enumerate(doc.summary.sentences)]
    reasons = Counter(r.reason for r in doc.removed)
    url = doc.url if doc.url and re.match(r"^https?://", doc.url, re.IGNORECASE) else None
    return DocumentView(
        doc=doc,
        prefix=prefix,
        heading=display_title(doc),
        text_tokens=nest(doc.text, text_marks(doc, prefix)),
        raw_tokens=nest(doc.raw_text, raw_marks(doc, prefix)),
        entity_groups=entity_groups,
        number_rows=number_rows,
        quote_rows=quote_rows,
        summary_rows=summary_rows,
        removal_reasons=sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])),
        plugin_layers=plugin_layer_views(doc, prefix, plugins),
        reuse_rows=reuse_rows,
        also_in=also_in,
        duplicate_of=duplicate_of,
        layer_counts={
            "reuse": sum(len(row["passages"]) for row in reuse_rows),
            "entities": len(doc.entities), "numbers": len(doc.numbers),
            "quotes": len(doc.quotes), "summary": len(summary_rows),
            "headings": len(doc.headings), "removed": len(doc.removed),
        },
        extensions_json=json.dumps(doc.extensions, indent=2, ensure_ascii=False, default=str),
        metadata_json=json.dumps(doc.metadata, indent=2, ensure_ascii=False, default=str),
        document_json=_json_for_script(doc.to_json()),
        safe_url=url,
    )


# -- templates --------------------------------------------------------------------------


def exact_text(text: str) -> Markup:
    """Escaped text that an HTML parser gives back character for character.

    Parsers turn ``\r\n`` and a lone ``\r`` into ``\n`` before anything else; a
    character reference survives that, so the page's text keeps the document's offsets.
    """
    return Markup(str(escape(text)).replace("\r", "&#13;"))


def _asset(name: str) -> str:
    return resources.files("copydesk.views.templates").joinpath(name).read_text(encoding="utf-8")


@cache
def _assets() -> tuple[str, str]:
    return _asset("view.css"), _asset("view.js")


def csp_hash(source: str) -> str:
    """The CSP source expression allowing exactly this inline script or style."""
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy(
    extra_scripts: Sequence[str] = (),
    *,
    extra_styles: Sequence[str] = (),
    form_action: str = "'none'",
    connect: str = "'none'",
) -> str:
    """The policy of a view page: only our own inline style and script may apply.

    It is a second wall behind escaping: even markup that slipped through could run
    no script, load nothing and send nothing anywhere. Pages that extend the base
    template with a style or script block of their own pass its text here.
    """
    css, js = _assets()
    scripts = " ".join([csp_hash(js), *(csp_hash(s) for s in extra_scripts)])
    styles = " ".join([csp_hash(css), *(csp_hash(s) for s in extra_styles)])
    return (f"default-src 'none'; style-src {styles}; script-src {scripts}; "
            f"img-src 'none'; connect-src {connect}; form-action {form_action}; "
            "base-uri 'none'")


def environment(*extra: BaseLoader) -> Environment:
    """A Jinja2 environment with autoescaping on, loading from ``extra`` then the core's."""
    loaders: list[BaseLoader] = [*extra, PackageLoader("copydesk.views", "templates")]
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    css, js = _assets()
    env.globals.update(
        view_css=Markup(css),  # our own files, not article text
        view_js=Markup(js),
        label_class=_label_class,
        token_attrs=token_attrs,
    )
    env.filters["exact"] = exact_text
    return env


@cache
def _default_environment() -> Environment:
    return environment()


def render_html(docs: list[Document], title: str | None = None,
                plugins: PluginManager | None = None) -> str:
    """A self-contained HTML page showing every layer of each Document (``plugins``: a
    ``PluginManager`` whose ``layer_panel`` hook may draw plugin layers' panels)."""
    anchors = {doc.id: f"d{i}" for i, doc in reversed(list(enumerate(docs)))}
    later = reused_by(docs)
    views = [document_view(doc, i, plugins, anchors, later.get(doc.id, ()))
             for i, doc in enumerate(docs)]
    if title is None:
        title = display_title(docs[0]) if len(docs) == 1 else f"{len(docs)} documents"
    template = _default_environment().get_template("view.html.j2")
    return template.render(
        views=views, title=title, csp=content_security_policy(), styled_labels=STYLED_LABELS
    )
