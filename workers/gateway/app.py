"""The HTTP gateway (``copydesk serve``): the queue's front door for systems in any language.

Endpoints (the OpenAPI document, from the same pydantic models as the Document contract,
is at ``/openapi.json`` and printed by ``copydesk serve --openapi``):

- ``POST /v1/articles``: one article (JSON object), a batch (JSON array) or JSON Lines
  (``application/x-ndjson``); ``202`` with each id and its ``location``. A batch is accepted
  whole (one Redis transaction) or refused whole. Idempotent on ids, as the queue is.
- ``GET /v1/articles/{id}``: status, and the Document when done; ``?wait=SECONDS`` blocks on
  the result stream; ``Accept: text/html`` (or ``/view``) gives the annotated view.
- ``GET /v1/stories``, ``GET /v1/stories/{id}``: recent stories and one story with its
  articles (``routes.stories``).
- ``GET /v1/events``: Server-Sent Events of status changes, resumable with ``Last-Event-ID``.
- ``GET /healthz``, ``GET /readyz``, ``GET /metrics`` (Prometheus text).
- ``GET /``: recent articles and a form to paste and submit one (HTML, no script needed).

Every refusal is ``{"error": {"code", "message", "details": [{"path", "message"}]}}`` with a
stable ``code``. Bearer tokens come from ``settings.gateway.tokens``; browsers may instead
carry the token in an HttpOnly, SameSite=Strict cookie set from the index page's form.

This module assembles the app. The rest of the gateway: ``routes/`` (one router module per
group of routes: to add an endpoint, add it to its group's module, or a new module to
``create_app``), ``models`` (request and response models, the error shape), ``body`` (body
limits and parsing), ``auth`` (tokens), ``pages`` (HTML), ``service`` (what the routes share)
and ``prometheus`` (``/metrics``). Every Redis access goes through the queue's async store
(``workers.queue.async_store``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from copydesk import __version__
from copydesk.settings import Settings, load_settings
from copydesk.workers.gateway.headers import SecurityHeaders
from copydesk.workers.gateway.models import ErrorDetail, GatewayError, unavailable
from copydesk.workers.gateway.routes import articles, docs, events, operations, stories, ui
from copydesk.workers.gateway.service import Gateway
from copydesk.workers.queue.client import QueueUnavailable
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException as StarletteHTTPException


def loopback(host: str) -> bool:
    return host in {"127.0.0.1", "::1", "localhost"} or host.startswith("127.")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The gateway as an ASGI app (``uvicorn`` runs it in ``copydesk serve``): the shared
    ``Gateway``, the security headers, errors as JSON, and each group's router."""
    settings = settings or load_settings()
    gw = Gateway(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await gw.close()

    app = FastAPI(
        lifespan=lifespan,
        # the OpenAPI document and its UI are routes of their own (routes.docs), behind
        # the token
        openapi_url=None, docs_url=None, redoc_url=None,
        title="copydesk gateway",
        version=__version__,
        description="Submit news articles to the copydesk queue and read back Documents "
        "(schema version 1). Errors are JSON: {\"error\": {code, message, details}}.",
        openapi_tags=[
            {"name": "articles", "description": "Submit and read articles."},
            {"name": "events", "description": "Follow status changes live."},
            {"name": "stories", "description": "Stories: articles reporting the same event."},
            {"name": "operations", "description": "Health, readiness and metrics."},
        ],
    )
    app.state.gateway = gw
    app.add_middleware(SecurityHeaders)
    add_error_handlers(app)
    app.include_router(docs.router(gw, app))
    for group in (stories, articles, events, operations, ui):
        app.include_router(group.router(gw))
    docs.install_openapi(app)
    return app


def add_error_handlers(app: FastAPI) -> None:
    """Every refusal as ``{"error": {code, message, details}}``, Redis down as 503."""

    @app.exception_handler(GatewayError)
    async def _gateway_error(request: Request, exc: GatewayError) -> Response:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        details = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            details.append(ErrorDetail(path=".".join(loc) or "$",
                                       message=str(err.get("msg", "invalid"))))
        text = "; ".join(f"{d.path}: {d.message}" for d in details[:3])
        return GatewayError(422, "invalid_request", f"invalid request: {text}",
                            details).response()

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        codes = {404: "not_found", 405: "method_not_allowed"}
        code = codes.get(exc.status_code, f"http_{exc.status_code}")
        return GatewayError(exc.status_code, code, str(exc.detail),
                            headers=dict(exc.headers or {})).response()

    @app.exception_handler(QueueUnavailable)
    async def _queue_down(request: Request, exc: QueueUnavailable) -> Response:
        return unavailable(exc).response()

    @app.exception_handler(RedisError)
    async def _redis_down(request: Request, exc: RedisError) -> Response:
        return unavailable(exc).response()
