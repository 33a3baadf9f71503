"""Stories by online single or average linkage over same-event links between articles.

Single linkage (``average=False``): every pair of articles within the window whose cosine
is at or above ``threshold`` is linked, and a story is a connected group; that partition
depends only on which pairs are linked, not on the order articles arrive in or on how many
workers process them.

Average linkage (``average=True``):

An article is compared with the stored articles within the window (before or after it)
that share its heaviest terms (``Linker.scored``). It joins the story it is closest to *on
average* over that story's members within the window (``Linker.stories``), when that mean
is at or above ``threshold``; a story whose mean passes ``threshold + merge_margin`` as well
is merged into it. Averaging over a story's members, not taking its single closest article,
keeps one article from chaining two similar events (two earthquakes, two arrests of players
of one team) into one story.

With ``merge_slack`` set, the story the article joined is then compared with the other
stories near the article (holding an article of cosine at least ``NEAR`` to it), story
against story: the mean cosine between their members (``CROSS_MEMBERS`` latest of each
side). A story at ``threshold - merge_slack`` or above merges. This is the step offline
average linkage takes and an online one misses: a story split early, when its first
articles did not yet look alike, is joined again once articles that bridge its halves
arrive. Stories are kept as a union-find whose root is the group's earliest article (by
time, then id).

The average depends on which members a story already has, so that partition depends a
little on the order articles arrive in: 300 corpus articles over two and a half days, in
five shuffled orders, agree with publication order at B-cubed F1 0.990-0.996 with the
stage's defaults (single linkage: 1.000; ``bench/stories_order.py``).

Everything lives in a ``StateSpace`` (``copydesk.state``), in memory or in Redis:

- ``a:{id}``: the article's time, term vector, label and publication time (JSON);
- ``t:{term}``: the articles indexed under a term (each article's heaviest terms), so
  candidates are found without scanning, and the cost of an article depends on how many
  articles share its rare terms within the window, not on the size of the archive;
- ``up:{id}``: where a merged story's root now points, as ``{time}|{id}`` claims (a set,
  so two workers merging at once both leave their claim; ``find`` joins extra claims);
- ``s:{root}``: the story's size, label and first publication time (a map);
- ``m:{root}``: the story's members (a keyed set; a merged story's members move to the
  root that stays), which the average is taken over.

Keys expire with the space's window (article time), so the state is bounded by the number
of articles in a window.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from copydesk.plugins.stories.terms import cosine
from copydesk.state import StateSpace

#: A story root and its time, ordered as the union-find orders roots: earliest first.
Node = tuple[float, str]
_MAX_HOPS = 10_000
#: A story's mean is taken over at most this many of its latest members (with every
#: candidate of the story among them), so the cost per article stays bounded.
MEAN_MEMBERS = 16
#: Two stories' average linkage is taken over at most this many latest members of each.
CROSS_MEMBERS = 16
#: Average linkage: stories holding an article at least this close to a new one are the
#: ones it can join or bring together ...
NEAR = 0.1
#: ... those of every article at the threshold, and of at most this many closest articles
#: below it; at most this many stories are compared with the one an article joined.
NEAR_STORIES = 8


@dataclass(frozen=True)
class Entry:
    """What is kept of an article: its time (epoch seconds), vector, label and publication
    time (None when undated)."""

    id: str
    time: float
    vector: dict[str, float]
    label: str = ""
    published: float | None = None

    def dumps(self) -> str:
        return json.dumps({"t": self.time, "v": self.vector, "l": self.label,
                           "p": self.published}, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def loads(cls, article_id: str, raw: str) -> Entry:
        data = json.loads(raw)
        return cls(article_id, float(data["t"]), {str(k): float(v) for k, v in
                                                  data["v"].items()},
                   str(data.get("l") or ""), data.get("p"))


@dataclass(frozen=True)
class StoryInfo:
    """A story as seen after linking one article."""

    id: str
    size: int
    label: str
    first_published: float | None


def _claim(node: Node) -> str:
    return f"{node[0]!r}|{node[1]}"


def _node(claim: str) -> Node:
    when, _, article = claim.partition("|")
    return float(when), article


class Linker:
    """Links articles into stories in a ``StateSpace``."""

    def __init__(
        self,
        space: StateSpace,
        threshold: float,
        index_terms: int = 16,
        candidates: int = 48,
        on_merge: Callable[[str, str, float], None] | None = None,
        merge_margin: float = 0.1,
        average: bool = False,
        merge_slack: float | None = None,
    ) -> None:
        self.space = space
        self.threshold = threshold
        self.merge_margin = merge_margin
        self.average = average
        self.merge_slack = merge_slack
        self.window = space.window.total_seconds()
        self.index_terms = index_terms
        self.candidates = candidates
        self.on_merge = on_merge

    def heaviest(self, entry: Entry) -> list[str]:
        """The terms ``entry`` is indexed and looked up under."""
        ranked = sorted(entry.vector.items(), key=lambda kv: (-kv[1], kv[0]))
        return [term for term, _ in ranked[: self.index_terms]]

    def scored(self, entry: Entry) -> dict[str, tuple[Entry, float]]:
        """Stored articles within the window that share heavy terms with ``entry``, with
        their cosine to it (at most ``candidates``, those sharing the most weight)."""
        return self._compare(entry, self._candidates(entry)[1], {})

    def _candidates(self, entry: Entry) -> tuple[bool, list[str]]:
        """Whether ``entry`` is stored already (its own terms index it), and the ids of the
        stored articles sharing the most weight of its heavy terms with it."""
        terms = self.heaviest(entry)
        found = self.space.members(*("t:" + t for t in terms), at=entry.time)
        return self._rank(entry, terms, found, {})

    def _rank(self, entry: Entry, terms: list[str], found: dict[str, list[str]],
              batch: dict[str, list[str]]) -> tuple[bool, list[str]]:
        """``_candidates`` from the index as read (``found``, by ``t:`` key) and the terms
        of a batch's earlier articles (``batch``, by term)."""
        weights: dict[str, float] = {}
        stored = False
        for term in terms:
            for found_id in dict.fromkeys([*found.get("t:" + term, ()),
                                           *batch.get(term, ())]):
                if found_id == entry.id:
                    stored = True
                else:
                    weights[found_id] = weights.get(found_id, 0.0) + entry.vector[term]
        return stored, sorted(weights, key=lambda i: (-weights[i], i))[: self.candidates]

    def _compare(self, entry: Entry, ids: list[str],
                 out: dict[str, tuple[Entry, float]],
                 known: dict[str, Entry] | None = None) -> dict[str, tuple[Entry, float]]:
        """Add to ``out`` the stored articles ``ids`` within the window, with their cosine
        to ``entry``; those in ``known`` are not read again."""
        known = known or {}
        stored = self.space.get(*("a:" + i for i in ids if i not in known), at=entry.time)
        for other_id in ids:
            other = known.get(other_id)
            if other is None:
                raw = stored.get("a:" + other_id)
                if raw is None:
                    continue
                other = Entry.loads(other_id, raw)
            if abs(other.time - entry.time) <= self.window:
                out[other_id] = (other, cosine(entry.vector, other.vector))
        return out

    def links(self, entry: Entry) -> list[Entry]:
        """Stored articles within the window whose cosine to ``entry`` is at or above the
        threshold (the pairs a story can be joined through)."""
        return [other for other, sim in self.scored(entry).values() if sim >= self.threshold]

    def stories(self, entry: Entry, scored: dict[str, tuple[Entry, float]],
                floor: float) -> dict[Node, list[str]]:
        """The stories holding a scored article whose cosine to ``entry`` is at least
        ``floor``, each with its members within the window (at most ``MEAN_MEMBERS``, with
        every scored one among them); members not scored yet are compared and added to
        ``scored``."""
        ranked = sorted(((sim, other.time, other_id) for other_id, (other, sim) in scored.items()
                         if sim >= floor), reverse=True)
        near = [(when, other_id) for i, (sim, when, other_id) in enumerate(ranked)
                if sim >= self.threshold or i < NEAR_STORIES]
        roots: dict[Node, list[str]] = {root: [] for root in
                                        self.find_many(near, entry.time).values()}
        if not roots:
            return {}
        keys = {root: "m:" + root[1] for root in roots}
        sets = self.space.members(*keys.values(), at=entry.time)
        for root, key in keys.items():
            members = [m for m in sets[key] if m != entry.id] or [root[1]]
            roots[root] = sorted({*members[-MEAN_MEMBERS:],
                                  *(m for m in members if m in scored)})
        missing = sorted({m for ms in roots.values() for m in ms if m not in scored})
        if missing:
            self._compare(entry, missing, scored)
        return {root: [m for m in members if m in scored] for root, members in roots.items()}

    @staticmethod
    def _means(stories: dict[Node, list[str]], scored: dict[str, tuple[Entry, float]]
               ) -> dict[Node, float]:
        """Each story's mean cosine of its members to the entry ``scored`` holds."""
        return {root: sum(scored[m][1] for m in members) / len(members)
                for root, members in stories.items() if members}

    def _near_stories_merge(self, entry: Entry, joined: list[Node],
                            stories: dict[Node, list[str]], means: dict[Node, float],
                            scored: dict[str, tuple[Entry, float]], at_least: float
                            ) -> list[Node]:
        """The other stories near ``entry`` whose members are, on average, at least
        ``at_least`` close to the members of the story ``entry`` joined (``joined``, and
        ``entry`` itself): average linkage between two stories, so two halves of one story
        that an article bridges become one, however they were split. Each side counts its
        ``CROSS_MEMBERS`` latest members."""
        def latest(ids: list[str]) -> list[Entry]:
            ranked = sorted((scored[i][0] for i in ids), key=lambda e: (e.time, e.id))
            return ranked[-CROSS_MEMBERS:]

        members = [m for root in joined for m in stories.get(root, [])]
        merged = []
        others = [r for r in sorted(means, key=lambda r: (-means[r], r)) if r not in joined]
        for root in others[:NEAR_STORIES]:
            mine, theirs = [entry, *latest(members)], latest(stories[root])
            cross = sum(cosine(a.vector, b.vector) for a in mine for b in theirs)
            if cross / (len(mine) * len(theirs)) >= at_least:
                merged.append(root)
                members += stories[root]
        return merged

    def add(self, entry: Entry) -> StoryInfo:
        """Store ``entry``, link it to its stories (single linkage: every close article's;
        average: the closest on average, and those close enough to merge) and return its
        story as it stands once ``entry`` joined it (a story merged into another later
        keeps its id as a redirect)."""
        return self.add_many([entry])[0]

    def add_many(self, entries: Sequence[Entry]) -> list[StoryInfo]:
        """``add`` each of ``entries``, in order, as if one after the other. The index and
        the stored articles it names are read once for them all, at their latest time (two
        round trips for the batch); what an entry adds is seen by those after it from
        here."""
        if not entries:
            return []
        at = max(e.time for e in entries)
        terms = [self.heaviest(e) for e in entries]
        found = self.space.members(*dict.fromkeys("t:" + t for ts in terms for t in ts), at=at)
        batch: dict[str, list[str]] = {}
        earlier: dict[str, Entry] = {}
        plans = []
        for entry, its_terms in zip(entries, terms, strict=True):
            stored, candidates = self._rank(entry, its_terms, found, batch)
            plans.append((stored, candidates, dict(earlier)))
            if not stored:
                for term in its_terms:
                    batch.setdefault(term, []).append(entry.id)
                earlier[entry.id] = entry
        wanted = dict.fromkeys(c for stored, candidates, known in plans if not stored
                               for c in candidates if c not in known)
        read = self.space.get(*("a:" + i for i in wanted), at=at)
        return [self._add(entry, stored, candidates,
                          {**{i: Entry.loads(i, read["a:" + i]) for i in candidates
                              if i not in known and "a:" + i in read}, **known})
                for entry, (stored, candidates, known) in zip(entries, plans, strict=True)]

    def _add(self, entry: Entry, stored: bool, candidates: list[str],
             known: dict[str, Entry]) -> StoryInfo:
        """``add`` once the candidates are found and those stored read (``known``)."""
        at = entry.time
        if stored:  # seen before (a retry): no change
            return self.story_of((at, entry.id), at)
        scored = self._compare(entry, candidates, {}, known)
        # an article joins a story only through a mean at the threshold, so through an
        # article at least that close: with none, no story is read
        linked = any(sim >= self.threshold for _, sim in scored.values())
        stories = (self.stories(entry, scored, min(NEAR, self.threshold))
                   if self.average and linked else {})
        means = self._means(stories, scored)
        # the index goes last: an article found under its terms was stored whole
        self.space.put({"a:" + entry.id: entry.dumps()}, at=at)
        least = {"first": entry.published} if entry.published is not None else {}
        self.space.change("s:" + entry.id, at=at, set={"label": entry.label},
                          incr={"size": 1}, least=least)
        self.space.add({"m:" + entry.id: [entry.id]}, at=at)
        self.space.add({"t:" + t: [entry.id] for t in self.heaviest(entry)}, at=at)
        # this article's story so far, root and summary: each join returns them, so the
        # story needs no lookups at the end
        mine = (at, entry.id)
        story = StoryInfo(entry.id, 1, entry.label, entry.published)
        if not self.average:  # single linkage: every close pair links, in any order
            close = sorted((other.time, other.id) for other, sim in scored.values()
                           if sim >= self.threshold)
            found = self.find_many(close, at)
            for root in dict.fromkeys(found[node] for node in close):  # each story once
                mine, story = self._join(mine, root, at, story)
        ranked = sorted((r for r in means if means[r] >= self.threshold),
                        key=lambda r: (-means[r], r))
        joined = [root for i, root in enumerate(ranked)
                  if i == 0 or means[root] >= self.threshold + self.merge_margin]
        if joined and self.merge_slack is not None:
            joined += self._near_stories_merge(entry, joined, stories, means, scored,
                                               self.threshold - self.merge_slack)
        for root in joined:
            mine, story = self._join(mine, self.find(root, at), at, story)
        return story

    def find(self, node: Node, at: float) -> Node:
        """The root of ``node``'s story (the story id now), following redirects."""
        return self.find_many([node], at)[node]

    def find_many(self, nodes: list[Node], at: float) -> dict[Node, Node]:
        """The root of each of ``nodes``' stories, following all their redirects a step at a
        time together (one lookup a step, however many nodes)."""
        roots: dict[Node, Node] = {}
        at_step = {node: node for node in nodes}
        for _ in range(_MAX_HOPS):
            if not at_step:
                return roots
            current = sorted(set(at_step.values()))
            claims = self.space.members(*("up:" + n[1] for n in current), at=at)
            parent: dict[Node, Node | None] = {}
            for n in current:
                parents = sorted(_node(c) for c in claims["up:" + n[1]])
                for extra in parents[1:]:  # merged by two writers at once: join those too
                    self.union(extra, parents[0], at)
                parent[n] = parents[0] if parents else None
            going = {}
            for node, n in at_step.items():
                up = parent[n]
                if up is None:
                    roots[node] = n
                else:
                    going[node] = up
            at_step = going
        raise RuntimeError(f"story redirects of {sorted(at_step)[0][1]!r} do not end")

    def union(self, a: Node, b: Node, at: float) -> Node:
        """Join the stories of ``a`` and ``b``: the earlier root stays, the later one
        redirects to it."""
        ra, rb = self.find(a, at), self.find(b, at)
        return ra if ra == rb else self._join(ra, rb, at)[0]

    def _join(self, ra: Node, rb: Node, at: float, known: StoryInfo | None = None
              ) -> tuple[Node, StoryInfo]:
        """Join the stories rooted at ``ra`` and ``rb``; the root that stays, and its story
        after the join. ``known``: the story rooted at ``ra`` as this process holds it (its
        record then need not be read)."""
        if ra == rb:
            return ra, known or self._info(ra, self.space.read("s:" + ra[1], at=at))
        keep, drop = min(ra, rb), max(ra, rb)
        self.space.add({"up:" + drop[1]: [_claim(keep)]}, at=at)
        moved = self.space.members("m:" + drop[1], at=at)["m:" + drop[1]]
        self.space.add({"m:" + keep[1]: moved or [drop[1]]}, at=at)
        wanted = [root for root in (keep, drop) if known is None or root != ra]
        records = self.space.read(*("s:" + root[1] for root in wanted), at=at)
        infos = {root: self._info(root, records) for root in wanted}
        if known is not None:
            infos[ra] = known
        dropped = infos[drop]
        least = ({"first": dropped.first_published}
                 if dropped.first_published is not None else {})
        self.space.change("s:" + keep[1], at=at, incr={"size": dropped.size}, least=least)
        if self.on_merge is not None:
            self.on_merge(drop[1], keep[1], at)
        kept = infos[keep]
        firsts = [f for f in (kept.first_published, dropped.first_published) if f is not None]
        return keep, StoryInfo(keep[1], kept.size + dropped.size, kept.label,
                               min(firsts) if firsts else None)

    def story_of(self, node: Node, at: float) -> StoryInfo:
        """The story ``node`` is in now."""
        root = self.find(node, at)
        return self._info(root, self.space.read("s:" + root[1], at=at))

    @staticmethod
    def _info(root: Node, records: dict[str, dict[str, str]]) -> StoryInfo:
        """The story rooted at ``root`` from its ``s:`` record among ``records``."""
        info = records.get("s:" + root[1], {})
        first = info.get("first")
        return StoryInfo(
            id=root[1],
            size=max(1, int(float(info.get("size", "1")))),
            label=info.get("label", ""),
            first_published=float(first) if first is not None else None,
        )
