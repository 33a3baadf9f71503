"""Stories as the connected parts of a graph of same-event links between articles.

Each article is linked to every earlier or later article within the window whose term
vector is close enough (``Linker.links``); a story is a connected group, kept in a
union-find whose root is the group's earliest article (by time, then id). The partition
this yields depends only on which pairs are linked, not on the order articles arrive in or
on how many workers process them: that is what makes ``-j N`` and a fleet of workers
agree with one process.

Candidates come from an inverted index of each article's heaviest terms, restricted to the
window, so the cost of an article depends on how many articles share its rare terms within
the window, not on the size of the archive. When an article links two stories, the later
story's root is pointed at the earlier one's: its id redirects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from copydesk.plugins.stories.terms import cosine


@dataclass(frozen=True)
class Entry:
    """What is kept of an article: its time (epoch seconds), vector and title."""

    id: str
    time: float
    vector: dict[str, float]
    title: str = ""


@dataclass(frozen=True)
class StoryInfo:
    """A story as seen after linking one article."""

    id: str
    size: int
    first_seen: float
    label: str


class StoryStore(Protocol):
    """Where the linker keeps its state: in the process, or shared by workers."""

    def add(self, entry: Entry, index_terms: list[str]) -> None:
        """Store ``entry`` and post it under each of ``index_terms``."""

    def entry(self, article_id: str) -> Entry | None:
        """The stored entry of ``article_id`` (None when unknown or expired)."""

    def postings(self, term: str, since: float, until: float) -> dict[str, float]:
        """Ids posted under ``term`` with a time in ``[since, until]``, with that weight."""

    def parent(self, article_id: str) -> str | None:
        """The article ``article_id``'s story was joined to (None: it is a root)."""

    def link(self, child: str, parent: str) -> str | None:
        """Point root ``child`` at ``parent`` unless it already points somewhere; returns
        the parent it already had (None when the link was made)."""

    def add_size(self, root: str, amount: int) -> int:
        """Add ``amount`` to the member count of the story rooted at ``root``; the new
        count."""

    def size(self, root: str) -> int:
        """Member count of the story rooted at ``root``."""


def _order(entry: Entry) -> tuple[float, str]:
    return (entry.time, entry.id)


class Linker:
    """Links articles into stories over a ``StoryStore``."""

    def __init__(
        self,
        store: StoryStore,
        threshold: float,
        window_seconds: float,
        index_terms: int = 16,
        candidates: int = 48,
    ) -> None:
        self.store = store
        self.threshold = threshold
        self.window = window_seconds
        self.index_terms = index_terms
        self.candidates = candidates

    def links(self, entry: Entry) -> list[str]:
        """Ids of stored articles within the window that report the same event."""
        scores: dict[str, float] = {}
        since, until = entry.time - self.window, entry.time + self.window
        for term in self._heaviest(entry):
            weight = entry.vector[term]
            for other, other_weight in self.store.postings(term, since, until).items():
                if other != entry.id:
                    scores[other] = scores.get(other, 0.0) + weight * other_weight
        best = sorted(scores, key=lambda i: (-scores[i], i))[: self.candidates]
        linked = []
        for other_id in best:
            other = self.store.entry(other_id)
            if other is None or abs(other.time - entry.time) > self.window:
                continue
            if cosine(entry.vector, other.vector) >= self.threshold:
                linked.append(other_id)
        return linked

    def _heaviest(self, entry: Entry) -> list[str]:
        ranked = sorted(entry.vector.items(), key=lambda kv: (-kv[1], kv[0]))
        return [term for term, _ in ranked[: self.index_terms]]

    def add(self, entry: Entry) -> StoryInfo:
        """Store ``entry``, link it to its stories (merging them) and return its story."""
        known = self.store.entry(entry.id)
        if known is not None:  # the same article again (a retry): nothing changes
            return self.story_of(entry.id)
        linked = self.links(entry)
        self.store.add(entry, self._heaviest(entry))
        self.store.add_size(entry.id, 1)
        for other in linked:
            self.union(entry.id, other)
        return self.story_of(entry.id)

    def find(self, article_id: str) -> str:
        """The root (story id) of ``article_id``'s story, following redirects."""
        seen = article_id
        for _ in range(10_000):
            parent = self.store.parent(seen)
            if parent is None:
                return seen
            seen = parent
        raise RuntimeError(f"story redirects of {article_id!r} do not end")

    def union(self, a: str, b: str) -> str:
        """Join the stories of ``a`` and ``b``; the earlier root stays, the other redirects."""
        for _ in range(1_000):
            ra, rb = self.find(a), self.find(b)
            if ra == rb:
                return ra
            ea, eb = self.store.entry(ra), self.store.entry(rb)
            if ea is None or eb is None:  # a root expired: the old story is closed
                return ra if eb is None else rb
            keep, drop = (ra, rb) if _order(ea) <= _order(eb) else (rb, ra)
            if self.store.link(drop, keep) is None:
                self.store.add_size(keep, self.store.size(drop))
                return keep
            # another writer redirected ``drop`` meanwhile: try again from the new roots
        raise RuntimeError(f"could not join the stories of {a!r} and {b!r}")

    def story_of(self, article_id: str) -> StoryInfo:
        root = self.find(article_id)
        entry = self.store.entry(root)
        return StoryInfo(
            id=root,
            size=max(1, self.store.size(root)),
            first_seen=entry.time if entry else 0.0,
            label=entry.title if entry else "",
        )


class MemoryStore:
    """A ``StoryStore`` in this process's memory."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        self.index: dict[str, dict[str, tuple[float, float]]] = {}
        self.parents: dict[str, str] = {}
        self.sizes: dict[str, int] = {}

    def add(self, entry: Entry, index_terms: list[str]) -> None:
        self.entries[entry.id] = entry
        for term in index_terms:
            self.index.setdefault(term, {})[entry.id] = (entry.time, entry.vector[term])

    def entry(self, article_id: str) -> Entry | None:
        return self.entries.get(article_id)

    def postings(self, term: str, since: float, until: float) -> dict[str, float]:
        return {
            i: w for i, (t, w) in self.index.get(term, {}).items() if since <= t <= until
        }

    def parent(self, article_id: str) -> str | None:
        return self.parents.get(article_id)

    def link(self, child: str, parent: str) -> str | None:
        existing = self.parents.get(child)
        if existing is None:
            self.parents[child] = parent
        return existing

    def add_size(self, root: str, amount: int) -> int:
        self.sizes[root] = self.sizes.get(root, 0) + amount
        return self.sizes[root]

    def size(self, root: str) -> int:
        return self.sizes.get(root, 0)
