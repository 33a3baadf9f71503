"""The security headers every gateway response carries, whatever route or error made it.

* ``X-Content-Type-Options: nosniff``: a browser never guesses that JSON (or an error body)
  is HTML or script;
* ``X-Frame-Options: DENY`` and CSP ``frame-ancestors 'none'``: no other site can frame a
  gateway page (the token form included) to trick a click. A route's own
  ``Content-Security-Policy`` is kept and gets ``frame-ancestors`` appended if it lacks it.

A pure ASGI middleware, so streamed responses (``/v1/events``) pass through untouched.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NO_FRAMING = "frame-ancestors 'none'"


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                policy = headers.get("content-security-policy")
                if policy is None:
                    headers["Content-Security-Policy"] = NO_FRAMING
                elif "frame-ancestors" not in policy:
                    headers["Content-Security-Policy"] = f"{policy.rstrip('; ')}; {NO_FRAMING}"
            await send(message)

        await self.app(scope, receive, send_with_headers)
