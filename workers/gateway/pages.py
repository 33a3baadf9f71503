"""The gateway's HTML: the annotated view of an article (or its status page until it is
finished) and the index page with its form, each with its own Content-Security-Policy."""

from __future__ import annotations

from copydesk.document import Document
from copydesk.views.html import content_security_policy, render_html
from copydesk.workers.gateway.auth import authorized
from copydesk.workers.gateway.models import GatewayError, location, when
from copydesk.workers.gateway.service import Gateway
from copydesk.workers.queue.records import ArticleStatus
from fastapi import Request
from fastapi.responses import HTMLResponse, Response


def wants_html(request: Request) -> bool:
    """True when the client prefers HTML (a browser), not JSON (curl, programs)."""
    accept = request.headers.get("accept", "")
    if "text/html" not in accept:
        return False
    html_at = accept.find("text/html")
    json_at = accept.find("application/json")
    return json_at < 0 or html_at < json_at


def page_policy(form: bool = False) -> str:
    return content_security_policy(form_action="'self'" if form else "'none'")


def html(body: str, status: int = 200, policy: str | None = None) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers={
        "Content-Security-Policy": policy or page_policy(),
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"})


def view_response(gw: Gateway, article_id: str,
                  found: tuple[ArticleStatus, str | None] | None) -> HTMLResponse:
    """The annotated view of a finished article, else its status page (404 when unknown)."""
    if found is not None and found[1] is not None:
        doc = Document.model_validate_json(found[1])
        return html(render_html([doc], plugins=gw.plugins))
    template = gw.templates.get_template("status.html.j2")
    status = found[0] if found else None
    page = template.render(
        title=f"{article_id}: {status.status if status else 'unknown'}",
        csp=page_policy(), article_id=article_id, status=status,
        refresh=status is not None and not status.finished)
    return html(page, 200 if status else 404)


async def render_index(gw: Gateway, request: Request, error: str | None = None,
                       form: dict[str, str] | None = None, status: int = 200) -> Response:
    """The index page: recent articles (with a token) and the form to submit one."""
    allowed = authorized(gw.settings, request)
    recent: list[ArticleStatus] = []
    unavailable = None
    if allowed:
        try:
            recent = await gw.recent(gw.settings.gateway.recent)
        except GatewayError as exc:
            unavailable = exc.message
    template = gw.templates.get_template("index.html.j2")
    page = template.render(title="submit an article", csp=page_policy(form=True),
                           authorized=allowed, recent=recent, error=error,
                           unavailable=unavailable, form=form or {},
                           when=when, location=location)
    return html(page, status, page_policy(form=True))


def same_origin(request: Request) -> bool:
    """A browser's form post from this gateway's own pages (CSRF check)."""
    own = f"{request.url.scheme}://{request.url.netloc}"
    origin = request.headers.get("origin")
    if origin is not None:
        return origin == own
    referer = request.headers.get("referer")
    return referer is None or referer == own or referer.startswith(own + "/")
