"""The cleaning plugin: from a pasted web page or raw HTML to clean article text.

Stage ``cleaning`` provides ``text`` and ``headings``:

- **HTML** input (``doc.html`` set, ``raw_text`` empty): trafilatura extracts the
  article body and its metadata (``html``; deeply nested pages included, ``deep``); a page
  with no visible text fails the stage with ``EmptyPage``. The extracted text becomes ``raw_text``,
  and title, publication date and author fill ``title``, ``published_at`` and
  ``metadata["author"]`` when the submitter left them out.
- **Plain text**: furniture rules (``rules.toml``, extensible through
  ``extra_rules_file``) and a line-level boilerplate classifier (``boilerplate``) decide
  what goes; every removal is recorded in ``removed`` with offsets into ``raw_text`` and
  a reason. When unsure, a line is kept.
- **Normalization** (``normalize``): mojibake repair, NFC, regular spaces, no
  zero-width characters, a dash glued between a word and a number split off; quotes and
  dashes otherwise kept. Paragraphs are separated by one blank line.
- **Headings** stay in the text and are listed in ``headings`` (level 1 for the title
  line, 2 for section headings), so later stages can leave them out of prose.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from copydesk import Document, Stage, StageConfig, hookimpl
from copydesk.document import Heading, Removal
from copydesk.plugins.cleaning.cleaner import BOILERPLATE, Cleaned, Cleaner
from copydesk.plugins.cleaning.html import extract_html
from copydesk.plugins.cleaning.layer import CleaningLayer
from copydesk.plugins.cleaning.rules import DEFAULT_RULES_FILE, Rule, RuleError, load_rules
from pydantic import Field, field_validator

__all__ = [
    "BOILERPLATE",
    "Cleaned",
    "Cleaner",
    "CleaningConfig",
    "CleaningStage",
    "RuleError",
    "extract_html",
    "register_stages",
]


class CleaningConfig(StageConfig):
    """Settings of the ``[stage.cleaning]`` section."""

    extra_rules_file: Path | None = Field(
        default=None,
        description="A TOML file of further [[rule]] tables (same format as the shipped "
        "rules.toml), applied after the shipped rules.",
    )
    disable_rules: list[str] = Field(
        default_factory=list, description="Names of shipped or extra rules to switch off."
    )
    classifier: bool = Field(
        default=True, description="Run the line-level boilerplate classifier on plain text."
    )
    classifier_on_html: bool = Field(
        default=False,
        description="Also run it on text extracted from HTML (trafilatura already "
        "removed the page's boilerplate; the furniture rules always run).",
    )
    repair_encoding: bool = Field(default=True, description="Repair mojibake with ftfy.")
    html_favor: Literal["balanced", "precision", "recall"] = Field(
        default="recall",
        description="trafilatura's precision/recall trade-off (recall: when unsure, keep; "
        "on the benchmark it also scored the best F1 of the three).",
    )
    include_tables: bool = Field(default=True, description="Keep tables found in HTML.")
    max_block_lines: int = Field(
        default=25, ge=0, description="At most this many list lines follow a block rule."
    )
    tail_min_prose_chars: int = Field(
        default=400, ge=0,
        description="A comment-section marker cuts the rest of the page only after this "
        "many characters of article prose.",
    )

    @field_validator("extra_rules_file")
    @classmethod
    def _rules_file_loads(cls, value: Path | None) -> Path | None:
        if value is not None:
            try:
                load_rules(value)
            except RuleError as exc:
                raise ValueError(str(exc)) from None
        return value

    def rules(self) -> list[Rule]:
        """The shipped rules plus the extra file's, minus the disabled ones."""
        disabled = frozenset(self.disable_rules)
        rules = load_rules(DEFAULT_RULES_FILE, disabled)
        if self.extra_rules_file is not None:
            rules.extend(load_rules(self.extra_rules_file, disabled))
        return rules


class CleaningStage(Stage[CleaningConfig]):
    """Turns submitted text or HTML into clean article text with headings marked."""

    name = "cleaning"
    provides = ("text", "headings")
    Layer = CleaningLayer
    description = (
        "Article text from HTML (trafilatura) or pasted pages: furniture and boilerplate "
        "removed with reasons, text normalized, headings marked."
    )

    def setup(self) -> None:
        rules = self.config.rules()

        def cleaner(use_classifier: bool) -> Cleaner:
            return Cleaner(
                rules,
                use_classifier=use_classifier,
                fix_encoding=self.config.repair_encoding,
                max_block_lines=self.config.max_block_lines,
                tail_min_prose_chars=self.config.tail_min_prose_chars,
            )

        self.text_cleaner = cleaner(self.config.classifier)
        self.html_cleaner = cleaner(self.config.classifier_on_html)

    def process(self, doc: Document) -> None:
        if not hasattr(self, "text_cleaner"):
            self.setup()
        cleaner = self.text_cleaner
        source: Literal["text", "html"] = "text"
        extraction = None
        if doc.html is not None and not doc.raw_text:
            extracted = extract_html(
                doc.html, url=doc.url, favor=self.config.html_favor,
                include_tables=self.config.include_tables,
            )
            doc.raw_text = extracted.text
            doc.title = doc.title or extracted.title
            doc.published_at = doc.published_at or extracted.published_at
            if extracted.author:
                doc.metadata.setdefault("author", extracted.author)
            for key, value in extracted.metadata.items():
                doc.metadata.setdefault(key, value)
            source, extraction = "html", extracted.method
            if not extracted.whole_page:
                cleaner = self.html_cleaner
        cleaned = cleaner.clean(doc.raw_text, title=doc.title, language=doc.language)
        doc.text = cleaned.text
        doc.removed = [
            Removal(start=a, end=b, text=doc.raw_text[a:b], reason=reason)
            for a, b, reason in cleaned.removed
        ]
        doc.headings = [
            Heading(start=a, end=b, text=doc.text[a:b], level=level)
            for a, b, level in cleaned.headings
        ]
        if doc.title is None and cleaned.title:
            doc.title = cleaned.title
        doc.extensions["cleaning"] = CleaningLayer(
            input=source, classifier_language=cleaned.classifier_language,
            extraction=extraction).model_dump(mode="json")


@hookimpl
def register_stages() -> list[type[Stage]]:
    return [CleaningStage]
