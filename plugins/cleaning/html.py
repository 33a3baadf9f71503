"""Article extraction from HTML with trafilatura: the body text and its metadata.

trafilatura finds the main content of a page (and drops menus, footers, comments) far
better than tag stripping could; it also reads the title, author and date from the
page's metadata. When it finds no article at all (a page that is mostly a table or a
list), the page's whole visible text is returned instead, marked as such, so the
plain-text cleaner and its boilerplate classifier can take over.

The page is parsed here, not by trafilatura, so lxml's ``huge_tree`` is on: without it
libxml2 stops building the tree past 255 nested elements and a deeply nested page comes
out empty. Past what even ``huge_tree`` allows, the visible text is read by Python's own
HTML tokenizer, which keeps no tree (``deep.py``); a page with no visible text at all is
an ``EmptyPage`` error saying so.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from copydesk.plugins.cleaning.deep import nesting_depth, visible_text

if TYPE_CHECKING:
    from lxml.html import HtmlElement

Favor = Literal["balanced", "precision", "recall"]

#: How deep libxml2 nests elements without ``huge_tree`` (its ``xmlParserMaxDepth``).
LXML_DEFAULT_DEPTH = 255


class EmptyPage(ValueError):
    """The page holds no text that could be extracted; the message says why."""


@dataclass
class Extracted:
    """What came out of a page."""

    text: str
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    #: Other page metadata worth keeping (site name, description, tags, categories).
    metadata: dict[str, Any] = field(default_factory=dict)
    #: True when trafilatura found no article and ``text`` is the whole visible page.
    whole_page: bool = False
    #: How the text was read: ``trafilatura``, ``whole_page`` or ``tokenizer`` (a page
    #: nested too deep for lxml's tree).
    method: str = "trafilatura"


def extract_html(
    html: str,
    url: str | None = None,
    favor: Favor = "balanced",
    include_tables: bool = True,
) -> Extracted:
    """The article body of ``html`` as plain text (one paragraph a line) with metadata.

    Raises ``EmptyPage`` when the page has no visible text at all.
    """
    import trafilatura

    tree = parse_html(html)
    if tree is None:
        return _without_tree(html)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = trafilatura.bare_extraction(
            tree,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=include_tables,
            favor_precision=favor == "precision",
            favor_recall=favor == "recall",
        )
    info: dict[str, Any] = _as_dict(result)
    text = (info.get("text") or "").strip()
    whole_page = False
    method = "trafilatura"
    if not text:
        whole = parse_html(html)  # trafilatura prunes the tree it is given
        text = (trafilatura.html2txt(whole) or "").strip() if whole is not None else ""
        whole_page, method = True, "whole_page"
    if not text:
        return _without_tree(html)
    metadata = {
        key: value
        for key in ("sitename", "description", "hostname", "categories", "tags")
        if (value := _clean_meta(info.get(key)))
    }
    return Extracted(
        text=text,
        title=_clean_meta(info.get("title")) or None,
        author=_clean_meta(info.get("author")) or None,
        published_at=_parse_date(info.get("date")),
        metadata=metadata,
        whole_page=whole_page,
        method=method,
    )


def parse_html(html: str) -> HtmlElement | None:
    """The page's lxml tree, with ``huge_tree`` so deep nesting is kept; None if unparsable."""
    import lxml.html
    from lxml import etree

    options = {"collect_ids": False, "remove_comments": True, "remove_pis": True,
               "huge_tree": True, "default_doctype": False}
    parser = lxml.html.HTMLParser(**options)
    try:
        try:
            tree = lxml.html.fromstring(html, parser=parser)
        except ValueError:  # a str that declares an encoding (<?xml … encoding=…?>)
            parser = lxml.html.HTMLParser(encoding="utf-8", **options)
            tree = lxml.html.fromstring(html.encode("utf-8"), parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None
    if any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log):
        return None  # libxml2 stopped building the tree (nesting past even huge_tree's limit)
    return tree if tree is not None and len(tree.text_content().strip()) else None


def _without_tree(html: str) -> Extracted:
    """The visible text read by a tokenizer (no tree, so no depth limit), or ``EmptyPage``."""
    text = visible_text(html)
    if text:
        return Extracted(text=text, whole_page=True, method="tokenizer")
    depth = nesting_depth(html)
    if depth > LXML_DEFAULT_DEPTH:
        raise EmptyPage(f"the page is nested {depth:,} elements deep and no text was found in "
                        "it, read with a tokenizer past what lxml builds a tree of")
    raise EmptyPage("the page has no visible text (only markup, scripts or styles)")


def _as_dict(result: Any) -> dict[str, Any]:
    if result is None:
        return {}
    if isinstance(result, dict):
        return result
    as_dict = getattr(result, "as_dict", None)
    return as_dict() if callable(as_dict) else {}


def _clean_meta(value: Any) -> Any:
    """Strip strings; drop empty values and trafilatura's placeholder 'None'/'[]'."""
    if isinstance(value, str):
        value = value.strip()
        return value if value not in ("", "None", "[]") else None
    if isinstance(value, list | tuple):
        items = [v.strip() for v in value if isinstance(v, str) and v.strip()]
        return items or None
    return None


def _parse_date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    # a page's date usually comes without a zone; UTC keeps it comparable with the
    # zone-aware timestamps clients submit
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
