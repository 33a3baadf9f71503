"""An example external copydesk plugin: word count, reading time and the long sentences."""

from __future__ import annotations

import re

from copydesk import Document, Span, Stage, StageConfig, hookimpl
from pydantic import BaseModel

SENTENCE = re.compile(r"[^\s.!?][^.!?]*[.!?]*")


class ReadtimeConfig(StageConfig):
    """Validated from the [stage.readtime] section; an unknown key is an error."""

    words_per_minute: int = 230
    long_sentence_words: int = 40


class LongSentence(Span):
    """A span (start, end, text): its offsets are checked, and the views mark it."""

    label: str = "LONG"
    words: int


class ReadtimeLayer(BaseModel):
    """What the stage writes to doc.extensions["readtime"]; in `copydesk schema` too."""

    words: int
    minutes: float
    long_sentences: list[LongSentence] = []


class ReadtimeStage(Stage[ReadtimeConfig]):  # self.config is a ReadtimeConfig
    name = "readtime"
    requires = ("text",)  # capabilities it needs: text, entities, numbers, quotes…
    provides = ("readtime",)  # what it adds; the pipeline orders stages by these
    Layer = ReadtimeLayer  # validated after every run; dropped if the stage fails
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
