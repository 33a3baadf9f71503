"""Follow-ups: the earlier articles (within a few days) whose headline shares this one's
rarer words. An example of a stage that looks across articles with copydesk's shared
state: in-process it lives in memory, on the queue in the Redis all workers share."""

from __future__ import annotations

import re
from datetime import timedelta

from copydesk import Document, Stage, StageConfig, hookimpl
from pydantic import BaseModel, Field

WORD = re.compile(r"[^\W\d_]{4,}")


class FollowupsConfig(StageConfig):
    days: float = Field(default=3.0, gt=0, description="How far back to look.")
    shared_words: int = Field(default=2, ge=1, description="Headline words in common.")


class FollowupsLayer(BaseModel):
    earlier: list[str] = Field(description="Ids of the articles this one follows up.")


class FollowupsStage(Stage[FollowupsConfig]):
    name = "followups"
    requires = ("text",)
    provides = ("followups",)
    cross_article = True  # sees earlier articles; `process -j N` runs it in input order
    Layer = FollowupsLayer
    version = "1"
    description = "Earlier articles whose headline this one shares words with."

    def process(self, doc: Document) -> None:
        state = self.services.state
        space = state.space(self.name, window=timedelta(days=self.config.days))
        at = state.article_time(doc)  # published_at, else when the article arrived
        keys = sorted({"word:" + w.casefold() for w in WORD.findall(doc.title or "")})
        shared: dict[str, int] = {}
        for ids in space.members(*keys, at=at).values():  # earlier ones within the window
            for other in ids:
                shared[other] = shared.get(other, 0) + 1
        earlier = [i for i, n in shared.items() if n >= self.config.shared_words and i != doc.id]
        space.add({key: [doc.id] for key in keys}, at=at)  # one atomic write
        doc.extensions[self.name] = FollowupsLayer(earlier=sorted(earlier))


@hookimpl
def register_stages() -> list[type[Stage]]:
    return [FollowupsStage]
