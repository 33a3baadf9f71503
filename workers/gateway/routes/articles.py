"""``POST /v1/articles`` (one article, a batch or JSON Lines; all or none), ``GET
/v1/articles/{id}`` (status and Document, ``?wait=``; HTML for a browser) and ``GET
/v1/articles/{id}/view`` (the annotated view)."""

from __future__ import annotations

import json

from copydesk.document import ID_PATTERN
from copydesk.extra_fields import log_moved_fields
from copydesk.workers.gateway.auth import token_required
from copydesk.workers.gateway.body import parse_articles, read_body
from copydesk.workers.gateway.models import (
    ArticleState,
    GatewayError,
    SubmitResponse,
    error_responses,
    iso,
    location,
)
from copydesk.workers.gateway.pages import view_response, wants_html
from copydesk.workers.gateway.service import Gateway
from copydesk.workers.queue.failures import stages_that_failed
from copydesk.workers.queue.records import ArticleStatus
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

ARTICLE_REF = {"$ref": "#/components/schemas/Article"}


def state_json(status: ArticleStatus, raw_document: str | None) -> str:
    """The article's state as JSON, with its Document exactly as stored and the stages
    that failed in it."""
    failed: list[str] = []
    if raw_document:
        try:
            failed = stages_that_failed(json.loads(raw_document))
        except ValueError:
            failed = []
    state = ArticleState(
        id=status.id, status=status.status, stage=status.stage, attempts=status.attempts,
        worker=status.worker, error=status.error,
        submitted_at=iso(status.submitted_at), started_at=iso(status.started_at),
        finished_at=iso(status.finished_at), updated_at=iso(status.updated_at),
        view=location(status.id) + "/view", failed_stages=failed,
    )
    head = state.model_dump_json(exclude={"document"})
    return head[:-1] + ',"document":' + (raw_document or "null") + "}"


def router(gw: Gateway) -> APIRouter:
    settings, limits = gw.settings, gw.settings.gateway
    api = APIRouter(tags=["articles"], dependencies=[Depends(token_required(settings))])

    @api.post(
        "/v1/articles", status_code=202, response_model=SubmitResponse,
        responses=error_responses(400, 401, 408, 413, 415, 422, 503),
        summary="Submit one article, a batch, or JSON Lines",
        openapi_extra={"requestBody": {"required": True, "content": {
            "application/json": {"schema": {"oneOf": [
                ARTICLE_REF, {"type": "array", "items": ARTICLE_REF, "minItems": 1}]}},
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

    async def load(article_id: str, wait: float) -> tuple[ArticleStatus, str | None] | None:
        if wait > 0:
            await gw.wait_finished(article_id, wait)
        return await gw.state(article_id)

    id_path = Path(pattern=ID_PATTERN, max_length=128, description="The article id.")
    wait_query = Query(0.0, ge=0, le=limits.max_wait,
                       description="Block up to this many seconds until the article is done "
                       "or failed (on the result stream, not polling).")

    @api.get("/v1/articles/{article_id}", response_model=ArticleState, responses={
        **error_responses(401, 422, 503),
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
            return view_response(gw, article_id, found)
        if found is None:
            raise GatewayError(404, "not_found",
                               f"no article with id {article_id!r}: it was never submitted, "
                               "or its result expired (setting worker.result_ttl)")
        return Response(state_json(*found), media_type="application/json")

    @api.get("/v1/articles/{article_id}/view", response_class=HTMLResponse, responses={
        **error_responses(401, 422, 503),
        404: {"description": "Unknown id (an HTML page)",
              "content": {"text/html": {"schema": {"type": "string"}}}}})
    async def view_article(article_id: str = id_path, wait: float = wait_query) -> Response:
        """The annotated HTML view of the article (a status page until it is finished)."""
        return view_response(gw, article_id, await load(article_id, wait))

    return api
