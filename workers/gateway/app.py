"""The HTTP gateway (``copydesk serve``): the queue's front door for systems in any language.

Endpoints (the OpenAPI document, from the same pydantic models as the Document contract,
is at ``/openapi.json`` and printed by ``copydesk serve --openapi``):

- ``POST /v1/articles``: one article (JSON object), a batch (JSON array) or JSON Lines
  (``application/x-ndjson``); ``202`` with each id and its ``location``. A batch is accepted
  whole (one Redis transaction) or refused whole. Idempotent on ids, as the queue is.
- ``GET /v1/articles/{id}``: status, and the Document when done; ``?wait=SECONDS`` blocks on
  the result stream; ``Accept: text/html`` (or ``/view``) gives the annotated view.
- ``GET /v1/stories``, ``GET /v1/stories/{id}``: recent stories and one story with its
  articles (``workers.gateway.stories``).
- ``GET /v1/events``: Server-Sent Events of status changes, resumable with ``Last-Event-ID``.
- ``GET /healthz``, ``GET /readyz``, ``GET /metrics`` (Prometheus text).
- ``GET /``: recent articles and a form to paste and submit one (HTML, no script needed).

Every refusal is ``{"error": {"code", "message", "details": [{"path", "message"}]}}`` with a
stable ``code``. Bearer tokens come from ``settings.gateway.tokens``; browsers may instead
carry the token in an HttpOnly, SameSite=Strict cookie set from the index page's form.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
import re
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import redis.asyncio as aioredis
from copydesk import __version__
from copydesk.document import (
    ID_PATTERN,
    Article,
    ArticleRules,
    Document,
    InvalidArticle,
    move_unknown_fields,
)
from copydesk.extra_fields import log_moved_fields
from copydesk.jsonsafe import NestedTooDeep, UnsafeJSON, loads, printable
from copydesk.plugin_manager import PluginManager, build_plugin_manager
from copydesk.settings import Settings, load_settings
from copydesk.views.html import content_security_policy, environment, render_html
from copydesk.workers.gateway.event_hub import EventHub, HubUnavailable, Lagged, TooManySubscribers
from copydesk.workers.gateway.headers import SecurityHeaders
from copydesk.workers.gateway.stories import stories_router
from copydesk.workers.queue.client import Client, QueueUnavailable
from copydesk.workers.queue.connection import async_client
from copydesk.workers.queue.keys import FINISHED, keys_for
from copydesk.workers.queue.metrics import read_histograms
from copydesk.workers.queue.protocol import article_payload, new_task_id
from copydesk.workers.queue.store import SUBMIT, ArticleStatus
from copydesk.workers.queue.window import is_out_of_memory, judge, memory_from_info
from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jinja2 import PackageLoader
from pydantic import BaseModel, Field, ValidationError
from redis.exceptions import RedisError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

JSON_LINES_TYPES = frozenset({
    "application/x-ndjson", "application/jsonl", "application/x-jsonlines",
    "application/json-lines", "application/ndjson",
})
TOKEN_COOKIE = "copydesk_token"
#: Seconds a producer answered 503 queue_full is told to wait before trying again.
QUEUE_FULL_RETRY_AFTER = 5
STREAM_ID = re.compile(r"^(\$|0|\d{1,20}(-\d{1,20})?)$")


# -- API models (they are the OpenAPI document) ----------------------------------------


class ErrorDetail(BaseModel):
    """One problem: where it is and what is wrong."""

    path: str = Field(description="Where: '$' is the body, '$[2].published_at' a field of "
                      "the third article of a batch (or of the third JSON line).")
    message: str


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. 'invalid_article', "
                      "'body_too_large', 'redis_unavailable'.")
    message: str = Field(description="What went wrong and what to do about it.")
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    """Every refusal has this body."""

    error: ErrorBody


class Submitted(BaseModel):
    """One submitted article."""

    id: str
    outcome: Literal["queued", "duplicate"] = Field(
        description="'queued': enqueued now; 'duplicate': the id was already queued, running "
        "or done, so nothing was enqueued (add ?force=true to process a done one again).")
    status: str = Field(description="The article's status after the submission.")
    location: str = Field(description="Where to read its status and Document.")
    moved_to_metadata: list[str] = Field(
        default_factory=list,
        description="Unknown fields of the submitted article, kept in its metadata "
        "(refused instead with the setting strict_articles).")


class SubmitResponse(BaseModel):
    articles: list[Submitted]


class ArticleState(BaseModel):
    """An article's status record, with its Document once there is one."""

    id: str
    status: str = Field(description="queued | running | done | failed")
    stage: str | None = Field(default=None, description="The stage running now (or last).")
    attempts: int = 0
    worker: str | None = None
    error: str | None = None
    submitted_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None
    view: str = Field(description="The annotated HTML view of the article.")
    document: Document | None = Field(
        default=None, description="The Document JSON (schema version 1) when done, or failed "
        "by a required stage; otherwise null.")


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    ready: bool
    redis: str = Field(description="'ok', or why Redis cannot be reached.")
    workers_alive: int = Field(description="Workers whose heartbeat is recent.")
    reason: str | None = None


