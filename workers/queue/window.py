"""Redis as a bounded window: room for producers, archived records dropped first, and
workers that pause instead of failing when Redis is full.

Redis holds the queue and the recent results; the archive (``copydesk sink``) holds
everything. Three rules keep Redis inside its ``maxmemory``:

- **Producers wait for room** (``pressure``): while more than ``queue.max_waiting``
  articles wait, or Redis uses more than ``queue.memory_high`` of ``maxmemory``, the CLI
  and the Python client wait and the gateway answers 503 ``queue_full``. The submit script
  itself is refused by Redis above ``maxmemory`` (it carries script flags, so Redis checks
  memory before it runs rather than at its first write).
- **Archived records go first** (``mark_archived``, ``make_room``): once every configured
  sink has committed a Document, its record expires ``sinks.keep_in_redis`` later and its
  id joins ``P:archived``; when memory is high, the oldest archived records are deleted
  before anything else could be refused. Reads of such an id fall back to the archive.
- **Workers pause** (``pause``/``resume``): a worker whose write Redis refuses for memory
  records itself in ``P:paused`` (``copydesk queue`` shows it), makes room where it can,
  and retries the same write until it succeeds, so the article it holds is finished by it
  and never waits for the orphan sweep.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import redis
from copydesk.settings import QueueSettings
from copydesk.workers.queue.keys import Keys

#: Script flags (Redis 7): a script with flags is checked against ``maxmemory`` before it
#: runs, so it is refused whole instead of half-written. Scripts that free or keep memory
#: (giving an article back, renewing a lease) run even when Redis is full.
DENY_OOM = "#!lua\n"
ALLOW_OOM = "#!lua flags=allow-oom\n"

# KEYS: record, archived index
# ARGV: id, sink, now, keep_seconds, every configured sink...
MARK_ARCHIVED = ALLOW_OOM + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local now, keep = tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('HSET', KEYS[1], 'archived:' .. ARGV[2], ARGV[3])
for i = 5, #ARGV do
  if redis.call('HEXISTS', KEYS[1], 'archived:' .. ARGV[i]) == 0 then return 1 end
end
local st = redis.call('HGET', KEYS[1], 'status')
if st ~= 'done' and st ~= 'failed' then return 1 end
redis.call('HSET', KEYS[1], 'archived_at', ARGV[3])
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - keep)
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 or keep < ttl then
  if keep <= 0 then redis.call('DEL', KEYS[1]) else redis.call('EXPIRE', KEYS[1], keep) end
end
return 2
"""

# KEYS: archived index, idx_done, idx_failed
# ARGV: how many of the oldest archived records to delete, the record key prefix
DROP_ARCHIVED = ALLOW_OOM + """
local oldest = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
local dropped = 0
for _, id in ipairs(oldest) do
  local key = ARGV[2] .. id
  local st = redis.call('HGET', key, 'status')
  if st == 'done' or st == 'failed' then
    dropped = dropped + 1
    redis.call('DEL', key)
    redis.call('ZREM', KEYS[2], id)
    redis.call('ZREM', KEYS[3], id)
  end
  redis.call('ZREM', KEYS[1], id)
end
return dropped
"""


@dataclass(frozen=True)
class Pressure:
    """Why a producer should wait now."""

    reason: str  # "queue_full" or "redis_memory"
    detail: str
    waiting: int
    used_memory: int
    maxmemory: int

    def __str__(self) -> str:
        return self.detail


@dataclass(frozen=True)
class Memory:
    used: int
    limit: int  # 0: no maxmemory

    @property
    def share(self) -> float:
        return self.used / self.limit if self.limit else 0.0


def is_out_of_memory(exc: BaseException) -> bool:
    """Redis refused a write because it is over ``maxmemory``."""
    return isinstance(exc, redis.exceptions.OutOfMemoryError) or (
        isinstance(exc, redis.exceptions.ResponseError) and str(exc).startswith("OOM"))


