"""The ``cleaning`` extension layer: how the stage read its input (``copydesk schema``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class CleaningLayer(BaseModel):
    """``extensions["cleaning"]``: what the cleaning stage started from and how."""

    model_config = ConfigDict(extra="forbid")

    input: Literal["text", "html"] = Field(
        description="What was submitted: plain text (a pasted page or article) or HTML.")
    classifier_language: str | None = Field(
        default=None, description="The language whose stop words the line classifier used, "
        "or null when the classifier did not run.")
    extraction: str | None = Field(
        default=None, description="For HTML, how the text was extracted: trafilatura (it found "
        "the article); whole_page (no article found: every visible text); tokenizer (nested "
        "past what lxml parses). Null for plain text.")
