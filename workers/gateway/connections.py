"""The gateway's connections: a deadline for each request's head, and a bound on idle ones.

uvicorn's HTTP/1.1 server (h11) waits for ever for a client that trickles its request line
and headers (one byte every half second), and keeps any number of connections that have
not sent a request: a few hundred such clients hold every file descriptor the process may
open, and then no request is served at all. ``copydesk serve`` therefore runs uvicorn with
the protocol ``guarded_protocol`` makes, which a ``ConnectionGuard`` watches:

* a connection is *idle* while it has no request in progress: from when it opens, and
  again after each response (keep-alive), until a request's whole head has arrived;
* an idle connection gets ``gateway.header_timeout`` seconds to send a whole request head;
  then it is answered ``408 Request Timeout`` and closed;
* at most ``gateway.max_idle_connections`` connections are idle at once: one more closes
  the connection idle the longest (a client that sends its request at once is never idle
  for long, so it is the trickling ones that go);
* each of these refusals is counted, and logged once per ``LOG_INTERVAL`` seconds at most
  (one line with the counts since the last), so a flood of them cannot flood the log;
* so is each connection the event loop could not accept because the process ran out of file
  descriptors (``quiet_accept_errors``, installed by ``GatewayServer``): asyncio logs a
  traceback for every failed ``accept()``, thousands a second while a crowd of connections
  holds every descriptor (1.6 MB of log in 30 s under 300 trickling clients with
  ``ulimit -n 256``, the header and idle bounds notwithstanding).

A request whose head has arrived is the application's: its body has ``gateway.body_timeout``,
and an event stream is open for as long as the client reads it, or until the gateway is
told to stop (``GatewayServer``): then every stream gets a last ``shutdown`` event and ends,
and other requests get ``gateway.shutdown_grace`` seconds to finish.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections import Counter
from typing import Any

import h11
import uvicorn
from copydesk.logs import get_logger
from uvicorn.protocols.http.h11_impl import H11Protocol

log = get_logger("copydesk.gateway")

#: Seconds between two log lines about refused connections, at most.
LOG_INTERVAL = 10.0

TIMEOUT_RESPONSE = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain\r\n"
                    b"content-length: 31\r\nconnection: close\r\n\r\n"
                    b"request headers took too long\r\n")


class RefusalLog:
    """Counts refused connections by reason and logs them in one line per interval: the
    first at once, the ones after it together when the interval is up."""

    def __init__(self, interval: float = LOG_INTERVAL) -> None:
        self.interval = interval
        self.counts: Counter[str] = Counter()
        self.last: float | None = None
        self.pending: asyncio.TimerHandle | None = None

    def note(self, reason: str) -> None:
        self.counts[reason] += 1
        if self.pending is not None:
            return
        wait = 0.0 if self.last is None else self.last + self.interval - time.monotonic()
        if wait <= 0:
            self.flush()
        else:
            self.pending = asyncio.get_running_loop().call_later(wait, self.flush)

    def flush(self) -> None:
        self.pending = None
        if self.counts:
            log.warning("connections refused", interval_seconds=self.interval,
                        **dict(self.counts))
        self.counts.clear()
        self.last = time.monotonic()


class ConnectionGuard:
    """The idle connections of one gateway process, each with its header deadline."""

    def __init__(self, header_timeout: float, max_idle: int,
                 refusals: RefusalLog | None = None) -> None:
        self.header_timeout = header_timeout
        self.max_idle = max_idle
        self.refusals = refusals or RefusalLog()
        #: idle connections, the one idle the longest first, with their deadline's timer
        self.idle: dict[Any, asyncio.TimerHandle] = {}

    def watch(self, connection: Any) -> None:
        """Note where ``connection`` is now: idle (waiting for a request head) or not."""
        waiting = (connection.conn.their_state is h11.IDLE
                   and (connection.cycle is None or connection.cycle.response_complete))
        if waiting and connection not in self.idle:
            while len(self.idle) >= self.max_idle:
                oldest = next(iter(self.idle))
                self.forget(oldest)
                oldest.transport.close()
                self.refusals.note("closed_idle_over_limit")
            loop = asyncio.get_running_loop()
            self.idle[connection] = loop.call_later(self.header_timeout, self.expire,
                                                    connection)
        elif not waiting:
            self.forget(connection)

    def forget(self, connection: Any) -> None:
        timer = self.idle.pop(connection, None)
        if timer is not None:
            timer.cancel()

    def expire(self, connection: Any) -> None:
        """The header deadline of an idle connection passed: answer 408 and close it."""
        if self.idle.pop(connection, None) is None:
            return
        transport = connection.transport
        if transport is not None and not transport.is_closing():
            transport.write(TIMEOUT_RESPONSE)
            transport.close()
        self.refusals.note("header_timeout")


def guarded_protocol(guard: ConnectionGuard) -> type[H11Protocol]:
    """uvicorn's h11 protocol, telling ``guard`` when a connection opens, gets data,
    finishes a response and closes."""

    class GuardedH11Protocol(H11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            guard.watch(self)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            guard.watch(self)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            guard.watch(self)

        def connection_lost(self, exc: Exception | None) -> None:
            guard.forget(self)
            super().connection_lost(exc)

    return GuardedH11Protocol


#: What asyncio reports when ``accept()`` fails for want of descriptors or memory (EMFILE,
#: ENFILE, ENOBUFS, ENOMEM); it stops accepting for a second and tries again.
ACCEPT_OUT_OF_RESOURCES = "socket.accept() out of system resource"


def retry_on_closed_listener(context: dict[str, Any]) -> bool:
    """Whether ``context`` is asyncio retrying to accept (a second after a failed accept) on a
    listening socket closed since: ``ValueError: Invalid file descriptor: -1``, once for each
    accept that failed, so thousands when the gateway stops during a flood."""
    return (isinstance(context.get("exception"), ValueError)
            and "_start_serving" in repr(context.get("handle")))


def quiet_accept_errors(loop: asyncio.AbstractEventLoop, refusals: RefusalLog) -> None:
    """Count ``loop``'s failed accepts in ``refusals`` (``accept_out_of_resources``) instead
    of logging a traceback for each, and drop the retries of those accepts that find the
    listener closed; every other error goes to the handler there was."""
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") == ACCEPT_OUT_OF_RESOURCES:
            refusals.note("accept_out_of_resources")
        elif retry_on_closed_listener(context):
            pass  # the server closed (shutdown) before a retry asyncio scheduled ran: nothing lost
        elif previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


class GatewayServer(uvicorn.Server):
    """uvicorn's server, which also tells the gateway when it is told to stop, so its open
    event streams end (with a final event) instead of holding the shutdown until
    ``gateway.shutdown_grace`` runs out, and counts failed accepts in ``refusals``."""

    def __init__(self, config: uvicorn.Config, gateway: Any,
                 refusals: RefusalLog | None = None) -> None:
        super().__init__(config)
        self.gateway = gateway
        self.refusals = refusals or RefusalLog()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        quiet_accept_errors(asyncio.get_running_loop(), self.refusals)
        await super().startup(sockets)

    def handle_exit(self, sig: int, frame: Any) -> None:
        self.gateway.closing = True
        super().handle_exit(sig, frame)
