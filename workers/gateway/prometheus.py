"""``/metrics``: the queue's numbers in the Prometheus text exposition format (0.0.4)."""

from __future__ import annotations

from typing import Any


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def prometheus_text(counts: dict[str, int], info: Any, hists: list[Any],
                    http_submitted: int,
                    coverage: dict[str, dict[str, int]] | None = None,
                    sinks: dict[str, dict[str, Any]] | None = None) -> str:
    """The Prometheus text exposition (format 0.0.4) of the queue's numbers."""
    out: list[str] = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            number = repr(float(value)) if isinstance(value, float) else str(value)
            out.append(f"{name}{labels} {number}")

    stream_note = "(counted on the event stream, which keeps worker.stream_maxlen events)"
    metric("copydesk_articles_submitted_total", "counter",
           f"Articles submitted through any client {stream_note}.",
           [("", counts["submitted"])])
    metric("copydesk_articles_done_total", "counter", f"Articles finished done {stream_note}.",
           [("", counts["done"])])
    metric("copydesk_articles_failed_total", "counter", f"Articles that failed {stream_note}.",
           [("", counts["failed"])])
    metric("copydesk_articles_requeued_total", "counter",
           f"Articles given back to the queue after a lost attempt {stream_note}.",
           [("", counts["requeued"])])
    metric("copydesk_gateway_submitted_total", "counter",
           "Articles this gateway process enqueued.", [("", http_submitted)])
    per_queue = info.queues or {info.queue: {"depth": info.depth, "workers": 0}}
    metric("copydesk_queue_depth", "gauge", "Messages waiting, per queue (routed ones too).",
           [(f'{{queue="{_label(q)}"}}', v["depth"]) for q, v in per_queue.items()])
    metric("copydesk_queue_workers", "gauge", "Live workers consuming each queue.",
           [(f'{{queue="{_label(q)}"}}', v["workers"]) for q, v in per_queue.items()])
    metric("copydesk_queue_unacked", "gauge", "Messages delivered to a worker, not yet acked.",
           [(f'{{queue="{_label(info.queue)}"}}', info.unacked)])
    metric("copydesk_articles", "gauge", "Article records in the result store, by status.",
           [(f'{{status="{s}"}}', n) for s, n in info.counts.items()])
    metric("copydesk_workers_alive", "gauge", "Workers with a recent heartbeat.",
           [("", sum(1 for w in info.workers if w.alive))])
    metric("copydesk_dead_letters", "gauge", "Articles parked in the dead-letter list.",
           [("", info.dead_letter_count)])
    metric("copydesk_messages_rejected_total", "counter",
           "Malformed queue messages workers rejected at intake, by reason code.",
           [(f'{{reason="{_label(code)}"}}', n)
            for code, n in sorted(getattr(info, "rejected", {}).items())])
    if coverage is not None:
        metric("copydesk_stored_documents", "gauge",
               "Stored Documents per stage of the workers' pipeline, by state "
               "(current, stale, missing, failed).",
               [(f'{{stage="{_label(stage)}",state="{state}"}}', n)
                for stage, row in coverage.items() for state, n in row.items()])
    if sinks:
        metric("copydesk_sink_backlog", "gauge",
               "Finished Documents waiting in the outbox for each sink (never delivered, or "
               "delivered and not yet committed).",
               [(f'{{sink="{_label(n)}"}}', v["backlog"]) for n, v in sinks.items()])
        metric("copydesk_sink_dead_letters", "gauge",
               "Documents each sink refused (kept with the reason in P:sink_dead:SINK).",
               [(f'{{sink="{_label(n)}"}}', v["dead"]) for n, v in sinks.items()])
    name = "copydesk_stage_duration_seconds"
    out.append(f"# HELP {name} Time each stage took per document, as workers recorded it.")
    out.append(f"# TYPE {name} histogram")
    for hist in hists:
        stage = _label(hist.stage)
        for le, count in hist.cumulative():
            out.append(f'{name}_bucket{{stage="{stage}",le="{le}"}} {count}')
        out.append(f'{name}_sum{{stage="{stage}"}} {hist.sum!r}')
        out.append(f'{name}_count{{stage="{stage}"}} {hist.count}')
    return "\n".join(out) + "\n"
