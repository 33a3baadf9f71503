"""The browser's pages: ``GET /`` (recent articles and a form to paste one), ``POST
/ui/submit`` (the form: submit, then the article's view) and ``POST /ui/token`` (keep the
token in an HttpOnly cookie). Form posts from another site are refused (CSRF)."""

from __future__ import annotations

from copydesk.document import Article, InvalidArticle
from copydesk.workers.gateway.auth import TOKEN_COOKIE, authorized, token_ok
from copydesk.workers.gateway.body import form_fields
from copydesk.workers.gateway.models import GatewayError
from copydesk.workers.gateway.pages import render_index, same_origin
from copydesk.workers.gateway.service import Gateway
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError


def router(gw: Gateway) -> APIRouter:
    settings, limits = gw.settings, gw.settings.gateway
    api = APIRouter(include_in_schema=False)

    @api.get("/")
    async def index(request: Request) -> Response:
        return await render_index(gw, request)

    @api.post("/ui/submit")
    async def ui_submit(request: Request) -> Response:
        if not same_origin(request):
            return await render_index(gw, request, "refused: the form was posted from "
                                      "another site", status=403)
        if not authorized(settings, request):
            return await render_index(gw, request, "enter a token first", status=401)
        fields = await form_fields(request, limits.max_body_bytes, limits.body_timeout)
        data = {k: fields[k].strip() for k in ("title", "url", "source") if fields.get(k)}
        # browsers send a textarea's line breaks as CRLF; the article's are plain newlines
        data["text"] = fields.get("text", "").replace("\r\n", "\n")
        try:
            article = Article.model_validate(data)
            settings.article_rules().check(article)
        except ValidationError as exc:
            message = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'article'}: "
                                f"{e['msg'].removeprefix('Value error, ')}" for e in exc.errors())
            return await render_index(gw, request, message, fields, status=422)
        except InvalidArticle as exc:
            return await render_index(gw, request, str(exc), fields, status=413)
        try:
            (done,) = await gw.submit_all([article], False)
        except GatewayError as exc:
            return await render_index(gw, request, exc.message, fields, status=503)
        return RedirectResponse(done.location + "/view", status_code=303)

    @api.post("/ui/token")
    async def ui_token(request: Request) -> Response:
        if not same_origin(request):
            return await render_index(gw, request, "refused: posted from another site",
                                      status=403)
        fields = await form_fields(request, limits.max_body_bytes, limits.body_timeout)
        token = fields.get("token", "").strip()
        if not token_ok(settings, token):
            return await render_index(gw, request, "that token is not one of the gateway's",
                                      status=401)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response

    return api
