"""A finished Document as the rows of the archive's four tables.

``documents`` has one row per Document (its columns, and the whole Document as JSON);
``entities``, ``quotes`` and ``numbers`` have one row per annotation, keyed by
``document_id``. The postgres and parquet sinks both write these rows, so the two archives
answer the same questions with the same columns (docs/archive.md).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from copydesk.document import Document, NumberMention

DOCUMENT_COLUMNS = ("id", "source", "url", "published_at", "language", "title", "text",
                    "fingerprint", "archived_at", "story_id", "duplicate_of", "document")
ENTITY_COLUMNS = ("document_id", "start", "end", "label", "canonical", "text")
QUOTE_COLUMNS = ("document_id", "start", "end", "kind", "speaker", "cue", "text")
NUMBER_COLUMNS = ("document_id", "start", "end", "kind", "value", "unit", "qualifier", "text")


@dataclass
class Rows:
    """The rows of a batch of Documents, one list of tuples per table (columns above)."""

    documents: list[tuple[Any, ...]] = field(default_factory=list)
    entities: list[tuple[Any, ...]] = field(default_factory=list)
    quotes: list[tuple[Any, ...]] = field(default_factory=list)
    numbers: list[tuple[Any, ...]] = field(default_factory=list)

    def add(self, doc: Document, archived_at: datetime) -> None:
        data = doc.model_dump(mode="json")
        self.documents.append(document_row(doc, data, archived_at))
        self.entities.extend(
            (doc.id, e.start, e.end, e.label, e.canonical, e.text) for e in doc.entities)
        self.quotes.extend(
            (doc.id, q.start, q.end, q.kind, speaker_name(q.speaker), q.cue, q.text)
            for q in doc.quotes)
        self.numbers.extend(
            (doc.id, n.start, n.end, n.kind, number_value(n), n.unit, n.qualifier, n.text)
            for n in doc.numbers)


def document_row(doc: Document, data: dict[str, Any], archived_at: datetime) -> tuple[Any, ...]:
    """The ``documents`` row; ``data`` is the Document as JSON data (``model_dump``)."""
    return (doc.id, doc.source, doc.url, doc.published_at, doc.language, doc.title, doc.text,
            document_fingerprint(doc), archived_at, nested_id(data, "story", "id"),
            nested_id(data, "reuse", "duplicate_of"),
            json.dumps(data, ensure_ascii=False, separators=(",", ":")))


def nested_id(data: dict[str, Any], key: str, inner: str) -> str | None:
    """``data[key][inner]`` when the Document carries that field (``story.id``,
    ``reuse.duplicate_of``: issue 23's fields), else None."""
    value = data.get(key)
    if not isinstance(value, dict):
        return None
    found = value.get(inner)
    return str(found) if found is not None else None


def speaker_name(speaker: Any) -> str | None:
    """Who a quote is attributed to: the canonical name, else the text of the mention."""
    if speaker is None:
        return None
    return speaker.canonical or speaker.text


def number_value(number: NumberMention) -> str | None:
    """The machine value as text: a JSON number (cast with ``::numeric``) or the ISO 8601
    string of a date, time or duration; None when unresolved."""
    value = number.value
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value)


def document_fingerprint(doc: Document) -> str | None:
    """One hash of the fingerprints of the Document's latest stage runs: equal
    fingerprints, equal layers (so a re-run that changed nothing is visible as such)."""
    latest = {run.stage: run.fingerprint for run in doc.runs}
    if not any(latest.values()):
        return None
    digest = hashlib.sha256()
    for stage in sorted(latest):
        digest.update(f"{stage}={latest[stage] or ''}\x1f".encode())
    return "sha256-" + digest.hexdigest()[:32]