class StageCoverage(BaseModel):
    current: int
    stale: int
    missing: int
    failed: int


class Coverage(BaseModel):
    """Per stage of the workers' pipeline, how many stored Documents are in each state."""

    stages: dict[str, StageCoverage] | None = Field(
        description="null when no live worker has published its pipeline.")
    computed_at: float = Field(description="Epoch seconds; cached for up to 30 s.")


class GatewayError(Exception):
    """A refusal with an HTTP status, a stable code and a message a person can act on."""

    def __init__(self, status: int, code: str, message: str,
                 details: list[ErrorDetail] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        message = printable(message)  # a lone surrogate echoed back must not break the reply
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = [ErrorDetail(path=printable(d.path), message=printable(d.message))
                        for d in details or []]
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        body = ErrorResponse(error=ErrorBody(code=self.code, message=self.message,
                                             details=self.details))
        return JSONResponse(body.model_dump(), status_code=self.status, headers=self.headers)


def _error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    text = {400: "Malformed body", 401: "Missing or wrong bearer token", 404: "Unknown id",
            408: "The body took too long to arrive",
            413: "Too large", 415: "Unsupported content type", 422: "Invalid field",
            503: "Redis unavailable"}
    schema = {"$ref": "#/components/schemas/ErrorResponse"}
    return {code: {"description": text[code], "content": {"application/json": {"schema": schema}}}
            for code in codes}


# -- helpers -------------------------------------------------------------------------------


def _iso(ts: float | None) -> datetime | None:
    return datetime.fromtimestamp(ts, UTC) if ts else None


def _queue_full(message: str) -> GatewayError:
    return GatewayError(503, "queue_full", message,
                        headers={"Retry-After": str(QUEUE_FULL_RETRY_AFTER)})


def _unavailable(exc: BaseException) -> GatewayError:
    return GatewayError(503, "redis_unavailable",
                        f"the queue's Redis is unavailable, nothing was done: {exc}. "
                        "Retry later; if it persists, check redis-server and "
                        "COPYDESK_REDIS_URL on the gateway.")


def _location(article_id: str) -> str:
    return "/v1/articles/" + urllib.parse.quote(article_id, safe="")


def wants_html(request: Request) -> bool:
    """True when the client prefers HTML (a browser), not JSON (curl, programs)."""
    accept = request.headers.get("accept", "")
    if "text/html" not in accept:
        return False
    html_at = accept.find("text/html")
    json_at = accept.find("application/json")
    return json_at < 0 or html_at < json_at


def loopback(host: str) -> bool:
    return host in {"127.0.0.1", "::1", "localhost"} or host.startswith("127.")


async def read_body(request: Request, limit: int, timeout: float = 30.0) -> bytes:
    """The request body, refused with 413 as soon as it passes ``limit`` bytes, and with
    408 when it has not all arrived within ``timeout`` seconds (a trickled body)."""
    declared = request.headers.get("content-length", "")
    too_large = GatewayError(
        413, "body_too_large",
        f"the request body is over the limit of {limit:,} bytes "
        "(setting gateway.max_body_bytes); send smaller batches")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    size = 0
    chunks = []
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise too_large
                chunks.append(chunk)
    except TimeoutError:
        raise GatewayError(408, "body_timeout",
                           f"the request body did not arrive within {timeout:g} seconds "
                           "(setting gateway.body_timeout)",
                           headers={"Connection": "close"}) from None
    return b"".join(chunks)


def parse_articles(body: bytes, content_type: str, max_batch: int,
                   rules: ArticleRules) -> tuple[list[Article], bool]:
    """Validate a POST body into articles: all valid, or a ``GatewayError`` naming each problem.

    Returns the articles and whether the body was a batch (array or JSON Lines). Unknown
    fields of an article are moved into its ``metadata`` unless ``rules.strict``.
    """
    media = content_type.split(";")[0].strip().lower() or "application/json"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GatewayError(400, "invalid_encoding",
                           f"the body is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    items: list[Any]
    if media == "application/json" or media.endswith("+json"):
        try:
            data = loads(text)
        except NestedTooDeep as exc:
            raise GatewayError(400, "nested_too_deep", f"the body is {exc}",
                               [ErrorDetail(path="$", message=str(exc))]) from None
        except UnsafeJSON as exc:
            raise GatewayError(400, "invalid_json", f"the body is {exc}",
                               [ErrorDetail(path="$", message=str(exc))]) from None
        batch = isinstance(data, list)
        items = data if batch else [data]
    elif media in JSON_LINES_TYPES:
        batch = True
        items = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                items.append(loads(line))
            except UnsafeJSON as exc:
                code = "nested_too_deep" if isinstance(exc, NestedTooDeep) else "invalid_json"
                raise GatewayError(400, code, f"line {number} is {exc}",
                                   [ErrorDetail(path=f"$[{len(items)}]",
                                                message=f"line {number}: {exc}")]) from None
    elif media == "text/plain":
        batch = False
        items = [{"text": text}]
    else:
        raise GatewayError(415, "unsupported_media_type",
                           f"cannot read a {media!r} body: send application/json (an article "
                           "object or an array of them), application/x-ndjson (JSON Lines) "
                           "or text/plain (the text of one article)")
    if not items:
        raise GatewayError(422, "empty_batch", "the batch holds no article",
                           [ErrorDetail(path="$", message="no article")])
    if len(items) > max_batch:
        raise GatewayError(413, "batch_too_large",
                           f"{len(items):,} articles in one request is over the limit of "
                           f"{max_batch:,} (setting gateway.max_batch); split the batch")
    articles: list[Article] = []
    invalid: list[ErrorDetail] = []
    too_long: list[ErrorDetail] = []
    for index, item in enumerate(items):
        where = f"$[{index}]" if batch else "$"
        if not isinstance(item, dict):
            invalid.append(ErrorDetail(
                path=where, message=f"an article must be a JSON object, not "
                f"{type(item).__name__ if item is not None else 'null'}"))
            continue
        moved: tuple[str, ...] = ()
        if not rules.strict:
            item, moved = move_unknown_fields(item)
        try:
            article = Article.model_validate(item)
        except ValidationError as exc:
            for err in exc.errors():
                loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}"
                              for p in err.get("loc", ()))
                message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
                invalid.append(ErrorDetail(path=where + loc, message=message))
            continue
        article._moved_fields = moved
        try:
            rules.check(article)
        except InvalidArticle as exc:
            too_long.append(ErrorDetail(path=where, message=str(exc)))
            continue
        articles.append(article)
    if too_long:
        raise GatewayError(413, "article_too_large",
                           "an article is over the size limit (settings max_article_chars, "
                           "max_html_chars); nothing was submitted", too_long)
    if invalid:
        raise GatewayError(422, "invalid_article",
                           f"{len(invalid)} problem(s) in the submitted article(s); nothing "
                           "was submitted: " + "; ".join(f"{d.path}: {d.message}"
                                                          for d in invalid[:3]), invalid)
    return articles, batch


