"""``GET /healthz`` (the process is up), ``/readyz`` (Redis answers and a worker beats),
``/v1/coverage`` (stored Documents per stage and state) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

from copydesk.workers.gateway.auth import token_required
from copydesk.workers.gateway.models import (
    Coverage,
    Health,
    Readiness,
    StageCoverage,
    error_responses,
    unavailable,
)
from copydesk.workers.gateway.prometheus import prometheus_text
from copydesk.workers.gateway.service import Gateway
from copydesk.workers.queue.client import QueueUnavailable
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from redis.exceptions import RedisError


def router(gw: Gateway) -> APIRouter:
    api = APIRouter(tags=["operations"])
    guarded = [Depends(token_required(gw.settings))]

    @api.get("/healthz", response_model=Health)
    async def healthz() -> Health:
        """The process is up (it does not look at Redis: that is /readyz)."""
        return Health()

    @api.get("/readyz", response_model=Readiness,
             responses={503: {"model": Readiness, "description": "Not ready"}})
    async def readyz() -> Response:
        """Ready when Redis answers and at least one worker sent a heartbeat recently."""
        try:
            info = await gw.store.queue_info(0)
        except (RedisError, OSError, QueueUnavailable) as exc:
            body = Readiness(ready=False, redis=str(exc), workers_alive=0,
                             reason="Redis is unavailable")
            return JSONResponse(body.model_dump(), status_code=503)
        alive = sum(1 for w in info.workers if w.alive)
        ready = alive > 0
        body = Readiness(ready=ready, redis="ok", workers_alive=alive, reason=None if ready else
                         "no worker has sent a heartbeat recently: start `copydesk worker`")
        return JSONResponse(body.model_dump(), status_code=200 if ready else 503)

    @api.get("/v1/coverage", dependencies=guarded, response_model=Coverage,
             responses=error_responses(401, 503))
    async def coverage() -> Coverage:
        """Per stage of the workers' pipeline: stored Documents current, stale, missing and
        failed (what `copydesk reprocess --stored` would change)."""
        try:
            at, stages = await gw.coverage()
        except (RedisError, OSError, QueueUnavailable) as exc:
            raise unavailable(exc) from None
        return Coverage(computed_at=at, stages=None if stages is None else {
            k: StageCoverage(**v) for k, v in stages.items()})

    @api.get("/metrics", dependencies=guarded, response_class=PlainTextResponse,
             responses={**error_responses(401, 503), 200: {
                 "content": {"text/plain": {"schema": {"type": "string"}}},
                 "description": "Prometheus text exposition format 0.0.4."}})
    async def metrics() -> Response:
        """Counts, queue depth, workers and per-stage duration histograms, for Prometheus."""
        try:
            counts = await gw.count_events()
            info = await gw.store.queue_info(0)
            hists = await gw.store.stage_histograms()
            _, stored = await gw.coverage()
            sinks = await gw.store.sink_backlogs()
        except (RedisError, OSError, QueueUnavailable) as exc:
            raise unavailable(exc) from None
        return PlainTextResponse(
            prometheus_text(counts, info, hists, gw.http_submitted, stored, sinks),
            media_type="text/plain; version=0.0.4; charset=utf-8")

    return api
