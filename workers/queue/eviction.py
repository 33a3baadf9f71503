"""Refuse a Redis that may evict the queue: the ``maxmemory-policy`` check workers and the
gateway run at start.

Celery's Redis transport keeps queued messages in a list without a TTL. Under an
``allkeys-*`` policy a full Redis evicts any key, so queued articles, kombu's unacked
messages and the dead-letter list can vanish silently. ``noeviction`` (writes fail loudly
when memory is full) and the ``volatile-*`` policies (only keys with a TTL, i.e. finished
records, may go) keep them. ``--allow-eviction`` (``worker.allow_eviction``) starts anyway.
"""

from __future__ import annotations

from typing import Any

from copydesk.logs import get_logger
from redis.exceptions import RedisError, ResponseError

log = get_logger("copydesk.eviction")

#: Policies that may evict keys without a TTL (the queue, unacked messages, dead letters).
UNSAFE_POLICIES = frozenset({"allkeys-lru", "allkeys-lfu", "allkeys-random"})


class EvictionRisk(RuntimeError):
    """Redis is configured to evict keys that have no TTL; the message says what to set."""


def maxmemory_policy(client: Any) -> str | None:
    """The server's ``maxmemory-policy``, or None when ``CONFIG GET`` is not allowed."""
    try:
        reply = client.config_get("maxmemory-policy")
    except ResponseError:  # CONFIG renamed or forbidden (managed Redis, ACLs)
        return None
    value = reply.get("maxmemory-policy") if isinstance(reply, dict) else None
    if isinstance(value, bytes):
        value = value.decode()
    return str(value) if value else None


def check_eviction_policy(client: Any, allow: bool = False, what: str = "copydesk") -> str | None:
    """Raise ``EvictionRisk`` if Redis may evict keys without a TTL, unless ``allow``.

    Returns the policy found (None when it could not be read: logged, not refused)."""
    try:
        policy = maxmemory_policy(client)
    except RedisError as exc:
        log.warning("could not read Redis maxmemory-policy; not checked",
                    error=f"{type(exc).__name__}: {exc}")
        return None
    if policy is None:
        log.warning("Redis does not allow CONFIG GET maxmemory-policy; not checked: make sure "
                    "it is noeviction (or volatile-*), or queued articles may be evicted")
        return None
    if policy in UNSAFE_POLICIES:
        message = (f"Redis maxmemory-policy is {policy!r}: when Redis fills up it may evict "
                   "queued articles (the queue keys have no TTL). Set maxmemory-policy "
                   "noeviction (redis.conf, or `CONFIG SET maxmemory-policy noeviction`), "
                   f"or start {what} with --allow-eviction if losing queued work is acceptable")
        if not allow:
            raise EvictionRisk(message)
        log.warning("starting despite an evicting Redis (--allow-eviction)", policy=policy)
    return policy