# -- the application -----------------------------------------------------------------------


class Gateway:
    """What the routes share: settings, the queue client, an async Redis for blocking reads."""

    def __init__(self, settings: Settings, client: Client | None = None) -> None:
        self.settings = settings
        self.client = client or Client(settings)
        self.keys = keys_for(settings)
        self._aredis: aioredis.Redis | None = None
        self._hub: EventHub | None = None
        self._submit_script: Any = None
        self.http_submitted = 0
        self._counted_to = "0-0"
        self.stream_counts = {"submitted": 0, "requeued": 0, "done": 0, "failed": 0}
        self._count_lock = asyncio.Lock()
        self._coverage: tuple[float, dict[str, dict[str, int]] | None] | None = None

    #: Seconds a coverage count is reused: it reads every stored Document's runs.
    COVERAGE_TTL = 30.0

    def coverage(self) -> tuple[float, dict[str, dict[str, int]] | None]:
        """Per-stage coverage of the stored Documents (``Client.coverage``), cached."""
        now = time.time()
        if self._coverage is None or now - self._coverage[0] > self.COVERAGE_TTL:
            self._coverage = (now, self.client.coverage())
        return self._coverage

    @functools.cached_property
    def plugins(self) -> PluginManager:
        """The installed plugins, loaded on the first view page: their ``layer_panel``
        hooks draw their layers' panels (the marks are drawn without them)."""
        return build_plugin_manager(self.settings)

    @property
    def aredis(self) -> aioredis.Redis:
        if self._aredis is None:
            self._aredis = async_client(self.settings)
        return self._aredis

    @property
    def hub(self) -> EventHub:
        """The shared reader of the event stream (``workers.gateway.event_hub``), with a client of
        its own, so event streams and ``?wait`` never take the submissions' connections."""
        if self._hub is None:
            self._hub = EventHub(async_client(self.settings), self.aredis, self.keys.events,
                                 self.settings.gateway.max_event_streams)
        return self._hub

    async def close(self) -> None:
        if self._hub is not None:
            await self._hub.close()
            await self._hub.reader.aclose()
            self._hub = None
        if self._aredis is not None:
            await self._aredis.aclose()
            self._aredis = None

    # -- queue operations ----------------------------------------------------------------

    async def submit_all(self, articles: list[Article], force: bool) -> list[Submitted]:
        """Enqueue every article in one Redis transaction: all of them or none.

        The queue's own submit script (``workers.queue.store.SUBMIT``, with the arguments the
        store builds), run on the async client so the event loop never waits on Redis.
        """
        store = self.client.store
        await self._room_for(len(articles))
        if self._submit_script is None:
            self._submit_script = self.aredis.register_script(SUBMIT)
        try:
            async with self.aredis.pipeline(transaction=True) as pipe:
                for article in articles:
                    assert article.id is not None
                    keys, args = store.submit_args(article.id, article_payload(article),
                                                   new_task_id(), force)
                    await self._submit_script(keys=keys, args=args, client=pipe)
                replies = await pipe.execute()
            await self._replicated()
        except (RedisError, OSError) as exc:
            if is_out_of_memory(exc) or "OOM" in str(exc):
                raise _queue_full(f"Redis refused the submit for memory ({exc})") from None
            raise _unavailable(exc) from None
        out = []
        for article, (created, status) in zip(articles, replies, strict=True):
            assert article.id is not None
            out.append(Submitted(id=article.id,
                                 outcome="queued" if int(created) else "duplicate",
                                 status=str(status), location=_location(article.id),
                                 moved_to_metadata=list(article.moved_fields)))
        self.http_submitted += sum(1 for s in out if s.outcome == "queued")
        return out

    async def _room_for(self, count: int) -> None:
        """Answer 503 ``queue_full`` (with ``Retry-After``) instead of submitting while the
        queue holds ``queue.max_waiting`` articles or Redis is near its ``maxmemory``
        (``workers.queue.window``)."""
        try:
            async with self.aredis.pipeline(transaction=False) as pipe:
                pipe.zcard(self.keys.index("queued"))
                pipe.info("memory")
                waiting, info = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise _unavailable(exc) from None
        pressure = judge(int(waiting), memory_from_info(info), self.settings.queue, count)
        if pressure is not None:
            raise _queue_full(f"the queue has no room now: {pressure}; retry later")

    async def _replicated(self) -> None:
        """The gateway's side of ``sentinel.wait_replicas`` (see ``Store.replicated``)."""
        wanted = self.settings.sentinel.wait_replicas
        if not wanted:
            return
        timeout = self.settings.sentinel.wait_timeout_ms
        async with self.aredis.pipeline(transaction=False) as pipe:
            pipe.incr(self.keys.replication_fence)
            pipe.execute_command("WAIT", wanted, timeout)
            _, acked = await pipe.execute()
        if int(acked) < wanted:
            raise GatewayError(503, "not_replicated",
                               f"the articles are queued on the master but reached {acked} of "
                               f"{wanted} replicas within {timeout} ms, so a failover now "
                               "could lose them; submit again (submits are idempotent)")

    def state(self, article_id: str) -> tuple[ArticleStatus, str | None] | None:
        try:
            status = self.client.status(article_id)
            if status is None:
                archived = self.client.archived_json([article_id]).get(article_id)
                if archived is None:
                    return None
                # Redis let it go after a sink archived it: the archive has its Document
                return ArticleStatus(id=article_id, status="done", has_document=True), archived
            raw = self.client.result_json(article_id) if status.has_document else None
        except QueueUnavailable as exc:
            raise _unavailable(exc) from None
        return status, raw

    async def last_event_id(self) -> str:
        last = await self.aredis.xrevrange(self.keys.events, count=1)
        return str(last[0][0]) if last else "0-0"

    async def wait_finished(self, article_id: str, timeout: float) -> None:
        """Return when the article is done or failed (or unknown), or after ``timeout``.

        Listens on the shared reader (subscribed before the record is read, so a finish
        between the two is not missed) instead of blocking a connection of its own."""
        deadline = time.monotonic() + timeout
        try:
            async with self.hub.subscribe(limited=False) as sub:
                status = await self.aredis.hget(self.keys.article(article_id), "status")
                if status is None or status in FINISHED:
                    return
                while (remaining := deadline - time.monotonic()) > 0:
                    try:
                        item = await asyncio.wait_for(sub.queue.get(), timeout=remaining)
                    except TimeoutError:
                        return
                    if isinstance(item, BaseException):  # lagged, or Redis away: the
                        return  # caller reads the record and answers with what it says
                    _event_id, fields = item
                    if fields.get("id") == article_id and fields.get("status") in FINISHED:
                        return
        except (RedisError, OSError) as exc:
            raise _unavailable(exc) from None

    async def count_events(self) -> dict[str, int]:
        """Advance the totals over the event stream since the last scrape."""
        async with self._count_lock:
            while True:
                entries: Any = await self.aredis.xrange(
                    self.keys.events, min=f"({self._counted_to}",
                                                   max="+", count=5000)
                for event_id, fields in entries:
                    self._counted_to = event_id
                    status = fields.get("status")
                    if status == "queued":
                        key = "requeued" if fields.get("retry") else "submitted"
                        self.stream_counts[key] += 1
                    elif status in ("done", "failed"):
                        self.stream_counts[status] += 1
                if len(entries) < 5000:
                    return dict(self.stream_counts)

    def recent(self, limit: int) -> list[ArticleStatus]:
        """The most recently changed articles of every status, newest first."""
        try:
            return self.client.recent(limit)
        except (RedisError, OSError, QueueUnavailable) as exc:
            raise _unavailable(exc) from None

    # -- auth ------------------------------------------------------------------------------

    def token_ok(self, token: str | None) -> bool:
        if not token:
            return False
        given = token.encode("utf-8", "surrogateescape")
        return any(hmac.compare_digest(given, t.get_secret_value().encode("utf-8"))
                   for t in self.settings.gateway.tokens)

    def authorized(self, request: Request) -> bool:
        if not self.settings.gateway.tokens:
            return True
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and self.token_ok(value.strip()):
            return True
        return self.token_ok(request.cookies.get(TOKEN_COOKIE))


