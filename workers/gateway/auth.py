"""Who may use the gateway: a bearer token among ``gateway.tokens`` (or, from a browser, the
same token in an HttpOnly, SameSite=Strict cookie set by the index page's form); with no
token configured, everyone (the gateway then binds to loopback only)."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from copydesk.settings import Settings
from copydesk.workers.gateway.models import GatewayError
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

TOKEN_COOKIE = "copydesk_token"

bearer_scheme = HTTPBearer(auto_error=False, description="One of COPYDESK_GATEWAY__TOKENS.")


def token_ok(settings: Settings, token: str | None) -> bool:
    if not token:
        return False
    given = token.encode("utf-8", "surrogateescape")
    return any(hmac.compare_digest(given, t.get_secret_value().encode("utf-8"))
               for t in settings.gateway.tokens)


def authorized(settings: Settings, request: Request) -> bool:
    if not settings.gateway.tokens:
        return True
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token_ok(settings, value.strip()):
        return True
    return token_ok(settings, request.cookies.get(TOKEN_COOKIE))


def token_required(settings: Settings) -> Callable[..., Coroutine[Any, Any, None]]:
    """The dependency of every guarded route: 401 without a valid token."""

    async def require_token(
        request: Request,
        _credentials: Annotated[HTTPAuthorizationCredentials | None,
                                Depends(bearer_scheme)] = None,
    ) -> None:
        if not authorized(settings, request):
            raise GatewayError(401, "unauthorized",
                               "a valid bearer token is required: send 'Authorization: "
                               "Bearer <token>' with one of the gateway's tokens",
                               headers={"WWW-Authenticate": "Bearer"})

    return require_token