def judge(waiting: int, memory: Memory, cfg: QueueSettings, incoming: int = 1
          ) -> Pressure | None:
    """The back-pressure rule, from the queue's waiting count and Redis memory (the async
    gateway reads those itself and asks the same question)."""
    if waiting + incoming > cfg.max_waiting and waiting > 0:
        return Pressure("queue_full", f"{waiting:,} articles wait on the queue "
                        f"(queue.max_waiting = {cfg.max_waiting:,})",
                        waiting, memory.used, memory.limit)
    if memory.limit and memory.share >= cfg.memory_high:
        return Pressure("redis_memory", f"Redis uses {memory.used / 2**20:.1f} MB of its "
                        f"{memory.limit / 2**20:.1f} MB maxmemory (queue.memory_high = "
                        f"{cfg.memory_high:g})", waiting, memory.used, memory.limit)
    return None


def memory_from_info(info: dict[str, Any]) -> Memory:
    return Memory(int(info.get("used_memory", 0)), int(info.get("maxmemory", 0)))


class Window:
    """The bounded-window rules over one Redis (``client``) and key schema."""

    def __init__(self, client: Any, keys: Keys, queue: QueueSettings) -> None:
        self.r = client
        self.keys = keys
        self.cfg = queue
        self._mark = client.register_script(MARK_ARCHIVED)
        self._drop = client.register_script(DROP_ARCHIVED)

    # -- producers ---------------------------------------------------------------------

    def memory(self) -> Memory:
        return memory_from_info(self.r.info("memory"))

    def memory_room(self, memory: Memory | None = None) -> int | None:
        """Bytes Redis may still take before ``queue.memory_high`` (None: no limit)."""
        memory = memory or self.memory()
        if not memory.limit:
            return None
        return max(int(memory.limit * self.cfg.memory_high) - memory.used, 0)

    def waiting(self) -> int:
        return int(self.r.zcard(self.keys.index("queued")))

    def pressure(self, incoming: int = 1) -> Pressure | None:
        """Why ``incoming`` more articles should wait, or None when there is room."""
        return judge(self.waiting(), self.memory(), self.cfg, incoming)

    # -- archived records --------------------------------------------------------------

    def mark_archived(self, article_ids: Iterable[str], sink: str, sinks: Sequence[str],
                      keep_seconds: float) -> int:
        """Record that ``sink`` committed these Documents; a record every sink in
        ``sinks`` has committed expires ``keep_seconds`` later. Returns how many records
        became archived by this call."""
        now = time.time()
        pipe = self.r.pipeline(transaction=False)
        for article_id in article_ids:
            self._mark(keys=[self.keys.article(article_id), self.keys.archived],
                       args=[article_id, sink, repr(now), int(keep_seconds), *sinks],
                       client=pipe)
        return sum(1 for reply in pipe.execute() if int(reply) == 2)

    def make_room(self, batch: int = 200) -> int:
        """While memory is over ``queue.memory_high``, delete the oldest archived records
        (their Documents are in the archive); returns how many were deleted."""
        dropped = 0
        while True:
            memory = self.memory()
            if not memory.limit or memory.share < self.cfg.memory_high:
                return dropped
            if not self.r.zcard(self.keys.archived):
                return dropped
            dropped += int(self._drop(
                keys=[self.keys.archived, self.keys.index("done"), self.keys.index("failed")],
                args=[batch, self.keys.article("")]))

    # -- paused workers ----------------------------------------------------------------

    def pause(self, node: str, reason: str) -> None:
        """Show ``node`` as paused (``copydesk queue``); best effort, Redis may be full."""
        entry = json.dumps({"since": time.time(), "reason": reason})
        with contextlib.suppress(redis.RedisError):
            self.r.eval(ALLOW_OOM + "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])",
                        1, self.keys.paused, node, entry)

    def resume(self, node: str) -> None:
        with contextlib.suppress(redis.RedisError):
            self.r.hdel(self.keys.paused, node)

    def paused(self) -> dict[str, dict[str, Any]]:
        """Worker node -> {since, reason} for every worker paused now."""
        out: dict[str, dict[str, Any]] = {}
        for node, raw in (self.r.hgetall(self.keys.paused) or {}).items():
            try:
                out[str(node)] = json.loads(raw)
            except ValueError:
                continue
        return out
