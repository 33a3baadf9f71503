"""The document contract: the submitted article and the Document JSON (schema version 1).

Every annotation is standoff: ``start``/``end`` are Python ``str`` indices into
``Document.text`` (``removed`` alone points into ``raw_text``), and each carries the
``text`` it covers, so ``text == document.text[start:end]`` always holds. Fields may be
added to these models, never renamed: other systems read this JSON.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from copydesk.jsonsafe import UnsafeJSON, loads, printable, surrogate_problem, value_problem
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError, PydanticSerializationError, to_json

SCHEMA_VERSION: Literal[1] = 1

#: Ids go into Redis keys, URLs and file names, so they are kept to a safe alphabet.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"
_ID_RE = re.compile(ID_PATTERN)

#: Default ceiling on submitted text or HTML, in characters: about 33,000 words, far above any
#: news article, and short enough that a worker parses it well inside its time limit
#: (figures in docs/queue.md; settings may change it).
DEFAULT_MAX_CHARS = 200_000

#: Default ceiling on submitted HTML, in characters of markup: real news pages carry far more
#: markup than text (scripts, styles, inline data), so a page gets its own, larger limit; the
#: text extracted from it is held to ``max_article_chars`` like any other (setting
#: ``max_html_chars``).
DEFAULT_MAX_HTML_CHARS = 10_000_000

Status = Literal["queued", "running", "done", "failed"]
RunStatus = Literal["ok", "failed", "skipped"]
#: "age" (added by issue 24): "a 30-year-old", "aged 52"; value the count, unit "year"…
NumberKind = Literal[
    "cardinal", "ordinal", "money", "percent", "quantity", "time", "duration", "date", "age"
]
Qualifier = Literal["at_least", "more_than", "less_than", "at_most", "approximately"]
QuoteKind = Literal["direct", "indirect", "according_to"]


class InvalidArticle(ValueError):
    """A submitted article that cannot be processed; the message says why."""


class Span(BaseModel):
    """A stretch of the cleaned text: ``text == document.text[start:end]``."""

    model_config = ConfigDict(extra="forbid")

    start: int = Field(ge=0, description="Offset of the first character (str index).")
    end: int = Field(ge=0, description="Offset one past the last character.")
    text: str = Field(description="The covered text, equal to document.text[start:end].")

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.end < self.start:
            raise ValueError(f"span end {self.end} is before its start {self.start}")
        return self


class Removal(Span):
    """A stretch of ``raw_text`` that cleaning dropped, and why."""

    reason: str = Field(description="Why it was removed, e.g. 'photo_credit', 'comments'.")


class Heading(Span):
    """A section heading kept in the text but marked so no stage takes it for prose."""

    level: int = Field(default=2, ge=1, le=6, description="1 for the title line, 2 below.")


class Entity(Span):
    """A named entity mention."""

    label: str = Field(description="Entity type, e.g. PERSON, ORG, GPE, LOC, NORP.")
    canonical: str = Field(description="The name shared by all mentions of this entity.")


class Normalized(BaseModel):
    """A quantity converted to a canonical SI-style unit, alongside the original."""

    model_config = ConfigDict(extra="forbid")

    value: float
    unit: str


class NumberMention(Span):
    """A quantity with a machine value."""

    kind: NumberKind
    value: float | int | str | None = Field(
        description="A JSON number, or an ISO 8601 string for time/date/duration; "
        "null when it cannot be resolved (never a guess)."
    )
    unit: str | None = Field(default=None, description="'USD', 'km', 'drone'… or null.")
    qualifier: Qualifier | None = None
    value_max: float | int | str | None = Field(
        default=None, description="Upper end of a range ('10 to 12'); value is the lower end."
    )
    normalized: Normalized | None = Field(
        default=None, description="The value in a canonical unit (e.g. metres), when converted."
    )


class Speaker(Span):
    """Who said it: a span of the text and the canonical name it resolves to."""

    canonical: str | None = None


class Quote(Span):
    """Speech attributed (or not) to a speaker."""

    kind: QuoteKind
    speaker: Speaker | None = None
    cue: str | None = Field(default=None, description="The verb or phrase, e.g. 'said'.")


class SummarySentence(Span):
    score: float


class Summary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    sentences: list[SummarySentence] = Field(default_factory=list)


class ReusedPassage(Span):
    """A stretch of this Document's text that also stands in an earlier article."""

    source_start: int = Field(ge=0, description="Where it starts in the source's text.")
    source_end: int = Field(ge=0, description="Where it ends in the source's text.")


