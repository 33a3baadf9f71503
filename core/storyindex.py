"""The story index: which stories are recent and which articles they hold, for reading.

A stage that provides ``story`` decides each article's story; when a Document finishes,
the pipeline records it here (``record``), in the shared state's ``story-index`` space, so
``copydesk stories`` and ``GET /v1/stories`` can list stories without reading every
Document. When two stories turn out to be one, the stage calls ``redirect(old, new)`` and
readers see one story under the new id (``get(old)`` answers with it too).

Keys of the space: ``story:{id}`` (map: ``label``, ``first_seen``, ``last_seen``),
``articles:{id}`` (map: article id -> ``"<time>\\t<title>"``), ``recent`` (keyed set of
story ids, stamped with their latest article), ``redirect:{old}`` (value: the id it
became) and ``merged:{id}`` (keyed set of the ids redirected to it).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from copydesk.document import Document
from copydesk.state import SharedState, StateSpace
from pydantic import BaseModel, Field

SPACE = "story-index"
#: How long stories stay listed after their latest article (article time).
DEFAULT_WINDOW = timedelta(days=7)
_TITLE_CHARS = 200
_MAX_HOPS = 32


class StoryArticle(BaseModel):
    """An article of a story as the index keeps it."""

    id: str
    title: str | None = None
    at: datetime = Field(description="Its article time: publication, else arrival.")


class StoryEntry(BaseModel):
    """A story as listed: its id, label, size and first and last article."""

    id: str
    label: str
    size: int = Field(description="Articles recorded in it (within the index's window).")
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    first_article: StoryArticle
    last_article: StoryArticle
    merged_from: list[str] = Field(default_factory=list,
                                   description="Story ids that were merged into this one.")
    articles: list[StoryArticle] | None = Field(
        default=None, description="Every article, oldest first (only when asked for).")


class StoryIndex:
    """Stories by id and by recency, on a ``SharedState``."""

    def __init__(self, state: SharedState, window: timedelta = DEFAULT_WINDOW) -> None:
        self.state = state
        self.space: StateSpace = state.space(SPACE, window)

    def record(self, doc: Document) -> None:
        """Count ``doc`` in its story (nothing when it has none)."""
        if doc.story is None:
            return
        at = self.state.article_time(doc)
        story = doc.story.id
        first = doc.story.first_seen
        least = {"first_seen": _epoch(first) if first is not None else at}
        title = (doc.title or "").replace("\t", " ")[:_TITLE_CHARS]
        self.space.change("articles:" + story, at=at, set={doc.id: f"{at!r}\t{title}"})
        self.space.change("story:" + story, at=at, set={"label": doc.story.label},
                          least=least, greatest={"last_seen": at})
        self.space.add({"recent": [story]}, at=at)

    def redirect(self, old: str, new: str, at: float) -> None:
        """Story ``old`` is now part of ``new``: list them as one, under ``new``."""
        if old == new:
            return
        self.space.put({"redirect:" + old: new}, at=at)
        self.space.add({"merged:" + new: [old]}, at=at)

    def resolve(self, story: str) -> str:
        """The id ``story`` has now (following redirects)."""
        for _ in range(_MAX_HOPS):
            nxt = self.space.get("redirect:" + story).get("redirect:" + story)
            if nxt is None or nxt == story:
                break
            story = nxt
        return story

    def recent(self, limit: int = 20) -> list[StoryEntry]:
        """The stories with the latest articles, newest first."""
        seen: list[str] = []
        for story in reversed(self.space.members("recent")["recent"]):
            root = self.resolve(story)
            if root not in seen:
                seen.append(root)
            if len(seen) >= limit:
                break
        entries = (self.get(story, articles=False) for story in seen)
        found = [e for e in entries if e is not None]
        found.sort(key=lambda e: (e.last_article.at, e.id), reverse=True)
        return found

    def get(self, story: str, articles: bool = True) -> StoryEntry | None:
        """Story ``story`` (or the one it was merged into), with its articles when asked."""
        root = self.resolve(story)
        members = self._members(root)
        maps = self.space.read(*("articles:" + s for s in members))
        items: dict[str, StoryArticle] = {}
        for raw in maps.values():
            for article_id, value in raw.items():
                when, _, title = value.partition("\t")
                items[article_id] = StoryArticle(id=article_id, title=title or None,
                                                 at=_datetime(float(when)))
        if not items:
            return None
        ordered = sorted(items.values(), key=lambda a: (a.at, a.id))
        info = self.space.read("story:" + root).get("story:" + root, {})
        firsts = [float(v["first_seen"]) for v in self.space.read(
            *("story:" + s for s in members)).values() if "first_seen" in v]
        return StoryEntry(
            id=root, label=info.get("label", ""), size=len(ordered),
            first_seen=_datetime(min(firsts)) if firsts else ordered[0].at,
            last_seen=ordered[-1].at, first_article=ordered[0], last_article=ordered[-1],
            merged_from=sorted(m for m in members if m != root),
            articles=ordered if articles else None)

    def _members(self, root: str) -> list[str]:
        """``root`` and every story id merged into it, transitively."""
        out, todo = [root], [root]
        while todo and len(out) < 10_000:
            story = todo.pop()
            for old in self.space.members("merged:" + story)["merged:" + story]:
                if old not in out:
                    out.append(old)
                    todo.append(old)
        return out


def _epoch(when: datetime) -> float:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _datetime(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)
