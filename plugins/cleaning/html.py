"""Article extraction from HTML with trafilatura: the body text and its metadata.

trafilatura finds the main content of a page (and drops menus, footers, comments) far
better than tag stripping could; it also reads the title, author and date from the
page's metadata. When it finds no article at all (a page that is mostly a table or a
list), the page's whole visible text is returned instead, marked as such, so the
plain-text cleaner and its boilerplate classifier can take over.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Favor = Literal["balanced", "precision", "recall"]


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


def extract_html(
    html: str,
    url: str | None = None,
    favor: Favor = "balanced",
    include_tables: bool = True,
) -> Extracted:
    """The article body of ``html`` as plain text (one paragraph a line) with metadata."""
    import trafilatura

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = trafilatura.bare_extraction(
            html,
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
    if not text:
        text = (trafilatura.html2txt(html) or "").strip()
        whole_page = True
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
    )


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
