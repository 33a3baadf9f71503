"""Saying once, not once per article, that unknown article fields were kept in ``metadata``.

Articles exported by other systems carry fields of their own; ``parse_article`` moves them
into ``metadata``. Each door logs the first article that brings a field name (once per
process) and the CLI prints one line per run with how many articles had each field.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from copydesk.document import Article
from copydesk.logs import get_logger
from rich.console import Console

log = get_logger("copydesk.articles")

#: Field names already logged by this process.
_logged: set[str] = set()

HINT = "set strict_articles = true to refuse them instead"


def log_moved_fields(article: Article, door: str) -> None:
    """Log the article's moved fields that this process has not mentioned yet."""
    new = [name for name in article.moved_fields if name not in _logged]
    if not new:
        return
    _logged.update(new)
    log.info("unknown article fields kept in metadata", fields=new, door=door,
             document_id=article.id, hint=HINT)


def summary_line(articles: Iterable[Article]) -> str | None:
    """One line naming each moved field and how many articles had it, or None."""
    counts: Counter[str] = Counter()
    for article in articles:
        counts.update(article.moved_fields)
    return counts_line(counts)


def counts_line(counts: Counter[str]) -> str | None:
    """``summary_line`` from counts kept as the articles went by (a streamed submit)."""
    if not counts:
        return None
    listed = ", ".join(f"{name} ({n} article{'s' if n != 1 else ''})"
                       for name, n in sorted(counts.items()))
    return f"unknown fields kept in metadata: {listed}; {HINT}"


def report_moved_fields(articles: Sequence[Article], door: str, console: Console) -> None:
    """Log the moved fields once and print one line on ``console`` (the CLI's stderr)."""
    for article in articles:
        log_moved_fields(article, door)
    line = summary_line(articles)
    if line:
        console.print(f"[yellow]note[/yellow] {line}", highlight=False)