class ReuseSource(BaseModel):
    """An earlier article whose text this one reuses, and the passages it shares."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="The earlier article's id.")
    similarity: float = Field(ge=0, le=1, description="Share of this article's words that "
                              "stand in passages taken from that article (0-1).")
    passages: list[ReusedPassage] = Field(default_factory=list)


class Reuse(BaseModel):
    """What this article shares with earlier ones (the reuse stage)."""

    model_config = ConfigDict(extra="forbid")

    duplicate_of: str | None = Field(
        default=None, description="The earliest article with the same text once whitespace, "
        "quotes and case are normalised; null when this one is the first (the origin).")
    sources: list[ReuseSource] = Field(default_factory=list)


class Story(BaseModel):
    """The story (event) this article belongs to (the stories stage)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="The story's id; a merged story's old id redirects.")
    label: str = Field(description="A few words naming the story.")
    size: int = Field(ge=1, description="Articles in the story when this one joined it.")
    first_seen: datetime | None = Field(
        default=None, description="Publication time of the story's first article (null when "
        "its articles carry none).")


class StageRun(BaseModel):
    """What happened when one stage ran on this document."""

    model_config = ConfigDict(extra="forbid")

    stage: str
    plugin: str
    version: str
    status: RunStatus
    duration_ms: float
    error: str | None = None
    config_hash: str | None = Field(
        default=None, description="Hash of the stage's validated config (canonical JSON).")
    model: str | None = Field(
        default=None, description="The spaCy pipeline it read, 'package==version' "
        "(stages that use the parse).")
    worker: str | None = Field(
        default=None, description="Node name of the worker that ran it (queue runs).")
    fingerprint: str | None = Field(
        default=None, description="Hash of version, config, model, the text it read and "
        "the fingerprints of the stages it depends on: equal fingerprints, equal layer.")
    #: The formatted traceback of a failed run (file and line of each frame), in the process
    #: that ran it. Deliberately not a field: the Document JSON is served to clients and
    #: must not carry source paths, so it never leaves the process inside a Document. The
    #: CLI prints it (``process --debug``), workers log it and keep it in the stored record
    #: (``copydesk status``).
    _traceback: str | None = PrivateAttr(default=None)

    @property
    def traceback(self) -> str | None:
        """The traceback of this run when it failed by raising, else ``None``."""
        return self._traceback


