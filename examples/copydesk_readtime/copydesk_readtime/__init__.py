"""An example external copydesk plugin: word count, reading time and the longest sentences."""

from __future__ import annotations

import re

from copydesk import Document, Span, Stage, StageConfig, hookimpl
from pydantic import BaseModel

SENTENCE = re.compile(r"[^\s.!?][^.!?]*[.!?]*")


class ReadtimeConfig(StageConfig):
    words_per_minute: int = 230
    long_sentence_words: int = 40


class LongSentence(Span):
    """A sentence over the configured length: drawn as a mark in the views."""

    label: str = "LONG"
    words: int


class ReadtimeLayer(BaseModel):
    """What the stage writes to ``extensions["readtime"]``."""

    words: int
    minutes: float
    long_sentences: list[LongSentence] = []


class ReadtimeStage(Stage[ReadtimeConfig]):
    name = "readtime"
    requires = ("text",)
    provides = ("readtime",)
    Layer = ReadtimeLayer
    description = "Word count and minutes to read the cleaned text; marks long sentences."

    def process(self, doc: Document) -> None:
        words = len(doc.text.split())
        long = []
        for m in SENTENCE.finditer(doc.text):
            count = len(m.group().split())
            if count > self.config.long_sentence_words:
                long.append(LongSentence(start=m.start(), end=m.end(), text=m.group(),
                                         words=count))
        minutes = round(words / self.config.words_per_minute, 1)
        doc.extensions[self.name] = ReadtimeLayer(words=words, minutes=minutes,
                                                  long_sentences=long)


@hookimpl
def register_stages() -> list[type[Stage]]:
    return [ReadtimeStage]
