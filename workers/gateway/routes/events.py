"""``GET /v1/events``: Server-Sent Events of status changes, in order, resumable with
``Last-Event-ID``, from the gateway's one shared reader of the event stream."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from typing import Annotated

from copydesk.workers.gateway.auth import token_required
from copydesk.workers.gateway.event_hub import HubUnavailable, Lagged, TooManySubscribers
from copydesk.workers.gateway.models import ErrorBody, ErrorDetail, GatewayError, error_responses
from copydesk.workers.gateway.service import Gateway
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response, StreamingResponse
from redis.exceptions import RedisError

STREAM_ID = re.compile(r"^(\$|0|\d{1,20}(-\d{1,20})?)$")


def sse_error(code: str, message: str) -> str:
    return f"event: error\ndata: {ErrorBody(code=code, message=message).model_dump_json()}\n\n"


#: The last event of every open stream when the gateway stops (SIGTERM).
SHUTDOWN_EVENT = ("event: shutdown\ndata: " + json.dumps({
    "message": "the gateway is shutting down; reconnect (with Last-Event-ID) to resume "
               "from the last event received"}) + "\n\n")


async def event_stream(gw: Gateway, request: Request, cursor: str, wanted: set[str],
                       timeout: float | None) -> AsyncIterator[str]:
    """The stream's lines: a retry hint, the events (only ``wanted`` ids when given),
    keep-alive comments when quiet; an ``error`` event when it cannot go on, a ``shutdown``
    event (within a second) when the gateway is told to stop."""
    idle_since = quiet_since = time.monotonic()
    after = None if cursor == "$" else cursor  # '$': live entries only, no catch-up read
    try:
        async with gw.hub.subscribe() as sub:  # before the first line: nothing is missed
            yield "retry: 2000\n\n"
            async for item in gw.hub.entries(sub, after, idle=1.0):
                now = time.monotonic()
                if gw.closing:
                    yield SHUTDOWN_EVENT
                    return
                if item is None:
                    if await request.is_disconnected():
                        return
                    if timeout is not None and now - idle_since >= timeout:
                        return
                    if now - quiet_since >= 15.0:
                        quiet_since = now
                        yield ": keep-alive\n\n"
                    continue
                event_id, fields = item
                if wanted and fields.get("id") not in wanted:
                    continue
                idle_since = quiet_since = now
                data = json.dumps({**fields, "event_id": event_id}, ensure_ascii=False)
                yield f"id: {event_id}\nevent: status\ndata: {data}\n\n"
    except TooManySubscribers as exc:
        yield sse_error("too_many_streams", str(exc))
    except Lagged as exc:
        yield sse_error("lagged", str(exc))
    except (HubUnavailable, RedisError, OSError) as exc:
        yield sse_error("redis_unavailable", str(exc))


def router(gw: Gateway) -> APIRouter:
    limits = gw.settings.gateway
    api = APIRouter(tags=["events"], dependencies=[Depends(token_required(gw.settings))])

    @api.get("/v1/events", response_class=StreamingResponse,
             responses={**error_responses(401, 422, 503), 200: {
                 "content": {"text/event-stream": {"schema": {"type": "string"}}},
                 "description": "'event: status' messages whose data is the event JSON "
                 "({id, status, at, …}) and whose id is the stream id."}})
    async def events(
        request: Request,
        last_event_id: str | None = Header(None, alias="Last-Event-ID", description=(
            "Resume after this stream id (browsers send it when reconnecting).")),
        since: str | None = Query(None, description="Start after this stream id: '0' for "
                                  "every event kept, '$' (default) for new ones only."),
        ids: Annotated[list[str] | None, Query(
            alias="id", description="Only events of these article ids.")] = None,
        timeout: float | None = Query(None, gt=0, le=3600, description=(
            "Close the stream after this many seconds without an event.")),
    ) -> Response:
        """Server-Sent Events of status changes (queued, running, done, failed), in order."""
        cursor = last_event_id or since or "$"
        if not STREAM_ID.match(cursor):
            raise GatewayError(422, "invalid_request", f"{cursor!r} is not a stream id",
                               [ErrorDetail(path="Last-Event-ID", message="expected a stream "
                                            "id such as 1732560000000-0, '0' or '$'")])
        if gw.hub.open >= limits.max_event_streams:
            raise GatewayError(503, "too_many_streams",
                               f"this gateway already serves {limits.max_event_streams} event "
                               "streams (setting gateway.max_event_streams); retry later or "
                               "use another gateway", headers={"Retry-After": "5"})
        return StreamingResponse(
            event_stream(gw, request, cursor, set(ids or ()), timeout),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return api
