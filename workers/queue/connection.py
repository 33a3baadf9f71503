"""Connections to Redis, from one place: a plain URL, or a master found through Sentinel.

Every part of the queue (the Celery broker, the result store of workers and clients, the
gateway's async reader) gets its Redis from here, so one setting moves all of them:

* ``COPYDESK_REDIS_URL=redis://:PASSWORD@HOST:6379/0`` (``rediss://`` for TLS) — one server;
* ``COPYDESK_SENTINEL__HOSTS=h1:26379,h2:26379,h3:26379`` plus ``COPYDESK_SENTINEL__MASTER``
  (and ``COPYDESK_SENTINEL__PASSWORD`` when the sentinels need one) — the current master as
  the sentinels name it, followed by every client after a failover. The database number and
  the master's password still come from ``redis_url``; its host and port are then unused.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import redis
import redis.asyncio as aioredis
from copydesk.settings import Settings
from redis.asyncio.retry import Retry as AsyncRetry
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry
from redis.sentinel import Sentinel


def _url_parts(url: str) -> tuple[str | None, str | None, int]:
    """Username, password and database number of a ``redis://`` URL."""
    parts = urlsplit(url)
    db_text = parts.path.lstrip("/") or "0"
    try:
        db = int(db_text)
    except ValueError:
        raise ValueError(f"redis_url {url!r}: the database must be a number") from None
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return user, password, db


def sentinel_hosts(settings: Settings) -> list[tuple[str, int]]:
    """The configured sentinels as (host, port) pairs; empty when Sentinel is not used."""
    return [_host_port(entry) for entry in settings.sentinel.hosts]


def _host_port(entry: str) -> tuple[str, int]:
    host, sep, port = entry.rpartition(":")
    if not sep or not host:
        return entry, 26379
    try:
        return host.strip("[]"), int(port)
    except ValueError:
        raise ValueError(f"sentinel host {entry!r} is not HOST:PORT") from None


def describe(settings: Settings) -> str:
    """Where Redis is, for messages (passwords left out)."""
    hosts = settings.sentinel.hosts
    if hosts:
        return f"the master {settings.sentinel.master!r} of sentinels {','.join(hosts)}"
    return f"Redis at {redact_url(settings.redis_url)}"


def redact_url(url: str) -> str:
    """The Redis URL without its password, for error messages."""
    parts = urlsplit(url)
    if parts.password:
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        user = parts.username or ""
        parts = parts._replace(netloc=f"{user}:***@{host}")
    return urlunsplit(parts)


def _common(settings: Settings, connect_timeout: float) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "socket_connect_timeout": connect_timeout,
        "socket_keepalive": True,
        "health_check_interval": 30,
    }
    if settings.redis_url.startswith("rediss://"):
        kwargs["ssl"] = True
    return kwargs


def sync_client(settings: Settings, retries: int = 3, connect_timeout: float = 5.0,
                decode_responses: bool = True, retry: Retry | None = None) -> redis.Redis:
    """A client with bounded retries and exponential backoff on connection errors; through
    Sentinel it re-discovers the master on every reconnect, so it follows a failover.
    ``retry`` replaces that policy (a worker's pauses while Redis is full:
    ``workers.worker.pause``)."""
    retry = retry or Retry(ExponentialBackoff(cap=8.0, base=0.25), retries)
    errors = [RedisConnectionError, RedisTimeoutError]
    if not settings.sentinel.hosts:
        return redis.Redis.from_url(
            settings.redis_url, decode_responses=decode_responses, retry=retry,
            retry_on_error=errors, **_common(settings, connect_timeout))
    client: redis.Redis = _master(
        Sentinel, settings, connect_timeout, decode_responses=decode_responses, retry=retry,
        retry_on_error=errors, **_common(settings, connect_timeout))
    return client


def async_client(settings: Settings, connect_timeout: float = 5.0,
                 max_connections: int | None = None) -> aioredis.Redis:
    """The asyncio counterpart of :func:`sync_client` (the gateway's blocking reads)."""
    extra: dict[str, Any] = {}
    if max_connections is not None:
        extra["max_connections"] = max_connections
    retry = AsyncRetry(ExponentialBackoff(cap=4.0, base=0.25), 3)
    if not settings.sentinel.hosts:
        return aioredis.Redis.from_url(
            settings.redis_url, decode_responses=True, socket_connect_timeout=connect_timeout,
            retry=retry, **extra)
    client: aioredis.Redis = _master(AsyncSentinel, settings, connect_timeout,
                                     decode_responses=True, retry=retry, **extra)
    return client


def _master(sentinel_class: Any, settings: Settings, connect_timeout: float,
            **client_kwargs: Any) -> Any:
    """A client of the current master, as the sentinels name it (sync or asyncio, after
    ``sentinel_class``); the master's password and database come from ``redis_url``."""
    user, password, db = _url_parts(settings.redis_url)
    sentinel = sentinel_class(
        sentinel_hosts(settings),
        sentinel_kwargs=_sentinel_kwargs(settings, connect_timeout),
        socket_connect_timeout=connect_timeout,
    )
    return sentinel.master_for(settings.sentinel.master, username=user, password=password,
                               db=db, **client_kwargs)


def _sentinel_kwargs(settings: Settings, connect_timeout: float) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"socket_connect_timeout": connect_timeout,
                              "socket_timeout": connect_timeout}
    if settings.sentinel.password:
        kwargs["password"] = settings.sentinel.password
    return kwargs


def broker_url(settings: Settings) -> str:
    """The Celery broker URL: ``redis_url``, or kombu's ``sentinel://`` list of sentinels."""
    if not settings.sentinel.hosts:
        return settings.redis_url
    user, password, db = _url_parts(settings.redis_url)
    auth = ""
    if password:
        auth = f"{quote(user or '', safe='')}:{quote(password, safe='')}@"
    return ";".join(f"sentinel://{auth}{host}:{port}/{db}"
                    for host, port in sentinel_hosts(settings))


def broker_transport_options(settings: Settings) -> dict[str, Any]:
    """What kombu's Sentinel transport needs beyond the URL (empty for a plain URL)."""
    if not settings.sentinel.hosts:
        return {}
    options: dict[str, Any] = {"master_name": settings.sentinel.master}
    if settings.sentinel.password:
        options["sentinel_kwargs"] = {"password": settings.sentinel.password}
    return options


def eval_in_pipeline(pipe: Any, script: Any, keys: list[str], args: list[Any]) -> Any:
    """Queue ``script`` (a registered ``redis.commands.core.Script``) on ``pipe`` by its body
    (``EVAL``; Redis caches it by hash). Queued as a ``Script``, redis-py would check the
    pipeline's scripts with a ``SCRIPT EXISTS`` round trip of its own before each pipeline;
    alone, a script still goes by its SHA1 (``EVALSHA``, loaded again if Redis lost it)."""
    return pipe.eval(script.script, len(keys), *keys, *args)
