"""The gateway's parts that need no Redis: body parsing and limits, binding, negotiation, metrics."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from copydesk.document import Article, ArticleRules
from copydesk.workers.commands.serve import bind_address
from copydesk.workers.gateway.body import parse_articles
from copydesk.workers.gateway.models import GatewayError
from copydesk.workers.gateway.pages import wants_html
from copydesk.workers.gateway.prometheus import prometheus_text
from copydesk.workers.queue.metrics import StageHistogram


def refusal(body: bytes, content_type: str = "application/json", max_batch: int = 10,
            max_chars: int = 10_000) -> GatewayError:
    with pytest.raises(GatewayError) as caught:
        parse_articles(body, content_type, max_batch, ArticleRules(max_chars))
    return caught.value


def test_one_article_object_is_not_a_batch() -> None:
    articles, batch = parse_articles(b'{"text": "Kyiv said."}', "application/json", 10, ArticleRules(100))
    assert [a.text for a in articles] == ["Kyiv said."] and not batch


def test_json_lines_skip_blank_lines_and_keep_order() -> None:
    body = b'{"id": "a", "text": "One."}\n\n{"id": "b", "text": "Two."}\n'
    articles, batch = parse_articles(body, "application/x-ndjson; charset=utf-8", 10, ArticleRules(100))
    assert [a.id for a in articles] == ["a", "b"] and batch


def test_plain_text_is_the_text_of_one_article() -> None:
    text = "Ministers met in Istanbul.\n\nThey said little."
    (article,), batch = parse_articles(text.encode(), "text/plain", 10, ArticleRules(100))
    assert article == Article(text=text) and not batch


def test_every_invalid_field_is_reported_with_its_path() -> None:
    body = json.dumps([{"text": "ok"}, {"text": "x", "published_at": "soon"}, {"html": ""},
                       "not an object"]).encode()
    error = refusal(body)
    assert (error.status, error.code) == (422, "invalid_article")
    assert [d.path for d in error.details] == ["$[1].published_at", "$[2]", "$[3]"]


def test_a_bad_json_line_names_its_line() -> None:
    error = refusal(b'{"text": "a"}\n{"text": \n', "application/x-ndjson")
    assert (error.status, error.code) == (400, "invalid_json")
    assert "line 2" in error.message


def test_an_over_long_article_is_413_even_when_others_are_invalid() -> None:
    body = json.dumps([{"text": "x" * 50}, {"title": "no body"}]).encode()
    error = refusal(body, max_chars=20)
    assert (error.status, error.code) == (413, "article_too_large")
    assert [d.path for d in error.details] == ["$[0]"]


def test_batch_size_media_type_encoding_and_emptiness_are_checked() -> None:
    assert refusal(json.dumps([{"text": "a"}] * 3).encode(), max_batch=2).code == \
        "batch_too_large"
    assert refusal(b"<a/>", "application/xml").status == 415
    assert refusal(b"\xff\xfe", "text/plain").code == "invalid_encoding"
    assert refusal(b"[]").code == "empty_batch"


def test_without_tokens_the_gateway_binds_to_loopback_whatever_was_asked() -> None:
    host, notice = bind_address("0.0.0.0", has_tokens=False)
    assert host == "127.0.0.1" and notice and "0.0.0.0" in notice
    assert bind_address(None, has_tokens=False)[0] == "127.0.0.1"


def test_with_tokens_the_gateway_binds_where_asked() -> None:
    assert bind_address(None, has_tokens=True) == ("0.0.0.0", None)
    assert bind_address("10.0.0.5", has_tokens=True) == ("10.0.0.5", None)


@pytest.mark.parametrize(("accept", "html"), [
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
    ("*/*", False),
    ("application/json, text/html", False),
    ("", False),
])
def test_html_goes_to_clients_that_prefer_it(accept: str, html: bool) -> None:
    request = SimpleNamespace(headers={"accept": accept})
    assert wants_html(request) is html  # type: ignore[arg-type]


def test_stage_histograms_are_cumulative_and_end_with_the_count() -> None:
    hist = StageHistogram("entities", buckets={"0.01": 2, "0.1": 3, "+Inf": 0}, sum=0.4,
                          count=6)
    info = SimpleNamespace(queue="copydesk", depth=3, unacked=1, workers=[],
                           counts={"queued": 3, "running": 1, "done": 5, "failed": 0},
                           dead_letter_count=0, queues={})
    counts = {"submitted": 9, "done": 5, "failed": 0, "requeued": 0}
    text = prometheus_text(counts, info, [hist], 2)
    lines = dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))
    assert lines['copydesk_stage_duration_seconds_bucket{stage="entities",le="0.005"}'] == "0"
    assert lines['copydesk_stage_duration_seconds_bucket{stage="entities",le="0.01"}'] == "2"
    assert lines['copydesk_stage_duration_seconds_bucket{stage="entities",le="60.0"}'] == "5"
    assert lines['copydesk_stage_duration_seconds_bucket{stage="entities",le="+Inf"}'] == "6"
    assert lines['copydesk_queue_depth{queue="copydesk"}'] == "3"
    assert "# TYPE copydesk_stage_duration_seconds histogram" in text


def test_metrics_report_depth_and_live_workers_per_routed_queue() -> None:
    info = SimpleNamespace(queue="copydesk", depth=3, unacked=0, workers=[], counts={},
                           dead_letter_count=0, rejected={},
                           queues={"copydesk": {"depth": 3, "workers": 2},
                                   "heavy": {"depth": 7, "workers": 1}})
    counts = {"submitted": 0, "done": 0, "failed": 0, "requeued": 0}
    lines = prometheus_text(counts, info, [], 0).splitlines()
    assert 'copydesk_queue_depth{queue="heavy"} 7' in lines
    assert 'copydesk_queue_workers{queue="heavy"} 1' in lines
    assert 'copydesk_queue_workers{queue="copydesk"} 2' in lines


def test_rejected_messages_are_counted_per_reason() -> None:
    info = SimpleNamespace(queue="copydesk", depth=0, unacked=0, workers=[], counts={},
                           dead_letter_count=0, rejected={"not_json": 3, "bad_body": 1},
                           queues={})
    counts = {"submitted": 0, "done": 0, "failed": 0, "requeued": 0}
    text = prometheus_text(counts, info, [], 0)
    assert 'copydesk_messages_rejected_total{reason="not_json"} 3' in text.splitlines()
    assert 'copydesk_messages_rejected_total{reason="bad_body"} 1' in text.splitlines()


def test_metrics_report_stored_documents_per_stage_and_state() -> None:
    info = SimpleNamespace(queue="copydesk", depth=0, unacked=0, workers=[],
                           counts={"queued": 0, "running": 0, "done": 4, "failed": 0},
                           dead_letter_count=0, queues={})
    counts = {"submitted": 4, "done": 4, "failed": 0, "requeued": 0}
    coverage = {"summary": {"current": 1, "stale": 3, "missing": 0, "failed": 0}}
    text = prometheus_text(counts, info, [], 0, coverage)
    assert 'copydesk_stored_documents{stage="summary",state="stale"} 3' in text
    assert 'copydesk_stored_documents{stage="summary",state="current"} 1' in text


def test_metrics_report_each_sinks_backlog_and_dead_letters() -> None:
    info = SimpleNamespace(queue="copydesk", depth=0, unacked=0, workers=[], counts={},
                           dead_letter_count=0, queues={})
    counts = {"submitted": 0, "done": 0, "failed": 0, "requeued": 0}
    sinks = {"postgres": {"backlog": 7, "lag": 5, "pending": 2, "consumers": 1, "dead": 1,
                          "dead_letters": []}}
    lines = prometheus_text(counts, info, [], 0, None, sinks).splitlines()
    assert 'copydesk_sink_backlog{sink="postgres"} 7' in lines
    assert 'copydesk_sink_dead_letters{sink="postgres"} 1' in lines
