"""Shared state for stages that look across articles (duplicates, reuse, stories).

A stage that needs to remember earlier articles sets ``cross_article = True`` and reaches
the state through its services::

    space = self.services.state.space("tone", window=timedelta(days=3))
    at = self.services.state.article_time(doc)
    space.add({"word:" + w: [doc.id] for w in words}, at=at)     # keyed sets
    seen = space.members(*("word:" + w for w in words))          # {key: [member, ...]}
    space.incr("articles", at=at)                                 # counters
    space.update("story:7", incr={"size": 1}, least={"first": at}, at=at)  # maps
    space.put("text:" + doc.id, doc.text, at=at)                  # values
    origin, when = space.first("hash:" + digest, doc.id, at=at)   # the earliest claimant
    claim = space.claim("hash:" + digest, doc.id, at=at)          # ... and whom it overtook
    space.post({"band:" + b: handle for b in bands}, at=at)       # postings (inverted index)
    found = space.postings(*("band:" + b for b in bands), at=at)  # {key: [entry, ...]}

Every write is atomic (one Lua script on Redis) and carries the article's time ``at``.
A space forgets what is older than its window: each space keeps a watermark, the latest
``at`` written to it, and a key (or a set member) whose latest write is older than
``watermark - window`` expires. Time is article time (``article_time``: the publication
time when given, else when the article arrived), so a backfill of old articles is bounded
the same way as a live stream.

Postings are the compact kind of keyed set for a large inverted index: short entries
appended under keys, kept by *generation* (an eighth of the window each, by article time)
and forgotten a whole generation at a time, so an entry lives between one window and 9/8
of one; readers that need the exact window check the time of what an entry points at.

Two backends implement ``StateBackend``: ``MemoryState`` here, for ``copydesk process``
(one process; with ``-j N`` the cross-article stages run in the parent, in input order),
and the Redis backend the workers supply (``copydesk.workers.queue.state``). Stages see
only ``SharedState`` and ``StateSpace``.
"""

from __future__ import annotations

import heapq
import itertools
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from copydesk.document import Document

#: Space names and keys go into Redis key names: a safe alphabet, no braces.
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_KEY_MAX = 512


class StateError(ValueError):
    """A state call that cannot be done as asked (bad name, key or window)."""


#: Postings generations per window (a generation is this fraction of the window).
GENERATIONS = 8


@dataclass(frozen=True)
class Claim:
    """The answer of ``StateSpace.claim``: the earliest claimant and its time, and the
    claimants this claim ``overtook`` (they claimed before it with a later time, so until now
    another member was their earliest; empty unless this claim just became the earliest)."""

    first: str
    at: float
    overtaken: tuple[str, ...] = ()


