"""The gateway's request and response models (they are its OpenAPI document), its one error
shape (``GatewayError``: ``{"error": {"code", "message", "details"}}`` with a stable code),
and the small helpers every route answers with."""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime
from typing import Any, Literal

from copydesk.document import Document
from copydesk.jsonsafe import printable
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field


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
    failed_stages: list[str] = Field(
        default_factory=list, description="The stages whose run failed in its Document: "
        "for a done article, optional stages it is done without (their layers are absent).")
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


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    text = {400: "Malformed body", 401: "Missing or wrong bearer token", 404: "Unknown id",
            408: "The body took too long to arrive",
            413: "Too large", 415: "Unsupported content type", 422: "Invalid field",
            503: "Redis unavailable"}
    schema = {"$ref": "#/components/schemas/ErrorResponse"}
    return {code: {"description": text[code], "content": {"application/json": {"schema": schema}}}
            for code in codes}


def iso(ts: float | None) -> datetime | None:
    return datetime.fromtimestamp(ts, UTC) if ts else None


def when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if ts else ""


#: Seconds a producer answered 503 queue_full is told to wait before trying again.
QUEUE_FULL_RETRY_AFTER = 5


def queue_full(message: str) -> GatewayError:
    return GatewayError(503, "queue_full", message,
                        headers={"Retry-After": str(QUEUE_FULL_RETRY_AFTER)})


def unavailable(exc: BaseException) -> GatewayError:
    return GatewayError(503, "redis_unavailable",
                        f"the queue's Redis is unavailable, nothing was done: {exc}. "
                        "Retry later; if it persists, check redis-server and "
                        "COPYDESK_REDIS_URL on the gateway.")


def location(article_id: str) -> str:
    return "/v1/articles/" + urllib.parse.quote(article_id, safe="")