bearer_scheme = HTTPBearer(auto_error=False, description="One of COPYDESK_GATEWAY__TOKENS.")


def create_app(settings: Settings | None = None, client: Client | None = None) -> FastAPI:
    """The gateway as an ASGI app (``uvicorn`` runs it in ``copydesk serve``)."""
    settings = settings or load_settings()
    gw = Gateway(settings, client)
    limits = settings.gateway
    templates = environment(PackageLoader("copydesk.workers.gateway", "templates"))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await gw.close()

    app = FastAPI(
        lifespan=lifespan,
        # the OpenAPI document and its UI are routes of their own below, behind the token
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

    # -- errors as JSON --------------------------------------------------------------------

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
        return _unavailable(exc).response()

    @app.exception_handler(RedisError)
    async def _redis_down(request: Request, exc: RedisError) -> Response:
        return _unavailable(exc).response()

    # -- auth ------------------------------------------------------------------------------

    async def require_token(
        request: Request,
        _credentials: Annotated[HTTPAuthorizationCredentials | None,
                                Depends(bearer_scheme)] = None,
    ) -> None:
        if not gw.authorized(request):
            raise GatewayError(401, "unauthorized",
                               "a valid bearer token is required: send 'Authorization: "
                               "Bearer <token>' with one of the gateway's tokens",
                               headers={"WWW-Authenticate": "Bearer"})

    guarded = [Depends(require_token)]

    # -- the API's own description (behind the token, like everything but the probes) ---------

    @app.get("/openapi.json", include_in_schema=False, dependencies=guarded)
    async def openapi_document() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=guarded)
    async def openapi_ui() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} — API")

    app.include_router(stories_router(lambda: gw.client, guarded, _error_responses))

    # -- articles --------------------------------------------------------------------------

    article_ref = {"$ref": "#/components/schemas/Article"}

    @app.post(
        "/v1/articles", status_code=202, tags=["articles"], dependencies=guarded,
        response_model=SubmitResponse,
        responses=_error_responses(400, 401, 408, 413, 415, 422, 503),
        summary="Submit one article, a batch, or JSON Lines",
        openapi_extra={"requestBody": {"required": True, "content": {
            "application/json": {"schema": {"oneOf": [
                article_ref, {"type": "array", "items": article_ref, "minItems": 1}]}},
            "application/x-ndjson": {"schema": {"type": "string"},
                                     "example": '{"text": "…"}\n{"text": "…"}\n'},
            "text/plain": {"schema": {"type": "string"},
                           "example": "The plain text of one article."},
        }}},
    )
    async def submit(request: Request, force: bool = Query(
            False, description="Process again even if the id is already done.")) -> Response:
        """Validate every article, then enqueue all of them in one transaction (or none).

        The body is an article object or an array of them (``application/json``), JSON
        Lines (``application/x-ndjson``), or the plain text of one article (``text/plain``).

        Answers 202 with each article's id, outcome and location; a single article also
        gets a ``Location`` header. Submitting an id that is queued, running or done again
        enqueues nothing (outcome ``duplicate``) unless ``force``.
        """
        body = await read_body(request, limits.max_body_bytes, limits.body_timeout)
        articles, batch = parse_articles(body, request.headers.get("content-type", ""),
                                         limits.max_batch, settings.article_rules())
        for article in articles:
            log_moved_fields(article, "gateway")
        submitted = await gw.submit_all(articles, force)
        headers = {} if batch else {"Location": submitted[0].location}
        return JSONResponse(SubmitResponse(articles=submitted).model_dump(), status_code=202,
                            headers=headers)

    def state_json(status: ArticleStatus, raw_document: str | None) -> str:
        state = ArticleState(
            id=status.id, status=status.status, stage=status.stage, attempts=status.attempts,
            worker=status.worker, error=status.error,
            submitted_at=_iso(status.submitted_at), started_at=_iso(status.started_at),
            finished_at=_iso(status.finished_at), updated_at=_iso(status.updated_at),
            view=_location(status.id) + "/view",
        )
        head = state.model_dump_json(exclude={"document"})
        return head[:-1] + ',"document":' + (raw_document or "null") + "}"

    async def load(article_id: str, wait: float) -> tuple[ArticleStatus, str | None] | None:
        if wait > 0:
            await gw.wait_finished(article_id, wait)
        return await run_in_threadpool(gw.state, article_id)

    id_path = Path(pattern=ID_PATTERN, max_length=128, description="The article id.")
    wait_query = Query(0.0, ge=0, le=limits.max_wait,
                       description="Block up to this many seconds until the article is done "
                       "or failed (on the result stream, not polling).")

    @app.get("/v1/articles/{article_id}", tags=["articles"], dependencies=guarded,
             response_model=ArticleState, responses={
                 **_error_responses(401, 422, 503),
                 404: {"description": "Unknown id (an HTML page when text/html is preferred)",
                       "content": {"application/json": {"schema": {
                           "$ref": "#/components/schemas/ErrorResponse"}},
                           "text/html": {"schema": {"type": "string"}}}},
                 200: {"content": {"application/json": {}, "text/html": {}},
                       "description": "The status (and Document); HTML when the client "
                       "prefers text/html."}})
    async def get_article(request: Request, article_id: str = id_path,
                          wait: float = wait_query) -> Response:
        """Status and, when done, the Document JSON; 404 for an unknown id."""
        found = await load(article_id, wait)
        if wants_html(request):
            return view_response(article_id, found)
        if found is None:
            raise GatewayError(404, "not_found",
                               f"no article with id {article_id!r}: it was never submitted, "
                               "or its result expired (setting worker.result_ttl)")
        return Response(state_json(*found), media_type="application/json")

    @app.get("/v1/articles/{article_id}/view", tags=["articles"], dependencies=guarded,
             response_class=HTMLResponse, responses={
                 **_error_responses(401, 422, 503),
                 404: {"description": "Unknown id (an HTML page)",
                       "content": {"text/html": {"schema": {"type": "string"}}}}})
    async def view_article(article_id: str = id_path, wait: float = wait_query) -> Response:
        """The annotated HTML view of the article (a status page until it is finished)."""
        return view_response(article_id, await load(article_id, wait))

    def page_policy(form: bool = False) -> str:
        return content_security_policy(form_action="'self'" if form else "'none'")

    def html(body: str, status: int = 200, policy: str | None = None) -> HTMLResponse:
        return HTMLResponse(body, status_code=status, headers={
            "Content-Security-Policy": policy or page_policy(),
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"})

    def view_response(article_id: str,
                      found: tuple[ArticleStatus, str | None] | None) -> HTMLResponse:
        if found is not None and found[1] is not None:
            doc = Document.model_validate_json(found[1])
            return html(render_html([doc], plugins=gw.plugins))
        template = templates.get_template("status.html.j2")
        status = found[0] if found else None
        page = template.render(
            title=f"{article_id}: {status.status if status else 'unknown'}",
            csp=page_policy(), article_id=article_id, status=status,
            refresh=status is not None and not status.finished)
        return html(page, 200 if status else 404)

    # -- events ----------------------------------------------------------------------------

    @app.get("/v1/events", tags=["events"], dependencies=guarded,
             response_class=StreamingResponse,
             responses={**_error_responses(401, 422, 503), 200: {
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
        wanted = set(ids or ())
        if gw.hub.open >= limits.max_event_streams:
            raise GatewayError(503, "too_many_streams",
                               f"this gateway already serves {limits.max_event_streams} event "
                               "streams (setting gateway.max_event_streams); retry later or "
                               "use another gateway", headers={"Retry-After": "5"})
        return StreamingResponse(
            event_stream(request, cursor, wanted, timeout), media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    def sse_error(code: str, message: str) -> str:
        return f"event: error\ndata: {ErrorBody(code=code, message=message).model_dump_json()}\n\n"

    async def event_stream(request: Request, cursor: str, wanted: set[str],
                           timeout: float | None) -> AsyncIterator[str]:
        idle_since = quiet_since = time.monotonic()
        after = None if cursor == "$" else cursor  # '$': live entries only, no catch-up read
        try:
            async with gw.hub.subscribe() as sub:  # before the first line: nothing is missed
                yield "retry: 2000\n\n"
                async for item in gw.hub.entries(sub, after, idle=1.0):
                    now = time.monotonic()
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

    # -- operations ------------------------------------------------------------------------

    @app.get("/healthz", tags=["operations"], response_model=Health)
    async def healthz() -> Health:
        """The process is up (it does not look at Redis: that is /readyz)."""
        return Health()

    @app.get("/readyz", tags=["operations"], response_model=Readiness,
             responses={503: {"model": Readiness, "description": "Not ready"}})
    async def readyz() -> Response:
        """Ready when Redis answers and at least one worker sent a heartbeat recently."""
        try:
            info = await run_in_threadpool(gw.client.queue_info, 0)
        except (QueueUnavailable, RedisError, OSError) as exc:
            body = Readiness(ready=False, redis=str(exc), workers_alive=0,
                             reason="Redis is unavailable")
            return JSONResponse(body.model_dump(), status_code=503)
        alive = sum(1 for w in info.workers if w.alive)
        ready = alive > 0
        body = Readiness(ready=ready, redis="ok", workers_alive=alive, reason=None if ready else
                         "no worker has sent a heartbeat recently: start `copydesk worker`")
        return JSONResponse(body.model_dump(), status_code=200 if ready else 503)

    @app.get("/v1/coverage", tags=["operations"], dependencies=guarded,
             response_model=Coverage, responses=_error_responses(401, 503))
    async def coverage() -> Coverage:
        """Per stage of the workers' pipeline: stored Documents current, stale, missing and
        failed (what `copydesk reprocess --stored` would change)."""
        try:
            at, stages = await run_in_threadpool(gw.coverage)
        except (RedisError, OSError, QueueUnavailable) as exc:
            raise _unavailable(exc) from None
        return Coverage(computed_at=at, stages=None if stages is None else {
            k: StageCoverage(**v) for k, v in stages.items()})

    @app.get("/metrics", tags=["operations"], dependencies=guarded,
             response_class=PlainTextResponse,
             responses={**_error_responses(401, 503), 200: {
                 "content": {"text/plain": {"schema": {"type": "string"}}},
                 "description": "Prometheus text exposition format 0.0.4."}})
    async def metrics() -> Response:
        """Counts, queue depth, workers and per-stage duration histograms, for Prometheus."""
        try:
            counts = await gw.count_events()
            info = await run_in_threadpool(gw.client.queue_info, 0)
            hists = await run_in_threadpool(read_histograms, gw.client.store.r,
                                            gw.keys.stage_metrics)
            _, coverage = await run_in_threadpool(gw.coverage)
            sinks = await run_in_threadpool(gw.client.sink_backlogs, 0)
        except (RedisError, OSError, QueueUnavailable) as exc:
            raise _unavailable(exc) from None
        return PlainTextResponse(
            prometheus_text(counts, info, hists, gw.http_submitted, coverage, sinks),
            media_type="text/plain; version=0.0.4; charset=utf-8")

    # -- the index page and its form -----------------------------------------------------------

    @app.get("/", include_in_schema=False)
    async def index(request: Request) -> Response:
        return await render_index(request)

    async def render_index(request: Request, error: str | None = None,
                           form: dict[str, str] | None = None, status: int = 200) -> Response:
        authorized = gw.authorized(request)
        recent: list[ArticleStatus] = []
        unavailable = None
        if authorized:
            try:
                recent = await run_in_threadpool(gw.recent, limits.recent)
            except GatewayError as exc:
                unavailable = exc.message
        template = templates.get_template("index.html.j2")
        page = template.render(title="submit an article", csp=page_policy(form=True),
                               authorized=authorized, recent=recent, error=error,
                               unavailable=unavailable, form=form or {},
                               when=_when, location=_location)
        return html(page, status, page_policy(form=True))

    def same_origin(request: Request) -> bool:
        """A browser's form post from this gateway's own pages (CSRF check)."""
        own = f"{request.url.scheme}://{request.url.netloc}"
        origin = request.headers.get("origin")
        if origin is not None:
            return origin == own
        referer = request.headers.get("referer")
        return referer is None or referer == own or referer.startswith(own + "/")

    async def form_fields(request: Request) -> dict[str, str]:
        body = await read_body(request, limits.max_body_bytes, limits.body_timeout)
        parsed = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items()}

    @app.post("/ui/submit", include_in_schema=False)
    async def ui_submit(request: Request) -> Response:
        if not same_origin(request):
            return await render_index(request, "refused: the form was posted from another "
                                      "site", status=403)
        if not gw.authorized(request):
            return await render_index(request, "enter a token first", status=401)
        fields = await form_fields(request)
        data = {k: fields[k].strip() for k in ("title", "url", "source") if fields.get(k)}
        # browsers send a textarea's line breaks as CRLF; the article's are plain newlines
        data["text"] = fields.get("text", "").replace("\r\n", "\n")
        try:
            article = Article.model_validate(data)
            settings.article_rules().check(article)
        except ValidationError as exc:
            message = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'article'}: "
                                f"{e['msg'].removeprefix('Value error, ')}" for e in exc.errors())
            return await render_index(request, message, fields, status=422)
        except InvalidArticle as exc:
            return await render_index(request, str(exc), fields, status=413)
        try:
            (done,) = await gw.submit_all([article], False)
        except GatewayError as exc:
            return await render_index(request, exc.message, fields, status=503)
        return RedirectResponse(done.location + "/view", status_code=303)

    @app.post("/ui/token", include_in_schema=False)
    async def ui_token(request: Request) -> Response:
        if not same_origin(request):
            return await render_index(request, "refused: posted from another site", status=403)
        token = (await form_fields(request)).get("token", "").strip()
        if not gw.token_ok(token):
            return await render_index(request, "that token is not one of the gateway's",
                                      status=401)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response

    _install_openapi(app)
    return app


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if ts else ""


def _install_openapi(app: FastAPI) -> None:
    """Add the Article schema (the request body is read by hand, for size limits and JSONL)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        article = Article.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, definition in article.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components["Article"] = article
        components.setdefault("ErrorResponse", ErrorResponse.model_json_schema(
            ref_template="#/components/schemas/{model}"))
        for name, definition in components["ErrorResponse"].pop("$defs", {}).items():
            components.setdefault(name, definition)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def prometheus_text(counts: dict[str, int], info: Any, hists: list[Any],
                    http_submitted: int,
                    coverage: dict[str, dict[str, int]] | None = None,
                    sinks: dict[str, dict[str, Any]] | None = None) -> str:
    """The Prometheus text exposition (format 0.0.4) of the queue's numbers."""
    out: list[str] = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            number = repr(float(value)) if isinstance(value, float) else str(value)
            out.append(f"{name}{labels} {number}")

    stream_note = "(counted on the event stream, which keeps worker.stream_maxlen events)"
    metric("copydesk_articles_submitted_total", "counter",
           f"Articles submitted through any client {stream_note}.",
           [("", counts["submitted"])])
    metric("copydesk_articles_done_total", "counter", f"Articles finished done {stream_note}.",
           [("", counts["done"])])
    metric("copydesk_articles_failed_total", "counter", f"Articles that failed {stream_note}.",
           [("", counts["failed"])])
    metric("copydesk_articles_requeued_total", "counter",
           f"Articles given back to the queue after a lost attempt {stream_note}.",
           [("", counts["requeued"])])
    metric("copydesk_gateway_submitted_total", "counter",
           "Articles this gateway process enqueued.", [("", http_submitted)])
    per_queue = info.queues or {info.queue: {"depth": info.depth, "workers": 0}}
    metric("copydesk_queue_depth", "gauge", "Messages waiting, per queue (routed ones too).",
           [(f'{{queue="{_label(q)}"}}', v["depth"]) for q, v in per_queue.items()])
    metric("copydesk_queue_workers", "gauge", "Live workers consuming each queue.",
           [(f'{{queue="{_label(q)}"}}', v["workers"]) for q, v in per_queue.items()])
    metric("copydesk_queue_unacked", "gauge", "Messages delivered to a worker, not yet acked.",
           [(f'{{queue="{_label(info.queue)}"}}', info.unacked)])
    metric("copydesk_articles", "gauge", "Article records in the result store, by status.",
           [(f'{{status="{s}"}}', n) for s, n in info.counts.items()])
    metric("copydesk_workers_alive", "gauge", "Workers with a recent heartbeat.",
           [("", sum(1 for w in info.workers if w.alive))])
    metric("copydesk_dead_letters", "gauge", "Articles parked in the dead-letter list.",
           [("", info.dead_letter_count)])
    metric("copydesk_messages_rejected_total", "counter",
           "Malformed queue messages workers rejected at intake, by reason code.",
           [(f'{{reason="{_label(code)}"}}', n)
            for code, n in sorted(getattr(info, "rejected", {}).items())])
    if coverage is not None:
        metric("copydesk_stored_documents", "gauge",
               "Stored Documents per stage of the workers' pipeline, by state "
               "(current, stale, missing, failed).",
               [(f'{{stage="{_label(stage)}",state="{state}"}}', n)
                for stage, row in coverage.items() for state, n in row.items()])
    if sinks:
        metric("copydesk_sink_backlog", "gauge",
               "Finished Documents waiting in the outbox for each sink (never delivered, or "
               "delivered and not yet committed).",
               [(f'{{sink="{_label(n)}"}}', v["backlog"]) for n, v in sinks.items()])
        metric("copydesk_sink_dead_letters", "gauge",
               "Documents each sink refused (kept with the reason in P:sink_dead:SINK).",
               [(f'{{sink="{_label(n)}"}}', v["dead"]) for n, v in sinks.items()])
    name = "copydesk_stage_duration_seconds"
    out.append(f"# HELP {name} Time each stage took per document, as workers recorded it.")
    out.append(f"# TYPE {name} histogram")
    for hist in hists:
        stage = _label(hist.stage)
        for le, count in hist.cumulative():
            out.append(f'{name}_bucket{{stage="{stage}",le="{le}"}} {count}')
        out.append(f'{name}_sum{{stage="{stage}"}} {hist.sum!r}')
        out.append(f'{name}_count{{stage="{stage}"}} {hist.count}')
    return "\n".join(out) + "\n"
