"""kombu's Redis transport with an intake check on every message a worker pops, and
retries at the head of the queue.

kombu parses a popped message inline (``loads`` in ``Channel._brpop_read`` and ``_get``)
and raises on anything malformed, which stops the whole worker. Rather than re-implement
those methods, this transport gives its channels a Redis client whose reply to the two
pop commands (``BRPOP`` for the event loop, ``RPOP`` for polling) goes through
``workers.worker.intake`` first: a rejected message is recorded there and the reply becomes "no
message" (kombu's ``Empty``), so kombu and Celery only ever see well-formed messages.

Its QoS puts a message that is given back (re-queued after a lost attempt) at the head of
the queue, where docs/queue.md says a retry goes.

Selected by ``broker_transport`` in ``workers.worker.app.celery_config`` (``SentinelTransport``
when Sentinel is configured); the broker URL stays kombu's ``redis://`` or ``sentinel://``.
"""

from __future__ import annotations

import os
import socket
from typing import Any

import redis
from celery import current_app
from copydesk.logs import get_logger
from copydesk.workers.worker.intake import Intake
from kombu.transport import redis as kombu_redis
from kombu.transport import virtual
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import loads

log = get_logger("copydesk.intake")

_POP_COMMANDS = frozenset({"BRPOP", "RPOP"})


def current_intake() -> Intake:
    """The intake of this worker: its context's, on the Celery app (kombu calls the transport
    without the app, so this takes Celery's current app, the worker's)."""
    app = current_app
    return app.context.intake_for([name for name in app.tasks
                                   if not name.startswith("celery.")])


class IntakeRedis(redis.Redis):
    """A redis-py client whose BRPOP/RPOP replies pass the intake check (else: no reply)."""

    def parse_response(self, connection: Any, command_name: str | bytes,
                       **options: Any) -> Any:
        response = super().parse_response(connection, command_name, **options)
        name = command_name.decode() if isinstance(command_name, bytes) else command_name
        if not response or name.upper() not in _POP_COMMANDS:
            return response
        if isinstance(response, tuple | list):  # BRPOP: (queue, message)
            queue, raw = response
        else:
            queue, raw = b"", response
        queue_name = queue.decode("utf-8", "replace") if isinstance(queue, bytes) else queue
        if current_intake().admit(raw, queue_name):
            return response
        return None


def _intake_client(client: Any) -> Any:
    if client is redis.Redis:
        return IntakeRedis
    # a global key prefix makes kombu use its own client class: keep it, unchecked
    log.warning("global_keyprefix is set: raw messages are not checked at intake")
    return client


class HeadFirstQoS(kombu_redis.QoS):
    """kombu's Redis QoS, except that a message given back (rejected with ``requeue``: its
    pool process was lost, it hit the soft time limit, Redis went away mid-task) returns to
    the head of its queue, the end workers pop from, so its retry starts next instead of
    waiting behind the whole queue (kombu's own ``reject`` pushes it to the tail)."""

    def reject(self, delivery_tag: Any, requeue: bool = False) -> None:
        if not requeue:
            super().reject(delivery_tag, requeue=False)
            return
        self.restore_by_tag(delivery_tag, leftmost=False)
        virtual.QoS.ack(self, delivery_tag)  # forget the delivery, as kombu's reject does

    def restore_at_head(self, delivery_tags: list[str]) -> None:
        """Give back several messages to the head of their queues in one transaction, the
        first to be popped first. One transaction, because a worker's pop may be waiting
        (BRPOP): it would take whichever message came back first."""
        def restore(pipe: Any) -> None:
            raws = pipe.hmget(self.unacked_key, delivery_tags)
            pipe.multi()
            for tag, raw in reversed(list(zip(delivery_tags, raws, strict=True))):
                self._remove_from_indices(tag, pipe)
                if raw:
                    message, exchange, routing_key = loads(bytes_to_str(raw))
                    self.channel._do_restore_message(message, exchange, routing_key, pipe,
                                                     leftmost=False)

        with self.channel.conn_or_acquire() as client:
            client.transaction(restore, self.unacked_key)
        for tag in delivery_tags:
            virtual.QoS.ack(self, tag)


def _pausing(connparams: dict[str, Any]) -> dict[str, Any]:
    """The channel's connection parameters with the worker's pause-when-full retry policy
    (``workers.worker.pause``): the main process waits while Redis is full instead of
    stopping on the refused write. Only the pool for commands (declaring queues, recording
    unacknowledged messages, publishing): the event loop's pool (BRPOP) keeps kombu's own
    handling of lost connections."""
    from copydesk.workers.worker.pause import pausing_retry

    node = f"{socket.gethostname()}:{os.getpid()}"
    # retries=0: connection errors reach kombu at once, as without a policy (it reconnects)
    connparams["retry"] = pausing_retry(current_app.context.settings, node, max_pause=None,
                                        retries=0)
    return connparams


def _still_attached(channel: Any) -> None:
    """Refuse to make a Redis client for a channel whose connection was closed under it.

    When Redis goes away, Celery closes the broker connection (kombu detaches it from its
    transport: ``client = None``) and then the channel, whose QoS restores the messages the
    worker holds; with a prefetch above one some are reserved, and restoring them asks for a
    new client, whose parameters kombu reads from the detached connection: an
    ``AttributeError`` that stopped the whole worker. A connection error instead is what
    kombu and Celery expect there: they ignore it while closing and reconnect, and the held
    messages stay in the unacked hash, restored once their lease lapses."""
    if channel.connection.client is None:
        raise redis.exceptions.ConnectionError("the broker connection was closed")


class CopydeskChannelMixin:
    """What copydesk adds to kombu's channels, plain or Sentinel: pops pass the intake
    check, retries go to the head, a write refused because Redis is full waits for room,
    and no client is made for a channel whose connection was closed under it."""

    QoS = HeadFirstQoS

    def _get_client(self) -> Any:
        return _intake_client(super()._get_client())  # type: ignore[misc]

    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        _still_attached(self)
        params: dict[str, Any] = super()._connparams(asynchronous)  # type: ignore[misc]
        return params if asynchronous else _pausing(params)


class Channel(CopydeskChannelMixin, kombu_redis.Channel):
    """kombu's Redis channel with copydesk's additions."""


class SentinelChannel(CopydeskChannelMixin, kombu_redis.SentinelChannel):
    """kombu's Sentinel channel with copydesk's additions."""


class Transport(kombu_redis.Transport):
    """kombu's Redis transport with the intake check (``broker_transport`` of the app)."""

    Channel = Channel


class SentinelTransport(kombu_redis.SentinelTransport):
    """kombu's Sentinel transport with the intake check (when ``[sentinel] hosts`` is set)."""

    Channel = SentinelChannel
