"""Request bodies: read within the size and time limits, and parsed into articles (a JSON
object, an array, JSON Lines or plain text), all valid or refused whole, naming each problem."""

from __future__ import annotations

import asyncio
import urllib.parse
from typing import Any

from copydesk.document import Article, ArticleRules, InvalidArticle, move_unknown_fields
from copydesk.jsonsafe import NestedTooDeep, UnsafeJSON, loads
from copydesk.workers.gateway.models import ErrorDetail, GatewayError
from fastapi import Request
from pydantic import ValidationError

JSON_LINES_TYPES = frozenset({
    "application/x-ndjson", "application/jsonl", "application/x-jsonlines",
    "application/json-lines", "application/ndjson",
})


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


async def form_fields(request: Request, limit: int, timeout: float) -> dict[str, str]:
    """The fields of a browser's form post (``application/x-www-form-urlencoded``)."""
    body = await read_body(request, limit, timeout)
    parsed = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}
