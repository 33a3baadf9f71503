"""Intake: every message a worker pops off the queue is checked before kombu or Celery see it.

Anyone who can LPUSH onto the queue can write anything there, and kombu and Celery raise on
much of it: text that is not JSON (kombu's Redis transport raises ``JSONDecodeError`` and
the worker exits with "Unrecoverable error", celery/celery#1113), a JSON array or an
envelope without ``properties`` (``TypeError``/``KeyError`` in kombu's ``Message``), a body
that is not base64, a body nested too deeply for the JSON parser. ``inspect`` decides, for one
raw message, whether it is a well-formed ``copydesk.process`` message (the contract of
docs/queue.md: a protocol-2 JSON envelope whose body is ``[[article], {}, embed]``);
``Intake.admit`` lets good ones through and rejects the rest:

* the raw message is kept in the rejected-messages list ``P:rejected`` (newest first) with
  the reason, the worker and the time: its first ``REJECTED_RAW_CHARS`` characters (or
  bytes, base64), its whole size and SHA-256; at most ``REJECTED_MAXLEN`` entries, so the
  list is bounded in bytes however big the messages (``REJECTED_MAX_BYTES``);
* it is logged (warning ``message rejected`` with ``code`` and ``reason``) and counted per
  ``code`` in ``P:metrics:rejected`` (the gateway's ``/metrics``:
  ``copydesk_messages_rejected_total{reason=…}``);
* when an article id can be read from it, the article's record says ``failed`` with
  ``error: "message rejected (code): reason"`` and an event is appended, unless the article
  is already done or running under another message.

A rejected message is never re-queued: it would only be rejected again. The worker goes
on with the next message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from copydesk.document import ID_PATTERN
from copydesk.jsonsafe import MAX_DEPTH, NestedTooDeep, UnsafeJSON, loads, printable, value_problem
from copydesk.logs import get_logger
from copydesk.workers.queue.store import Store

log = get_logger("copydesk.intake")

#: Rejected messages kept in ``P:rejected`` (the oldest are dropped past this many).
REJECTED_MAXLEN = 1000
#: How much of a rejected message's raw text (characters) or bytes an entry keeps: enough
#: to see what was wrong with it (the envelope, the start of its body).
REJECTED_RAW_CHARS = 8192
#: The most ``P:rejected`` can hold: every entry's raw part at its largest (4 bytes a
#: character, or base64 of the bytes) plus its other fields (under 1 KiB: the reason is cut).
REJECTED_MAX_BYTES = REJECTED_MAXLEN * (4 * REJECTED_RAW_CHARS + 1024)

#: Reason codes, in the order ``inspect`` checks for them.
CODES = ("not_json", "not_an_envelope", "content_type", "bad_headers", "unknown_task",
         "bad_body", "bad_arguments", "unencodable_article")

_ID_RE = re.compile(ID_PATTERN)
_STR_HEADERS = ("root_id", "parent_id", "group", "shadow", "origin", "argsrepr",
                "kwargsrepr", "lang", "replaced_task_nesting")


@dataclass
class Rejection:
    """Why a raw message cannot be run, and what could be read from it."""

    code: str
    reason: str
    article_id: str | None = None
    task_id: str | None = None


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _iso(value: object) -> bool:
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _header_problem(headers: dict[str, Any]) -> str | None:
    """What Celery would trip over in a protocol-2 header set (it reads these fields)."""
    if not isinstance(headers.get("id"), str) or not headers["id"]:
        return "headers.id (the task id) must be a non-empty string"
    for name in _STR_HEADERS:
        if not isinstance(headers.get(name), str | None):
            return f"headers.{name} must be a string or null, not {_kind(headers[name])}"
    for name in ("eta", "expires"):
        if not _iso(headers.get(name)):
            return f"headers.{name} must be null or an ISO 8601 time"
    retries = headers.get("retries")
    if retries is not None and (not isinstance(retries, int) or isinstance(retries, bool)
                                or retries < 0):
        return "headers.retries must be a whole number of at least 0"
    limits = headers.get("timelimit")
    if limits is not None and not (
            isinstance(limits, list) and len(limits) == 2
            and all(v is None or (isinstance(v, int | float) and not isinstance(v, bool)
                                  and v > 0) for v in limits)):
        return "headers.timelimit must be null or [soft, hard] (seconds or null)"
    if not isinstance(headers.get("ignore_result"), bool | None):
        return "headers.ignore_result must be true, false or null"
    if "compression" in headers:
        return "compressed bodies are not accepted (headers.compression)"
    problem = value_problem(headers, "headers")
    if problem:
        return problem
    return None


def _envelope_problem(message: dict[str, Any]) -> tuple[str, str] | None:
    props = message.get("properties")
    if not isinstance(props, dict):
        return "not_an_envelope", "properties must be an object"
    tag = props.get("delivery_tag")
    if not isinstance(tag, str) or not tag:
        return "not_an_envelope", "properties.delivery_tag must be a non-empty string"
    info = props.get("delivery_info")
    if info is not None and not (isinstance(info, dict) and all(
            isinstance(info.get(k), str | None) for k in ("exchange", "routing_key"))):
        return "not_an_envelope", "properties.delivery_info must be {exchange, routing_key}"
    priority = props.get("priority")
    if priority is not None and (not isinstance(priority, int) or isinstance(priority, bool)
                                 or not 0 <= priority <= 255):
        return "not_an_envelope", "properties.priority must be a whole number from 0 to 255"
    encoding = props.get("body_encoding")
    if encoding not in ("base64", None):
        return "not_an_envelope", (f"properties.body_encoding {printable(str(encoding))!r} "
                                   "is not 'base64'")
    problem = value_problem(props, "properties")
    if problem:
        return "not_an_envelope", problem
    content_type = message.get("content-type")
    if content_type != "application/json":
        return "content_type", (f"content-type {printable(str(content_type))!r} is not "
                                "'application/json' (the only one accepted)")
    if message.get("content-encoding") not in ("utf-8", None):
        return "content_type", (f"content-encoding "
                                f"{printable(str(message.get('content-encoding')))!r} is not "
                                "'utf-8'")
    return None


def _scan_article_id(body: str) -> str | None:
    """The article's ``id`` read by scanning, for a body too deep to parse: the value of an
    ``"id"`` key directly inside the first object of the first array (``[[{"id": …``)."""
    depth = 0
    tokens = re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', body)
    for token in tokens:
        text = token.group()
        if text in "[{":
            depth += 1
        elif text in "]}":
            depth -= 1
            if depth < 3:
                return None
        elif depth == 3 and text == '"id"' and body[token.end():token.end() + 40].lstrip() \
                .startswith(":"):
            value = next(tokens, None)
            if value is None or not value.group().startswith('"'):
                return None
            found = value.group()[1:-1]
            return found if _ID_RE.match(found) else None
    return None


def _article_id(article: Any) -> str | None:
    from copydesk.workers.worker.lease import article_id_of

    if not isinstance(article, dict):
        return None
    given = article.get("id")
    if isinstance(given, str):
        return given if _ID_RE.match(given) else None
    return article_id_of([article])


def inspect(raw: bytes | str, tasks: Collection[str]) -> Rejection | None:
    """None when ``raw`` is a well-formed message for one of ``tasks``, else why not."""
    if isinstance(raw, bytes | bytearray):
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            return Rejection("not_json", f"the message is not UTF-8 (byte {exc.start})")
    if not raw.strip():
        return Rejection("not_json", "the message is empty")
    try:
        message = loads(raw)
    except UnsafeJSON as exc:
        return Rejection("not_json", f"the message is {exc}")
    if not isinstance(message, dict):
        return Rejection("not_an_envelope", f"the message is {_kind(message)}, not an "
                         "envelope object {body, content-type, headers, properties}")
    envelope = _envelope_problem(message)
    headers = message.get("headers")
    task_id = headers.get("id") if isinstance(headers, dict) else None
    task_id = task_id if isinstance(task_id, str) and _ID_RE.match(task_id) else None
    if envelope:
        return Rejection(*envelope, task_id=task_id)
    if not isinstance(headers, dict) or "task" not in headers:
        return Rejection("bad_headers", "headers must be an object naming the task (Celery "
                         "message protocol 2; protocol 1 is not accepted)", task_id=task_id)
    problem = _header_problem(headers)
    if problem:
        return Rejection("bad_headers", problem, task_id=task_id)
    if headers["task"] not in tasks:
        return Rejection("unknown_task", f"task {printable(str(headers['task']))!r} is not "
                         f"run here (this queue runs {', '.join(sorted(tasks))})",
                         task_id=task_id)
    body = message.get("body")
    if not isinstance(body, str):
        return Rejection("bad_body", f"body must be a base64 string, not {_kind(body)}",
                         task_id=task_id)
    if message["properties"].get("body_encoding") == "base64":
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except binascii.Error:
            return Rejection("bad_body", "body is not base64", task_id=task_id)
        except UnicodeDecodeError as exc:
            return Rejection("bad_body", f"body is not UTF-8 (byte {exc.start})",
                             task_id=task_id)
    try:
        payload = loads(body)
    except NestedTooDeep as exc:
        return Rejection("bad_body", f"body is {exc}", _scan_article_id(body), task_id)
    except UnsafeJSON as exc:
        return Rejection("bad_body", f"body is {exc}", task_id=task_id)
    return _payload_problem(payload, str(headers["task"]), task_id)


def _payload_problem(payload: Any, task: str, task_id: str | None) -> Rejection | None:
    shape = "body must be the JSON array [args, kwargs, embed] = [[article], {}, {...}]"
    if not isinstance(payload, list) or len(payload) != 3:
        return Rejection("bad_arguments", shape, task_id=task_id)
    args, kwargs, embed = payload
    if not isinstance(args, list) or not isinstance(kwargs, dict) \
            or not isinstance(embed, dict | None):
        return Rejection("bad_arguments", shape, task_id=task_id)
    article_id = _article_id(args[0]) if args else None
    if len(args) != 1 or kwargs:
        extra = f" and keyword arguments {', '.join(map(repr, kwargs))}" if kwargs else ""
        return Rejection("bad_arguments", printable(
            f"{task} takes exactly one argument, an object; got "
            f"{len(args)}{extra}"), article_id, task_id)
    if not isinstance(args[0], dict):
        return Rejection("bad_arguments", f"the argument must be an object, not "
                         f"{_kind(args[0])}", task_id=task_id)
    if embed and any(embed.get(k) not in (None, []) for k in
                     ("callbacks", "errbacks", "chain", "chord")):
        return Rejection("bad_arguments", "callbacks, errbacks, chains and chords are not "
                         "supported: embed must hold only nulls", article_id, task_id)
    problem = value_problem(args[0], "article", max_depth=MAX_DEPTH + 1)
    if problem:
        return Rejection("unencodable_article", problem, article_id, task_id)
    return None


def rejected_entry(rejection: Rejection, raw: bytes | str, worker: str) -> str:
    """The JSON kept in ``P:rejected``: the reason, the raw message's size and SHA-256, and
    its first ``REJECTED_RAW_CHARS`` characters as ``raw`` when it is UTF-8 text (else its
    first bytes as ``raw_base64``), with ``truncated`` when that is not all of it."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    entry: dict[str, Any] = {"at": time.time(), "code": rejection.code,
                             "reason": rejection.reason[:500], "worker": worker,
                             "id": rejection.article_id,
                             "task_id": rejection.task_id and rejection.task_id[:200],
                             "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    text: str | None
    if isinstance(raw, str):
        text = raw
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
    if text is not None and value_problem(text[:REJECTED_RAW_CHARS]) is None:
        entry["raw"] = text[:REJECTED_RAW_CHARS]
        entry["truncated"] = len(text) > REJECTED_RAW_CHARS
    else:
        entry["raw_base64"] = base64.b64encode(data[:REJECTED_RAW_CHARS]).decode("ascii")
        entry["truncated"] = len(data) > REJECTED_RAW_CHARS
    return json.dumps(entry, ensure_ascii=False)


class Intake:
    """Admits or rejects raw messages for one worker (used by ``workers.worker.transport``)."""

    def __init__(self, store: Store, tasks: Collection[str], worker: str) -> None:
        self.store = store
        self.tasks = frozenset(tasks)
        self.worker = worker

    def admit(self, raw: bytes | str, queue: str = "") -> bool:
        """True to hand ``raw`` on to kombu; False when it was rejected (and recorded)."""
        try:
            rejection = inspect(raw, self.tasks)
        except Exception as exc:  # a bug here must not stop the worker either
            rejection = Rejection("not_an_envelope", f"could not be inspected: "
                                  f"{type(exc).__name__}: {printable(str(exc))}")
        if rejection is None:
            return True
        self.reject(rejection, raw, queue)
        return False

    def reject(self, rejection: Rejection, raw: bytes | str, queue: str) -> None:
        log.warning("message rejected", code=rejection.code, reason=rejection.reason,
                    document_id=rejection.article_id, task_id=rejection.task_id,
                    queue=queue, size=len(raw))
        try:
            self.store.reject(rejected_entry(rejection, raw, self.worker), rejection.code,
                              REJECTED_MAXLEN, rejection.article_id, rejection.task_id or "",
                              f"message rejected ({rejection.code}): {rejection.reason}",
                              self.worker)
        except Exception as exc:  # Redis away: the message is dropped, the log line stays
            log.error("could not record the rejected message", code=rejection.code,
                      error=f"{type(exc).__name__}: {printable(str(exc))}")
