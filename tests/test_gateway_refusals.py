"""The gateway's refusal log takes the event loop's failed accepts (``quiet_accept_errors``):
counted with the other refusals, not a traceback each; any other loop error goes on as
before."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from copydesk.workers.gateway.connections import (
    ACCEPT_OUT_OF_RESOURCES,
    RefusalLog,
    quiet_accept_errors,
)


def test_failed_accepts_are_counted_and_other_loop_errors_pass_on() -> None:
    loop = asyncio.new_event_loop()
    passed_on: list[str] = []
    loop.set_exception_handler(lambda _loop, context: passed_on.append(context["message"]))
    refusals = RefusalLog(interval=3600)

    async def fail_to_accept() -> None:
        quiet_accept_errors(asyncio.get_running_loop(), refusals)
        context: dict[str, Any] = {"message": ACCEPT_OUT_OF_RESOURCES,
                                   "exception": OSError(24, "Too many open files")}
        for _ in range(3):
            loop.call_exception_handler(context)
        loop.call_exception_handler({"message": "Task exception was never retrieved"})

    try:
        loop.run_until_complete(fail_to_accept())
    finally:
        loop.close()
    assert passed_on == ["Task exception was never retrieved"]
    assert refusals.counts == {"accept_out_of_resources": 2}  # the first was logged at once


def test_a_retried_accept_on_a_listener_closed_since_is_dropped() -> None:
    loop = asyncio.new_event_loop()
    passed_on: list[str] = []
    loop.set_exception_handler(lambda _loop, context: passed_on.append(context["message"]))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.close()  # the gateway stopped before asyncio's retry of a failed accept ran

    async def retry_after_close() -> None:
        quiet_accept_errors(asyncio.get_running_loop(), RefusalLog(interval=3600))
        loop.call_soon(loop._start_serving, asyncio.Protocol, listener)  # type: ignore[attr-defined]
        await asyncio.sleep(0.05)
        loop.call_soon(lambda: 1 / 0)  # any other failing callback still gets through
        await asyncio.sleep(0.05)

    try:
        loop.run_until_complete(retry_after_close())
    finally:
        loop.close()
    assert len(passed_on) == 1 and "lambda" in passed_on[0]