class Article(BaseModel):
    """A submitted article: what ``process`` reads, the queue carries and HTTP accepts."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    id: str | None = Field(
        default=None,
        pattern=ID_PATTERN,
        description="Client-given id; derived from a content hash when absent.",
    )
    text: str | None = Field(default=None, description="Plain text; exactly one of text/html.")
    html: str | None = Field(default=None, description="An HTML page; exactly one of text/html.")
    title: str | None = None
    url: str | None = None
    source: str | None = None
    published_at: datetime | None = Field(default=None, description="ISO 8601.")
    language: str | None = Field(
        default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
        description="Language code (ISO 639, e.g. 'en', 'de'); detected from the text when "
        "absent.",
    )
    metadata: dict[str, Any] = Field(default_factory=dict)

    #: Unknown top-level fields that were moved into ``metadata`` (see ``parse_article``).
    _moved_fields: tuple[str, ...] = PrivateAttr(default=())

    def __init__(self, /, **data: Any) -> None:
        """Validate the fields given by name. A field the model does not know (a corpus or
        CMS row's ``category``) is refused with a pointer to ``parse_article``, the lenient
        reader the command line uses, which keeps such fields in ``metadata``."""
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _pointing_to_parse_article(exc) from None

    @property
    def moved_fields(self) -> tuple[str, ...]:
        """Names of the unknown fields this article arrived with, now kept in ``metadata``."""
        return self._moved_fields

    @field_validator("text", "html")
    @classmethod
    def _is_text(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if "\x00" in value:
            raise ValueError("contains NUL bytes: this looks like binary data, not text")
        problem = surrogate_problem(value)
        if problem:
            raise ValueError(problem)
        sample = value[:20_000]
        controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f\v")
        if sample and controls / len(sample) > 0.01:
            raise ValueError(
                f"{controls} control characters in the first {len(sample)}: "
                "this looks like binary data, not text"
            )
        return value

    @field_validator("title", "url", "source")
    @classmethod
    def _encodable(cls, value: str | None) -> str | None:
        problem = surrogate_problem(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("metadata")
    @classmethod
    def _json_metadata(cls, value: dict[str, Any]) -> dict[str, Any]:
        problem = value_problem(value, "metadata", strict_types=False)
        if problem:
            raise ValueError(problem)
        try:
            to_json(value)
        except PydanticSerializationError as exc:
            raise ValueError(f"cannot be written as JSON: {exc}") from None
        return value

    @model_validator(mode="after")
    def _exactly_one_body(self) -> Article:
        if (self.text is None) == (self.html is None):
            raise ValueError("give exactly one of 'text' or 'html'")
        body = self.body
        if not body.strip():
            raise ValueError("the article is empty: 'text'/'html' holds no visible characters")
        if self.id is None:
            self.id = self.content_id()
        return self

    @property
    def body(self) -> str:
        return self.text if self.text is not None else (self.html or "")

    def content_id(self) -> str:
        """A stable id from the content, so the same article submitted twice has one id."""
        digest = hashlib.sha256()
        for part in (self.title or "", self.url or "", self.text or "", self.html or ""):
            digest.update(part.encode("utf-8", "surrogatepass"))
            digest.update(b"\x1f")
        return "sha256-" + digest.hexdigest()[:32]

    def check_size(self, max_chars: int, max_html_chars: int = DEFAULT_MAX_HTML_CHARS) -> None:
        """Refuse text longer than ``max_chars`` or HTML longer than ``max_html_chars``."""
        if self.text is not None and len(self.text) > max_chars:
            raise InvalidArticle(
                f"article {self.id}: {len(self.text):,} characters is over the limit of "
                f"{max_chars:,} (setting max_article_chars)"
            )
        if self.html is not None and len(self.html) > max_html_chars:
            raise InvalidArticle(
                f"article {self.id}: {len(self.html):,} characters of HTML is over the limit "
                f"of {max_html_chars:,} (setting max_html_chars)"
            )


#: The message of an unknown field given to ``Article(...)``.
UNKNOWN_FIELD_HINT = (
    "Extra inputs are not permitted: Article(...) takes only its own fields; "
    "copydesk.parse_article(data) reads a row with fields of other systems and keeps them "
    "in metadata (as the command line does)"
)


def _pointing_to_parse_article(exc: ValidationError) -> ValidationError:
    """``exc`` with each unknown top-level field's message naming ``parse_article``."""
    errors = exc.errors()
    if not any(e["type"] == "extra_forbidden" and len(e["loc"]) == 1 for e in errors):
        return exc
    details: list[Any] = []
    for e in errors:
        if e["type"] == "extra_forbidden" and len(e["loc"]) == 1:
            details.append({"type": PydanticCustomError("extra_forbidden", UNKNOWN_FIELD_HINT),
                            "loc": e["loc"], "input": e["input"]})
        else:
            detail: dict[str, Any] = {"type": e["type"], "loc": e["loc"], "input": e["input"]}
            if "ctx" in e:
                detail["ctx"] = e["ctx"]
            details.append(detail)
    return ValidationError.from_exception_data(exc.title, details)


@dataclass(frozen=True)
class ArticleRules:
    """What a door accepts: size limits and whether unknown fields are refused."""

    max_chars: int = DEFAULT_MAX_CHARS
    max_html_chars: int = DEFAULT_MAX_HTML_CHARS
    #: Refuse unknown top-level fields instead of moving them into ``metadata``.
    strict: bool = False

    def parse(self, data: Any) -> Article:
        """``parse_article`` under these rules."""
        return parse_article(data, self.max_chars, max_html_chars=self.max_html_chars,
                             strict=self.strict)

    def check(self, article: Article) -> None:
        """Refuse an already-built article that is over these size limits."""
        article.check_size(self.max_chars, self.max_html_chars)


def move_unknown_fields(data: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """``data`` with its unknown top-level fields moved into ``metadata``, and their names.

    Other systems export articles with fields of their own (``category``, ``author``,
    ``tags``…); they are kept, not refused. A field whose name ``metadata`` already holds
    with a different value is left where it is, so validation names the clash.
    """
    unknown = [key for key in data if key not in Article.model_fields]
    metadata = data.get("metadata", {})
    if not unknown or not isinstance(metadata, dict):
        return data, ()
    kept = {k: v for k, v in data.items() if k in Article.model_fields}
    merged = dict(metadata)
    moved = []
    for key in unknown:
        if key in merged and merged[key] != data[key]:
            kept[key] = data[key]
            continue
        merged[key] = data[key]
        moved.append(key)
    kept["metadata"] = merged
    return kept, tuple(moved)


def parse_article(
    data: Any,
    max_chars: int = DEFAULT_MAX_CHARS,
    *,
    max_html_chars: int = DEFAULT_MAX_HTML_CHARS,
    strict: bool = False,
) -> Article:
    """Validate a submitted-article object (a dict or a JSON string) with a clear error.

    Unknown top-level fields are moved into ``metadata`` (``Article.moved_fields`` names
    them) unless ``strict``, which refuses them as before.
    """
    from pydantic import ValidationError

    if isinstance(data, str | bytes):
        try:
            data = loads(data)
        except UnsafeJSON as exc:
            raise InvalidArticle(str(exc)) from None
    if not isinstance(data, dict):
        raise InvalidArticle(f"an article must be a JSON object, not {type(data).__name__}")
    moved: tuple[str, ...] = ()
    if not strict:
        data, moved = move_unknown_fields(data)
    try:
        article = Article.model_validate(data)
    except ValidationError as exc:
        raise InvalidArticle(describe_validation_error(exc, strict)) from None
    article._moved_fields = moved
    article.check_size(max_chars, max_html_chars)
    return article


def describe_validation_error(exc: Any, strict: bool = False) -> str:
    """One line per problem: ``field.path: message``."""
    parts = []
    for err in exc.errors():
        where = printable(".".join(str(p) for p in err.get("loc", ())))
        msg = printable(str(err.get("msg", "invalid")).removeprefix("Value error, "))
        if err.get("type") == "extra_forbidden" and len(err.get("loc", ())) == 1:
            msg += (" (strict_articles is on)" if strict else
                    " (metadata already holds another value under this name)")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)


class Document(BaseModel):
    """A processed article: the Document JSON contract, schema version 1."""

    model_config = ConfigDict(extra="forbid", validate_assignment=False)

    id: str
    schema_version: Literal[1] = SCHEMA_VERSION
    title: str | None = None
    url: str | None = None
    source: str | None = None
    published_at: datetime | None = None
    language: str = Field(
        default="en", description="The given language, else the one detected from the text "
        "(how it was settled: extensions.language).")
    metadata: dict[str, Any] = Field(default_factory=dict)
    raw_text: str = Field(description="The submitted text, or the text extracted from HTML.")
    text: str = Field(description="The cleaned text; every offset below refers to it.")
    removed: list[Removal] = Field(default_factory=list)
    headings: list[Heading] = Field(default_factory=list)
    entities: list[Entity] = Field(default_factory=list)
    numbers: list[NumberMention] = Field(default_factory=list)
    quotes: list[Quote] = Field(default_factory=list)
    summary: Summary | None = None
    reuse: Reuse | None = Field(
        default=None, description="Earlier articles this one duplicates or reuses passages of.")
    story: Story | None = Field(default=None, description="The story this article is part of.")
    runs: list[StageRun] = Field(default_factory=list)
    extensions: dict[str, Any] = Field(default_factory=dict)
    status: Status = "queued"

    #: The submitted HTML, for the stage that extracts text from it; not serialized.
    _html: str | None = PrivateAttr(default=None)
    #: When the article reached this process (seconds since the epoch), for articles without
    #: ``published_at``: the order cross-article stages see them in (``copydesk.state``).
    _arrived_at: float | None = PrivateAttr(default=None)

    @property
    def arrived_at(self) -> float | None:
        """When the article arrived (not serialized); see ``copydesk.state.article_time``."""
        return self._arrived_at

    @arrived_at.setter
    def arrived_at(self, value: float | None) -> None:
        self._arrived_at = value

    @classmethod
    def from_article(cls, article: Article) -> Document:
        text = article.text or ""
        doc = cls(
            id=article.id or article.content_id(),
            title=article.title,
            url=article.url,
            source=article.source,
            published_at=article.published_at,
            metadata=dict(article.metadata),
            raw_text=text,
            text=text,
        )
        if article.language:
            # set only when given (it is then in model_fields_set), so that otherwise the
            # pipeline detects it
            doc.language = article.language
        doc._html = article.html
        return doc

    @property
    def html(self) -> str | None:
        return self._html

    @model_validator(mode="after")
    def _offsets_match(self) -> Document:
        problems = self.offset_problems()
        if problems:
            raise ValueError("; ".join(problems[:5]))
        return self

    def offset_problems(self, layers: list[str] | None = None) -> list[str]:
        """Every annotation whose offsets fall outside its text or whose ``text`` differs."""
        problems: list[str] = []
        for layer, base, spans in self._layers():
            if layers is not None and layer not in layers:
                continue
            for i, span in enumerate(spans):
                problems.extend(_span_problems(f"{layer}[{i}]", span, base))
        return problems

    def _layers(self) -> list[tuple[str, str, list[Any]]]:
        speakers = [q.speaker for q in self.quotes if q.speaker is not None]
        summary = self.summary.sentences if self.summary else []
        passages = [p for src in self.reuse.sources for p in src.passages] if self.reuse else []
        return [
            ("removed", self.raw_text, list(self.removed)),
            ("headings", self.text, list(self.headings)),
            ("entities", self.text, list(self.entities)),
            ("numbers", self.text, list(self.numbers)),
            ("quotes", self.text, list(self.quotes)),
            ("quotes", self.text, speakers),
            ("summary", self.text, list(summary)),
            ("reuse", self.text, passages),
        ]

    def heading_at(self, start: int, end: int) -> Heading | None:
        """The heading overlapping ``[start, end)``, if any."""
        for heading in self.headings:
            if heading.start < end and start < heading.end:
                return heading
        return None

    def to_json(self, indent: int | None = None) -> str:
        return self.model_dump_json(indent=indent)


def _span_problems(where: str, span: Span, base: str) -> list[str]:
    if span.end > len(base):
        return [f"{where}: end {span.end} lies past the text's end ({len(base)})"]
    actual = base[span.start : span.end]
    if actual != span.text:
        return [
            f"{where}: text {span.text[:40]!r} differs from text[{span.start}:{span.end}] "
            f"= {actual[:40]!r}"
        ]
    return []


def document_json_schema(model: type[BaseModel] | None = None) -> dict[str, Any]:
    """The JSON Schema of the Document, for systems in any language (``model``: a Document
    subclass, as ``copydesk.layers.document_schema`` builds with the plugins' layers)."""
    schema = (model or Document).model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://copydesk.invalid/schema/document-v1.json"
    return schema
