"""structlog set-up: readable lines in a terminal, JSON lines in workers or when asked."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog


def configure_logging(fmt: str = "auto", level: str = "INFO") -> None:
    """Configure structlog (and the stdlib root logger) to write to stderr.

    ``fmt`` is ``console``, ``json`` or ``auto`` (console on a terminal, JSON otherwise).
    """
    if fmt == "auto":
        fmt = "console" if sys.stderr.isatty() else "json"
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric, int):
        numeric = logging.INFO
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info if fmt == "json" else _identity,
        renderer,
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=sys.stderr, force=True)


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is now (test capture and redirection swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _identity(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    return event


def get_logger(name: str = "copydesk") -> Any:
    """A structlog logger; an application that configured nothing gets warnings on stderr
    (structlog's own default would print every event to stdout, mixed with the output)."""
    if not structlog.is_configured():
        configure_logging("auto", "WARNING")
    return structlog.get_logger(name)