def generation(at: float, window: float) -> int:
    """The postings generation of article time ``at`` in a space with ``window``."""
    return int(at // (window / GENERATIONS))


def live_generation(gen: int, window: float, cutoff: float) -> bool:
    """Whether generation ``gen`` may still hold entries at or after ``cutoff``."""
    return (gen + 1) * (window / GENERATIONS) > cutoff


def check_entry(entry: str) -> str:
    if not isinstance(entry, str) or not entry or len(entry) > 64 or " " in entry:
        raise StateError(f"postings entry {entry!r:.80} must be 1-64 characters without a "
                         "space")
    return entry


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise StateError(f"state space name {name!r} must be 1-64 letters, digits, '_', '.' "
                         "or '-'")
    return name


def check_key(key: str) -> str:
    if not isinstance(key, str) or not key or len(key) > _KEY_MAX:
        raise StateError(f"state key {key!r:.80} must be a non-empty string of at most "
                         f"{_KEY_MAX} characters")
    return key


class StateBackend(ABC):
    """The primitive operations; each call is atomic. ``window`` is in seconds."""

    @abstractmethod
    def add(self, space: str, window: float, members: Mapping[str, Sequence[str]],
            at: float) -> None:
        """Add members (stamped ``at``) to keyed sets."""

    @abstractmethod
    def members(self, space: str, window: float, keys: Sequence[str],
                at: float | None) -> dict[str, list[str]]:
        """Live members of each keyed set, oldest first (ties by member). With ``at``, the
        watermark first moves up to ``at`` (so does every read below)."""

    @abstractmethod
    def remove(self, space: str, window: float, members: Mapping[str, Sequence[str]],
               at: float) -> None:
        """Remove members from keyed sets."""

    @abstractmethod
    def incr(self, space: str, window: float, amounts: Mapping[str, float],
             at: float) -> dict[str, float]:
        """Add to counters; their new values."""

    @abstractmethod
    def counts(self, space: str, window: float, keys: Sequence[str],
               at: float | None) -> dict[str, float]:
        """Counter values (0 when absent)."""

    @abstractmethod
    def update(self, space: str, window: float, key: str, at: float,
               set_: Mapping[str, str], incr: Mapping[str, float],
               least: Mapping[str, float], greatest: Mapping[str, float]) -> dict[str, str]:
        """Change fields of a map at once; the whole map afterwards."""

    @abstractmethod
    def read(self, space: str, window: float, keys: Sequence[str],
             at: float | None) -> dict[str, dict[str, str]]:
        """Maps by key (only those that exist)."""

    @abstractmethod
    def put(self, space: str, window: float, values: Mapping[str, str], at: float) -> None:
        """Store values."""

    @abstractmethod
    def get(self, space: str, window: float, keys: Sequence[str],
            at: float | None) -> dict[str, str]:
        """Stored values by key (only those that exist)."""

    @abstractmethod
    def first(self, space: str, window: float, key: str, member: str,
              at: float) -> tuple[str, float]:
        """Register ``member`` at ``at`` under ``key``; the earliest claimant (least ``at``,
        ties by member) and its time."""

    def change(self, space: str, window: float, key: str, at: float,
               set_: Mapping[str, str], incr: Mapping[str, float],
               least: Mapping[str, float], greatest: Mapping[str, float]) -> None:
        """``update`` without its answer, so a backend may hold it back like the other
        writes that answer nothing (by default it is an ``update``)."""
        self.update(space, window, key, at, set_, incr, least, greatest)

    def flush(self) -> None:
        """Send writes this backend holds back (a backend may send writes that answer
        nothing with its next call that answers); the pipeline calls it after each
        cross-article stage. Nothing to do by default."""
        return None

    @abstractmethod
    def delete(self, space: str, keys: Sequence[str]) -> None:
        """Forget keys of any kind."""

    @abstractmethod
    def watermark(self, space: str) -> float | None:
        """The latest article time written to the space (None before any write)."""

    @abstractmethod
    def size(self, space: str) -> int:
        """How many keys the space holds (for bounds checks and benchmarks)."""

    def claim(self, space: str, window: float, key: str, member: str, at: float) -> Claim:
        """Register ``member`` at ``at`` (a member keeps its first claim's time); the earliest
        claimant, and the claimants overtaken when ``member`` just became it. This default
        (for backends that predate it) never reports any overtaken."""
        first, when = self.first(space, window, key, member, at)
        return Claim(first, when)

    def claim_many(self, space: str, window: float,
                   claims: Sequence[tuple[str, str, float]]) -> list[Claim]:
        """``claim`` for each ``(key, member, at)`` in order, as if one after the other. This
        default makes them one by one; a remote backend sends them together."""
        return [self.claim(space, window, key, member, at) for key, member, at in claims]

    def post(self, space: str, window: float, entries: Mapping[str, str], at: float) -> None:
        """Append each entry to its key's postings in the generation of ``at`` (an entry
        already there is not added twice). This default keeps them as keyed sets."""
        self.add(space, window, {k: [v] for k, v in entries.items()}, at)

    def postings(self, space: str, window: float, keys: Sequence[str],
                 at: float | None) -> dict[str, list[str]]:
        """Each key's entries of the live generations, oldest generation first, each entry
        once (keys without any left out)."""
        return self.members(space, window, keys, at)


class StateSpace:
    """One named corner of the shared state with its window; what a stage holds."""

    def __init__(self, backend: StateBackend, name: str, window: timedelta) -> None:
        if window.total_seconds() <= 0:
            raise StateError(f"state space {name!r}: the window must be positive, "
                             f"got {window}")
        self.backend = backend
        self.name = check_name(name)
        self.window = window
        self._seconds = window.total_seconds()

    # -- keyed sets ---------------------------------------------------------------------
    def add(self, members: Mapping[str, Iterable[str]], at: float) -> None:
        """Add each key's members, stamped ``at``; a member's stamp is its latest add."""
        batch = {check_key(k): [str(m) for m in v] for k, v in members.items()}
        if batch:
            self.backend.add(self.name, self._seconds, batch, float(at))

    def members(self, *keys: str, at: float | None = None) -> dict[str, list[str]]:
        """Each key's live members, oldest first; a key without any maps to ``[]``.

        Every read takes ``at``, the time of the article asking: the space's watermark moves
        up to it first, so what is older than the window *of that article* is gone."""
        if not keys:
            return {}
        found = self.backend.members(self.name, self._seconds, [check_key(k) for k in keys],
                                     _time(at))
        return {k: found.get(k, []) for k in keys}

    def discard(self, members: Mapping[str, Iterable[str]], at: float) -> None:
        """Remove each key's members."""
        batch = {check_key(k): [str(m) for m in v] for k, v in members.items()}
        if batch:
            self.backend.remove(self.name, self._seconds, batch, float(at))

    # -- counters -----------------------------------------------------------------------
    def incr(self, key: str | Mapping[str, float], amount: float = 1, *,
             at: float) -> dict[str, float]:
        """Add ``amount`` to counter ``key`` (or to each counter of a mapping); new values."""
        amounts = {key: amount} if isinstance(key, str) else dict(key)
        if not amounts:
            return {}
        return self.backend.incr(self.name, self._seconds,
                                 {check_key(k): float(v) for k, v in amounts.items()},
                                 float(at))

    def counts(self, *keys: str, at: float | None = None) -> dict[str, float]:
        """Counter values, 0 for a counter never incremented (or expired)."""
        if not keys:
            return {}
        return self.backend.counts(self.name, self._seconds, [check_key(k) for k in keys],
                                   _time(at))

    # -- maps ---------------------------------------------------------------------------
    def update(self, key: str, *, at: float, set: Mapping[str, str] | None = None,
               incr: Mapping[str, float] | None = None,
               least: Mapping[str, float] | None = None,
               greatest: Mapping[str, float] | None = None) -> dict[str, str]:
        """Change a map's fields in one atomic step: ``set`` them, ``incr`` them, keep the
        ``least`` or the ``greatest`` of old and given. Returns the whole map after it
        (values as strings, numbers as Redis writes them)."""
        return self.backend.update(self.name, self._seconds, check_key(key), float(at),
                                   *_fields(set, incr, least, greatest))

    def change(self, key: str, *, at: float, set: Mapping[str, str] | None = None,
               incr: Mapping[str, float] | None = None,
               least: Mapping[str, float] | None = None,
               greatest: Mapping[str, float] | None = None) -> None:
        """``update`` when the map afterwards is not needed: it answers nothing, so a
        backend may send it with its next call that answers (Redis does: one round trip
        less). This process reads it at once; others once the stage has run."""
        self.backend.change(self.name, self._seconds, check_key(key), float(at),
                            *_fields(set, incr, least, greatest))

    def read(self, *keys: str, at: float | None = None) -> dict[str, dict[str, str]]:
        """The maps at ``keys`` that exist."""
        if not keys:
            return {}
        return self.backend.read(self.name, self._seconds, [check_key(k) for k in keys],
                                 _time(at))

    # -- values -------------------------------------------------------------------------
    def put(self, values: Mapping[str, str], at: float) -> None:
        """Store string values under keys (replacing what was there)."""
        batch = {check_key(k): str(v) for k, v in values.items()}
        if batch:
            self.backend.put(self.name, self._seconds, batch, float(at))

    def get(self, *keys: str, at: float | None = None) -> dict[str, str]:
        """The values at ``keys`` that exist."""
        if not keys:
            return {}
        return self.backend.get(self.name, self._seconds, [check_key(k) for k in keys],
                                _time(at))

    # -- earliest claimant --------------------------------------------------------------
    def first(self, key: str, member: str, at: float) -> tuple[str, float]:
        """Register ``member`` under ``key`` at ``at`` and return the earliest claimant so
        far (least time, ties broken by member), whatever order the claims came in."""
        return self.backend.first(self.name, self._seconds, check_key(key), str(member),
                                  float(at))

    def claim(self, key: str, member: str, at: float) -> Claim:
        """Like ``first``, and also whom this claim overtook: the members that claimed
        ``key`` before with a later time, when ``member`` now becomes the earliest (they
        were told another earliest claimant; the caller may correct what they answered).
        Claims are kept in their own sets (not those of ``first``)."""
        return self.backend.claim(self.name, self._seconds, check_key(key), str(member),
                                  float(at))

    def claim_many(self, claims: Iterable[tuple[str, str, float]]) -> list[Claim]:
        """``claim`` for each ``(key, member, at)``, in order: the same answers as claiming
        one after the other, in one round trip on a remote backend."""
        batch = [(check_key(k), str(m), float(at)) for k, m, at in claims]
        return self.backend.claim_many(self.name, self._seconds, batch) if batch else []

    # -- postings -----------------------------------------------------------------------
    def post(self, entries: Mapping[str, str], at: float) -> None:
        """Append one short entry (1-64 characters, no space) to each key's postings."""
        batch = {check_key(k): check_entry(v) for k, v in entries.items()}
        if batch:
            self.backend.post(self.name, self._seconds, batch, float(at))

    def postings(self, *keys: str, at: float | None = None) -> dict[str, list[str]]:
        """Each key's entries from the live generations (``[]`` for none), oldest first."""
        if not keys:
            return {}
        found = self.backend.postings(self.name, self._seconds,
                                      [check_key(k) for k in keys], _time(at))
        return {k: found.get(k, []) for k in keys}

    # -- housekeeping -------------------------------------------------------------------
    def forget(self, *keys: str) -> None:
        """Delete keys of any kind."""
        if keys:
            self.backend.delete(self.name, [check_key(k) for k in keys])

    def watermark(self) -> float | None:
        """The latest article time written to this space."""
        return self.backend.watermark(self.name)

    def size(self) -> int:
        """How many keys this space holds now."""
        return self.backend.size(self.name)


def _fields(set_: Mapping[str, str] | None, incr: Mapping[str, float] | None,
            least: Mapping[str, float] | None, greatest: Mapping[str, float] | None,
            ) -> tuple[dict[str, str], dict[str, float], dict[str, float], dict[str, float]]:
    """An update's field groups, typed as the backends take them."""
    return ({str(k): str(v) for k, v in (set_ or {}).items()},
            {str(k): float(v) for k, v in (incr or {}).items()},
            {str(k): float(v) for k, v in (least or {}).items()},
            {str(k): float(v) for k, v in (greatest or {}).items()})


def _time(at: float | None) -> float | None:
    return None if at is None else float(at)


class SharedState:
    """What ``services.state`` is: spaces on one backend, and each article's time."""

    def __init__(self, backend: StateBackend | None = None) -> None:
        self.backend: StateBackend = backend or MemoryState()
        self._clock = _ArrivalClock()

    def flush(self) -> None:
        """Send the writes the backend holds back, so other workers see them."""
        self.backend.flush()

    def space(self, name: str, window: timedelta = timedelta(days=3)) -> StateSpace:
        """The space ``name`` (stages usually use their own name) with ``window``."""
        return StateSpace(self.backend, name, window)

    def article_time(self, doc: Document) -> float:
        """The article's time in seconds since the epoch: its ``published_at`` (UTC when it
        has no zone), else when it arrived (stamped once, strictly increasing in this
        process, so articles without a date keep their input order)."""
        if doc.published_at is not None:
            when = doc.published_at
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return when.timestamp()
        stamp = doc.arrived_at
        if stamp is None:
            stamp = self._clock.next()
            doc.arrived_at = stamp
        return stamp


class _ArrivalClock:
    """Wall-clock seconds, made strictly increasing."""

    def __init__(self) -> None:
        self._last = 0.0

    def next(self) -> float:
        now = time.time()
        self._last = max(now, self._last + 1e-6)
        return self._last


def stamp_arrivals(docs: Iterable[Document], clock: _ArrivalClock | None = None) -> None:
    """Stamp undated Documents that have no arrival time yet, in the order given."""
    clock = clock or _CLOCK
    for doc in docs:
        if doc.published_at is None and doc.arrived_at is None:
            doc.arrived_at = clock.next()


_CLOCK = _ArrivalClock()


# -- the in-process backend -------------------------------------------------------------

@dataclass
class _Space:
    sets: dict[str, dict[str, float]] = field(default_factory=dict)
    counters: dict[str, float] = field(default_factory=dict)
    maps: dict[str, dict[str, str]] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    firsts: dict[str, tuple[float, str]] = field(default_factory=dict)
    claims: dict[str, dict[str, float]] = field(default_factory=dict)
    #: postings: generation -> key -> entries
    postings: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    #: key -> latest write time; the heap holds (time, key) entries, some stale
    touched: dict[str, float] = field(default_factory=dict)
    heap: list[tuple[float, str]] = field(default_factory=list)
    mark: float | None = None


class MemoryState(StateBackend):
    """The in-process backend: dictionaries, expired as the watermark moves."""

    def __init__(self) -> None:
        self._spaces: dict[str, _Space] = {}

    def _space(self, name: str) -> _Space:
        return self._spaces.setdefault(name, _Space())

    def _advance(self, name: str, window: float, at: float | None) -> _Space:
        return self._write(name, window, (), at) if at is not None else self._space(name)

    def _write(self, name: str, window: float, keys: Iterable[str], at: float) -> _Space:
        space = self._space(name)
        if space.mark is None or at > space.mark:
            space.mark = at
        for key in keys:
            if at >= space.touched.get(key, float("-inf")):
                space.touched[key] = at
                heapq.heappush(space.heap, (at, key))
        self._expire(space, window)
        return space

    def _expire(self, space: _Space, window: float) -> None:
        if space.mark is None:
            return
        cutoff = space.mark - window
        for gen in [g for g in space.postings if not live_generation(g, window, cutoff)]:
            del space.postings[gen]
        while space.heap and space.heap[0][0] < cutoff:
            at, key = heapq.heappop(space.heap)
            if space.touched.get(key) == at:
                self._drop(space, [key])

    @staticmethod
    def _drop(space: _Space, keys: Iterable[str]) -> None:
        for key in keys:
            for table in (space.sets, space.counters, space.maps, space.values, space.firsts,
                          space.claims, space.touched):
                table.pop(key, None)

    def add(self, space: str, window: float, members: Mapping[str, Sequence[str]],
            at: float) -> None:
        s = self._write(space, window, members, at)
        cutoff = float("-inf") if s.mark is None else s.mark - window
        for key, items in members.items():
            current = s.sets.setdefault(key, {})
            for m in items:
                current[m] = max(at, current.get(m, at))
            for m in [m for m, t in current.items() if t < cutoff]:  # expired members
                del current[m]

    def members(self, space: str, window: float, keys: Sequence[str],
                at: float | None) -> dict[str, list[str]]:
        s = self._advance(space, window, at)
        cutoff = float("-inf") if s.mark is None else s.mark - window
        out = {}
        for key in keys:
            items = s.sets.get(key)
            if items:
                out[key] = [m for m, t in sorted(items.items(), key=lambda x: (x[1], x[0]))
                            if t >= cutoff]
        return out

    def remove(self, space: str, window: float, members: Mapping[str, Sequence[str]],
               at: float) -> None:
        s = self._space(space)
        for key, items in members.items():
            current = s.sets.get(key)
            if current is None:
                continue
            for m in items:
                current.pop(m, None)
            if not current:
                self._drop(s, [key])

    def incr(self, space: str, window: float, amounts: Mapping[str, float],
             at: float) -> dict[str, float]:
        s = self._write(space, window, amounts, at)
        for key, amount in amounts.items():
            s.counters[key] = s.counters.get(key, 0.0) + amount
        return {k: s.counters[k] for k in amounts}

    def counts(self, space: str, window: float, keys: Sequence[str],
               at: float | None) -> dict[str, float]:
        s = self._advance(space, window, at)
        return {k: s.counters.get(k, 0.0) for k in keys}

    def update(self, space: str, window: float, key: str, at: float,
               set_: Mapping[str, str], incr: Mapping[str, float],
               least: Mapping[str, float], greatest: Mapping[str, float]) -> dict[str, str]:
        s = self._write(space, window, [key], at)
        current = s.maps.setdefault(key, {})
        current.update(set_)
        for f, amount in incr.items():
            current[f] = _num(float(current.get(f, "0")) + amount)
        for f, value in least.items():
            current[f] = _num(min(value, float(current[f])) if f in current else value)
        for f, value in greatest.items():
            current[f] = _num(max(value, float(current[f])) if f in current else value)
        return dict(current)

    def read(self, space: str, window: float, keys: Sequence[str],
             at: float | None) -> dict[str, dict[str, str]]:
        s = self._advance(space, window, at)
        return {k: dict(s.maps[k]) for k in keys if k in s.maps}

    def put(self, space: str, window: float, values: Mapping[str, str], at: float) -> None:
        s = self._write(space, window, values, at)
        s.values.update(values)

    def get(self, space: str, window: float, keys: Sequence[str],
            at: float | None) -> dict[str, str]:
        s = self._advance(space, window, at)
        return {k: s.values[k] for k in keys if k in s.values}

    def first(self, space: str, window: float, key: str, member: str,
              at: float) -> tuple[str, float]:
        s = self._write(space, window, [key], at)
        claim = (at, member)
        best = s.firsts.get(key)
        if best is not None and s.mark is not None and best[0] < s.mark - window:
            best = None  # a claim past the window
        if best is None or claim < best:
            s.firsts[key] = best = claim
        return best[1], best[0]

    def claim(self, space: str, window: float, key: str, member: str, at: float) -> Claim:
        s = self._write(space, window, [key], at)
        cutoff = float("-inf") if s.mark is None else s.mark - window
        claims = {m: t for m, t in s.claims.get(key, {}).items() if t >= cutoff}
        before = min(claims.items(), key=lambda c: (c[1], c[0]), default=None)
        claims.setdefault(member, at)
        s.claims[key] = claims
        best, when = min(claims.items(), key=lambda c: (c[1], c[0]))
        overtaken: tuple[str, ...] = ()
        if best == member and before is not None and before[0] != member:
            overtaken = tuple(m for m, _ in sorted(claims.items(), key=lambda c: (c[1], c[0]))
                              if m != member)
        return Claim(best, when, overtaken)

    def post(self, space: str, window: float, entries: Mapping[str, str], at: float) -> None:
        s = self._write(space, window, (), at)
        gen = generation(at, window)
        if s.mark is not None and not live_generation(gen, window, s.mark - window):
            return  # already past the window
        current = s.postings.setdefault(gen, {})
        for key, entry in entries.items():
            listed = current.setdefault(key, [])
            if entry not in listed:
                listed.append(entry)

    def postings(self, space: str, window: float, keys: Sequence[str],
                 at: float | None) -> dict[str, list[str]]:
        s = self._advance(space, window, at)
        out: dict[str, list[str]] = {}
        for gen in sorted(s.postings):
            for key in keys:
                for entry in s.postings[gen].get(key, ()):
                    listed = out.setdefault(key, [])
                    if entry not in listed:
                        listed.append(entry)
        return out

    def delete(self, space: str, keys: Sequence[str]) -> None:
        self._drop(self._space(space), keys)

    def watermark(self, space: str) -> float | None:
        return self._space(space).mark

    def size(self, space: str) -> int:
        s = self._space(space)
        posted = (k for gen in s.postings.values() for k in gen)
        return len(set(itertools.chain(s.sets, s.counters, s.maps, s.values, s.firsts,
                                       s.claims, posted)))


def _num(value: float) -> str:
    """A number as a map stores it: integral values without a fraction (as Redis does)."""
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
