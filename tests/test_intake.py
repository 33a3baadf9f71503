"""Intake of raw queue messages (``workers.worker.intake.inspect``): what passes, and the reason
code of each thing that does not. The end-to-end check with a real worker is
tests/integration/test_hostile_messages.py."""

from __future__ import annotations

import base64
import json

import pytest
from copydesk.workers.queue.protocol import build_message
from copydesk.workers.worker.intake import Rejection, inspect, rejected_entry

TASKS = {"copydesk.process"}
ARTICLE = {"id": "a-1", "text": "The talks ended on Sunday."}


def with_changes(article: object = ARTICLE, *, body: object = None, raw_body: str | None = None,
                 **changes: object) -> str:
    """The message ``build_message`` writes, with envelope keys replaced (``headers__eta``
    sets a header, ``properties__priority`` a property)."""
    message = json.loads(build_message(ARTICLE if article is ARTICLE else {}, "copydesk"))
    if body is not None or article is not ARTICLE:
        payload = body if body is not None else [[article], {}, {}]
        raw_body = base64.b64encode(json.dumps(payload).encode()).decode()
    if raw_body is not None:
        message["body"] = raw_body
    for key, value in changes.items():
        part, _, name = key.partition("__")
        if name:
            message[part][name] = value
        else:
            message[part.replace("_", "-")] = value
    return json.dumps(message)


def code(raw: bytes | str) -> str | None:
    found = inspect(raw, TASKS)
    return found.code if found else None


def test_the_message_the_client_writes_passes() -> None:
    assert inspect(build_message(ARTICLE, "copydesk"), TASKS) is None


def test_bytes_are_read_as_utf8() -> None:
    assert inspect(build_message(ARTICLE, "copydesk").encode(), TASKS) is None


@pytest.mark.parametrize("raw", ["this is not json {", "", "   ", b"\xff\xfe", "NaN"])
def test_text_that_is_not_json_is_not_json(raw: bytes | str) -> None:
    assert code(raw) == "not_json"


@pytest.mark.parametrize("raw", ["[1, 2, 3]", '"a string"', "42", "null",
                                 '{"body": "", "headers": {}}'])
def test_json_that_is_not_an_envelope_is_refused(raw: str) -> None:
    assert code(raw) == "not_an_envelope"


def test_an_envelope_nested_100000_deep_is_not_json() -> None:
    found = inspect("[" * 100_000 + "]" * 100_000, TASKS)
    assert found is not None and found.code == "not_json"
    assert "nested too deeply" in found.reason


def test_a_body_that_is_not_base64_is_a_bad_body() -> None:
    assert code(with_changes(raw_body="this is %%% not base64")) == "bad_body"


def test_a_body_that_is_base64_of_garbage_is_a_bad_body() -> None:
    assert code(with_changes(raw_body=base64.b64encode(b"not json").decode())) == "bad_body"


@pytest.mark.parametrize("content_type", ["application/x-python-serialize",
                                          "application/x-yaml", None])
def test_any_content_type_but_json_is_refused(content_type: str | None) -> None:
    assert code(with_changes(content_type=content_type)) == "content_type"


def test_an_unknown_task_is_refused_with_its_name() -> None:
    found = inspect(with_changes(headers__task="os.system"), TASKS)
    assert found is not None and found.code == "unknown_task"
    assert "'os.system'" in found.reason


@pytest.mark.parametrize("header,value", [
    ("eta", "tomorrow"), ("expires", 12), ("retries", -1), ("retries", "3"),
    ("timelimit", "x"), ("timelimit", [1, 2, 3]), ("id", None), ("id", ""),
    ("root_id", ["x"]), ("ignore_result", "yes"), ("compression", "application/x-gzip"),
    ("argsrepr", "\ud800"),
])
def test_headers_celery_would_trip_over_are_bad_headers(header: str, value: object) -> None:
    assert code(with_changes(**{f"headers__{header}": value})) == "bad_headers"


def test_headers_that_are_not_an_object_are_bad_headers() -> None:
    assert code(with_changes(headers=["copydesk.process"])) == "bad_headers"


