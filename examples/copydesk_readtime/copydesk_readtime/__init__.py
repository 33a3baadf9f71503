"""An example external copydesk plugin: adds word count and reading time to each document."""

from copydesk import Document, Stage, StageConfig, hookimpl


class ReadtimeConfig(StageConfig):
    words_per_minute: int = 230


class ReadtimeStage(Stage[ReadtimeConfig]):
    name = "readtime"
    requires = ("text",)
    provides = ("readtime",)
    description = "Word count and minutes to read the cleaned text."

    def process(self, doc: Document) -> None:
        words = len(doc.text.split())
        minutes = words / self.config.words_per_minute
        doc.extensions["readtime"] = {"words": words, "minutes": round(minutes, 1)}


@hookimpl
def register_stages() -> list[type[Stage]]:
    return [ReadtimeStage]
