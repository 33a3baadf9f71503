"""The outbox: finished Documents on their way to the sinks, kept in Redis until each sink
has committed them.

``P:outbox`` is a Redis stream. The finish script appends ``id`` (and ``status``, ``at``)
in the same atomic step that stores the Document, when at least one sink is configured;
reprocessing appends the same way. Each sink has a consumer group named after it, so
every sink sees every entry once, and any number of ``copydesk sink NAME`` processes
share that sink's entries. An entry is acknowledged only after the sink committed its
Document (or dead-lettered it), so:

- a sink down for minutes: its consumer keeps the batch pending and retries it, nothing is
  acknowledged, the backlog grows in Redis;
- a consumer killed mid-batch: its pending entries are claimed by another consumer (or by
  itself restarted) once idle for ``sinks.claim_after`` seconds (``XAUTOCLAIM``);
- a Document written twice after such a claim is replaced, not duplicated, by a sink that
  upserts by id (postgres).

Entries are trimmed (``XTRIM MINID``) once every group has acknowledged them; the backlog
of a sink is its group's ``lag`` plus its pending entries (``copydesk queue``, ``/metrics``).
Documents a sink refuses go to ``P:sink_dead:{sink}`` with the reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis
from copydesk.workers.queue.keys import Keys


@dataclass(frozen=True)
class Entry:
    """One outbox entry: the stream id and the article id it names."""

    entry_id: str
    article_id: str


@dataclass(frozen=True)
class Backlog:
    """How far one sink is behind: entries never delivered (``lag``) and delivered but not
    acknowledged (``pending``), and its dead letters."""

    sink: str
    lag: int
    pending: int
    consumers: int
    dead: int

    @property
    def total(self) -> int:
        return self.lag + self.pending


def ensure_group(client: Any, keys: Keys, sink: str) -> None:
    """Create ``sink``'s consumer group from the stream's start (all entries still in it)."""
    try:
        client.xgroup_create(keys.outbox, sink, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def _entries(raw: Sequence[Any]) -> list[Entry]:
    out = []
    for entry_id, fields in raw:
        if fields is None:  # deleted from the stream while pending
            continue
        out.append(Entry(entry_id, fields.get("id", "")))
    return out


class Outbox:
    """One consumer of one sink's group."""

    def __init__(self, client: Any, keys: Keys, sink: str, consumer: str,
                 claim_after: float) -> None:
        self.r = client
        self.keys = keys
        self.sink = sink
        self.consumer = consumer
        self.claim_after_ms = int(claim_after * 1000)
        self._cursor = "0-0"

    def ensure_group(self) -> None:
        ensure_group(self.r, self.keys, self.sink)

    def take(self, count: int, block_ms: int) -> list[Entry]:
        """The next batch: first this consumer's own unacknowledged entries (a batch the
        sink could not take), then entries other consumers left idle for ``claim_after``,
        then new ones (waiting up to ``block_ms``)."""
        own = self.r.xreadgroup(self.sink, self.consumer, {self.keys.outbox: "0"}, count=count)
        entries = _entries(own[0][1]) if own else []
        if entries:
            return entries
        cursor, claimed, *_ = self.r.xautoclaim(self.keys.outbox, self.sink, self.consumer,
                                                self.claim_after_ms, self._cursor, count=count)
        self._cursor = cursor if cursor != "0-0" else "0-0"
        entries = _entries(claimed)
        if entries:
            return entries
        new = self.r.xreadgroup(self.sink, self.consumer, {self.keys.outbox: ">"},
                                count=count, block=block_ms)
        return _entries(new[0][1]) if new else []

    def ack(self, entries: Sequence[Entry]) -> None:
        if entries:
            self.r.xack(self.keys.outbox, self.sink, *[e.entry_id for e in entries])

    def dead_letter(self, article_id: str, reason: str) -> None:
        self.r.lpush(self.keys.sink_dead(self.sink), json.dumps(
            {"id": article_id, "sink": self.sink, "reason": reason, "at": time.time()}))

    def trim(self) -> int:
        """Drop the entries every group has acknowledged; returns how many went."""
        floor = acknowledged_floor(self.r, self.keys)
        if floor is None:
            return 0
        return int(self.r.xtrim(self.keys.outbox, minid=floor, approximate=False))


def _next_id(entry_id: str) -> str:
    ms, seq = entry_id.split("-")
    return f"{ms}-{int(seq) + 1}"


def acknowledged_floor(client: Any, keys: Keys) -> str | None:
    """The lowest stream id some group still needs (pending, or not yet delivered), or None
    when there is no group."""
    try:
        groups = client.xinfo_groups(keys.outbox)
    except redis.ResponseError:
        return None
    if not groups:
        return None
    floors = []
    for group in groups:
        floor = _next_id(group["last-delivered-id"])
        if int(group.get("pending") or 0):
            summary = client.xpending(keys.outbox, group["name"])
            lowest = summary.get("min")
            if lowest:
                floor = min(floor, lowest, key=_id_key)
        floors.append(floor)
    return min(floors, key=_id_key)


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)


def backlogs(client: Any, keys: Keys, sinks: Sequence[str] = ()) -> list[Backlog]:
    """The backlog of each sink with a group (and of each of ``sinks``, configured ones
    whose group does not exist yet: everything in the outbox waits for them)."""
    try:
        groups = {g["name"]: g for g in client.xinfo_groups(keys.outbox)}
        length = int(client.xlen(keys.outbox))
    except redis.ResponseError:  # no outbox stream yet
        groups, length = {}, 0
    out = []
    for name in sorted({*groups, *sinks}):
        group = groups.get(name)
        dead = int(client.llen(keys.sink_dead(name)))
        if group is None:
            out.append(Backlog(name, lag=length, pending=0, consumers=0, dead=dead))
            continue
        lag = group.get("lag")
        out.append(Backlog(name, lag=int(lag) if lag is not None else length,
                           pending=int(group.get("pending") or 0),
                           consumers=int(group.get("consumers") or 0), dead=dead))
    return out


def sink_dead_letters(client: Any, keys: Keys, sink: str, limit: int = 20) -> list[dict[str, Any]]:
    """The newest ``limit`` Documents ``sink`` refused, with their reasons."""
    return [json.loads(x) for x in client.lrange(keys.sink_dead(sink), 0, limit - 1)]