@pytest.mark.parametrize("prop,value", [("delivery_tag", None), ("delivery_tag", 5),
                                        ("priority", 900), ("body_encoding", "rot13"),
                                        ("delivery_info", "copydesk")])
def test_properties_kombu_would_trip_over_are_not_an_envelope(prop: str, value: object) -> None:
    assert code(with_changes(**{f"properties__{prop}": value})) == "not_an_envelope"


@pytest.mark.parametrize("body", [
    [[], {}, {}],                                   # no article
    [[ARTICLE, "extra"], {}, {}],                   # one too many
    [[ARTICLE], {"force": True}, {}],               # keyword arguments
    [["just text"], {}, {}],                        # not an object
    {"args": [ARTICLE]},                            # not [args, kwargs, embed]
    [[ARTICLE], {}, {"callbacks": [{"task": "x"}]}],  # a callback to run afterwards
])
def test_anything_but_one_article_object_is_bad_arguments(body: object) -> None:
    assert code(with_changes(body=body)) == "bad_arguments"


def test_bad_arguments_still_name_the_article() -> None:
    found = inspect(with_changes(body=[[ARTICLE, "extra"], {}, {}]), TASKS)
    assert found == Rejection("bad_arguments", found.reason if found else "", "a-1",
                              found.task_id if found else None)
    assert found is not None and "got 2" in found.reason


def test_an_article_with_a_lone_surrogate_is_unencodable_and_named() -> None:
    body = '[[{"id": "s-1", "text": "abc \\ud800"}], {}, {}]'
    found = inspect(with_changes(raw_body=base64.b64encode(body.encode()).decode()), TASKS)
    assert found is not None and (found.code, found.article_id) == ("unencodable_article",
                                                                    "s-1")


def test_an_article_nested_100000_deep_is_a_bad_body_and_its_id_is_still_read() -> None:
    article = '{"text": "ok", "id": "deep-1", "metadata": ' + '{"a": ' * 100_000 + "1" \
        + "}" * 100_000 + "}"
    body = "[[" + article + "], {}, {}]"
    found = inspect(with_changes(raw_body=base64.b64encode(body.encode()).decode()), TASKS)
    assert found is not None and (found.code, found.article_id) == ("bad_body", "deep-1")


def test_an_id_deeper_in_the_article_is_not_taken_for_the_articles() -> None:
    article = '{"metadata": {"id": "not-me"' + ', "x": [' * 5000 + "]" * 5000 + "}}"
    body = "[[" + article + "], {}, {}]"
    found = inspect(with_changes(raw_body=base64.b64encode(body.encode()).decode()), TASKS)
    assert found is not None and found.article_id is None


def test_the_kept_entry_holds_the_raw_message_whole() -> None:
    entry = json.loads(rejected_entry(Rejection("not_json", "x"), "this is not json {", "w"))
    assert entry["raw"] == "this is not json {" and entry["code"] == "not_json"


def test_the_kept_entry_of_a_huge_message_keeps_its_head_size_and_digest() -> None:
    import hashlib

    from copydesk.workers.worker.intake import REJECTED_MAX_BYTES, REJECTED_MAXLEN

    raw = "not json " * 2_300_000  # about 20 MB
    kept = rejected_entry(Rejection("not_json", "x"), raw, "w")
    entry = json.loads(kept)
    assert entry["raw"] == raw[:8192] and entry["truncated"] is True
    assert entry["size"] == len(raw.encode())
    assert entry["sha256"] == hashlib.sha256(raw.encode()).hexdigest()
    assert len(kept.encode()) <= REJECTED_MAX_BYTES / REJECTED_MAXLEN


def test_the_kept_entry_of_huge_bytes_that_are_not_utf8_keeps_their_head() -> None:
    raw = b"\xff" * 3_000_000
    entry = json.loads(rejected_entry(Rejection("not_json", "x"), raw, "w"))
    assert base64.b64decode(entry["raw_base64"]) == raw[:8192] and entry["truncated"]


def test_the_kept_entry_of_bytes_that_are_not_utf8_is_base64() -> None:
    entry = json.loads(rejected_entry(Rejection("not_json", "x"), b"\xff\x00", "w"))
    assert base64.b64decode(entry["raw_base64"]) == b"\xff\x00"
