"""``GET /v1/stories`` and ``GET /v1/stories/{id}``: recent stories, and one story with its
articles.

They read the story index the workers keep in the shared state (``copydesk.storyindex``)
through the queue's async store, so what ``copydesk stories`` lists is what they answer.
"""

from __future__ import annotations

from copydesk.storyindex import StoryEntry
from copydesk.workers.gateway.auth import token_required
from copydesk.workers.gateway.models import error_responses, unavailable
from copydesk.workers.gateway.service import Gateway
from copydesk.workers.queue.client import QueueUnavailable
from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException

#: A story id is an article id or a plugin's own; kept to the id alphabet.
STORY_ID = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"


class StoryList(BaseModel):
    """Recent stories, newest first."""

    stories: list[StoryEntry] = Field(description="Without their article lists.")


def router(gw: Gateway) -> APIRouter:
    api = APIRouter(tags=["stories"], dependencies=[Depends(token_required(gw.settings))])

    @api.get("/v1/stories", response_model=StoryList,
                responses=error_responses(401, 422, 503))
    async def list_stories(limit: int = Query(20, ge=1, le=500, description=(
            "How many stories, newest first."))) -> StoryList:
        """The stories with the latest articles: id, label, size, first and last article."""
        try:
            found = await gw.store.stories(limit)
        except (RedisError, OSError, QueueUnavailable) as exc:
            raise unavailable(exc) from None
        return StoryList(stories=[s.model_copy(update={"articles": None}) for s in found])

    @api.get("/v1/stories/{story_id}", response_model=StoryEntry,
                responses=error_responses(401, 404, 422, 503))
    async def get_story(story_id: str = Path(pattern=STORY_ID, max_length=128,
                                             description="The story id (an old id of a "
                                             "merged story finds it).")) -> StoryEntry:
        """One story with every article in it, oldest first."""
        try:
            found = await gw.store.story(story_id)
        except (RedisError, OSError, QueueUnavailable) as exc:
            raise unavailable(exc) from None
        if found is None:
            raise HTTPException(404, f"no story with id {story_id!r}: unknown, or all its "
                                "articles are older than the index's window")
        return found

    return api
