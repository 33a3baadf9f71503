"""The gateway's stories routes: ``GET /v1/stories`` and ``GET /v1/stories/{id}``.

They read the story index the workers keep in the shared state (``copydesk.storyindex``)
through the queue client, so what ``copydesk stories`` lists is what they answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from copydesk.storyindex import StoryEntry
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

#: A story id is an article id or a plugin's own; kept to the id alphabet.
STORY_ID = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"


class StoryList(BaseModel):
    """Recent stories, newest first."""

    stories: list[StoryEntry] = Field(description="Without their article lists.")


def stories_router(client: Callable[[], Any], dependencies: Sequence[Any],
                   error_responses: Callable[..., dict[int | str, dict[str, Any]]]
                   ) -> APIRouter:
    """The routes, reading through ``client()`` (the gateway's queue client)."""
    router = APIRouter(tags=["stories"], dependencies=list(dependencies))

    @router.get("/v1/stories", response_model=StoryList,
                responses=error_responses(401, 422, 503))
    async def list_stories(limit: int = Query(20, ge=1, le=500, description=(
            "How many stories, newest first."))) -> StoryList:
        """The stories with the latest articles: id, label, size, first and last article."""
        found = await run_in_threadpool(client().stories, limit)
        return StoryList(stories=[s.model_copy(update={"articles": None}) for s in found])

    @router.get("/v1/stories/{story_id}", response_model=StoryEntry,
                responses=error_responses(401, 404, 422, 503))
    async def get_story(story_id: str = Path(pattern=STORY_ID, max_length=128,
                                             description="The story id (an old id of a "
                                             "merged story finds it).")) -> StoryEntry:
        """One story with every article in it, oldest first."""
        found = await run_in_threadpool(client().story, story_id)
        if found is None:
            raise HTTPException(404, f"no story with id {story_id!r}: unknown, or all its "
                                "articles are older than the index's window")
        return found

    return router
