"""An article's language: the one it was given, or the one its text is detected to be in.

Detection uses py3langid, which ships its own model (no download). A detection counts only
when the text has enough letters and py3langid is confident; otherwise an article given no
language is taken to be English, as before. What was given, what was detected and which one
the document carries are recorded in ``extensions["language"]``; a given language that the
detection contradicts is kept (the submitter may know better) and the disagreement is
recorded there and logged.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from copydesk.document import Document
from copydesk.logs import get_logger
from copydesk.nlp import DEFAULT_LANGUAGE, primary_language
from pydantic import BaseModel, Field

log = get_logger("copydesk.language")

#: Key of the record in ``Document.extensions``.
EXTENSION = "language"
#: Below this normalized probability a detection is not used.
MIN_CONFIDENCE = 0.9
#: Texts with fewer letters than this are not judged.
MIN_LETTERS = 20
#: Detection reads at most this much of the text (its cost is linear in what it reads).
SAMPLE_CHARS = 20_000
#: py3langid's label for text with no linguistic content.
NO_LANGUAGE = "zxx"


class LanguageLayer(BaseModel):
    """``extensions["language"]``: how the document's language was settled (``settle``)."""

    language: str = Field(description="The language the document carries.")
    source: Literal["given", "detected", "default"] = Field(
        description="Where it came from: the submitter, detection, or the default (English) "
        "when neither gave one.")
    given: str | None = Field(description="The language the article was submitted with.")
    detected: str | None = Field(description="The language detection found, or null when "
                                 "the text was too short or unclear.")
    confidence: float | None = Field(description="Detection's confidence (0–1).")
    disagreement: str | None = Field(
        default=None, description="Present when the given language and the detected one "
        "differ (the given one is kept).")


@dataclass(frozen=True)
class Detection:
    language: str
    confidence: float


@lru_cache(maxsize=1)
def _identifier() -> Any:
    """py3langid's identifier, or None (said once in the log) when it cannot be loaded: the
    articles then keep their given language, or English, as without detection."""
    try:
        # imported by name: py3langid ships no type information, and a plugin's own mypy
        # --strict run follows copydesk's imports
        langid = importlib.import_module("py3langid.langid")
        return langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE, norm_probs=True)
    except (ImportError, OSError) as exc:
        log.warning("language detection is off: py3langid cannot be loaded "
                    "(pip install py3langid, or set detect_language = false)",
                    error=f"{type(exc).__name__}: {exc}")
        return None


def warm_up() -> None:
    """Load the model now (it takes a few seconds), e.g. before a worker forks."""
    _identifier()


def detect(text: str) -> Detection | None:
    """The language ``text`` is in, or None when it is too short or unclear to tell."""
    sample = text[:SAMPLE_CHARS]
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
        return None
    identifier = _identifier()
    if identifier is None:
        return None
    language, probability = identifier.classify(sample)
    if language == NO_LANGUAGE or probability < MIN_CONFIDENCE:
        return None
    return Detection(str(language), round(float(probability), 3))


def is_recorded(doc: Document) -> bool:
    return isinstance(doc.extensions.get(EXTENSION), dict)


def settle(doc: Document, enabled: bool = True) -> None:
    """Set ``doc.language`` (given, else detected, else English) and record how."""
    given = doc.language if "language" in doc.model_fields_set else None
    found = detect(f"{doc.title}\n\n{doc.text}" if doc.title else doc.text) if enabled else None
    doc.language = given or (found.language if found else DEFAULT_LANGUAGE)
    record: dict[str, Any] = {
        "language": doc.language,
        "source": "given" if given else "detected" if found else "default",
        "given": given,
        "detected": found.language if found else None,
        "confidence": found.confidence if found else None,
    }
    if given and found and primary_language(given) != found.language:
        record["disagreement"] = (f"given {given!r}, but the text reads as {found.language!r} "
                                  f"(confidence {found.confidence})")
        log.warning("given language disagrees with the text", document_id=doc.id,
                    given=given, detected=found.language, confidence=found.confidence)
    doc.extensions[EXTENSION] = record
