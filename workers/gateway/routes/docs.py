"""``GET /openapi.json`` and ``GET /docs``: the API's own description and its UI, behind the
token like everything but the probes. The document gets the ``Article`` schema (the request
body is read by hand, for the size limits and JSON Lines) and the one error shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from copydesk.document import Article
from copydesk.workers.gateway.auth import token_required
from copydesk.workers.gateway.models import ErrorResponse
from copydesk.workers.gateway.service import Gateway
from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse


def router(gw: Gateway, app: FastAPI) -> APIRouter:
    api = APIRouter(include_in_schema=False,
                    dependencies=[Depends(token_required(gw.settings))])

    @api.get("/openapi.json")
    async def openapi_document() -> JSONResponse:
        return JSONResponse(app.openapi())

    @api.get("/docs")
    async def openapi_ui() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} — API")

    return api


def install_openapi(app: FastAPI) -> None:
    """Add the Article schema and the error shape to the app's OpenAPI document."""
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
