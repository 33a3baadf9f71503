"""The summary of partial failures: the stages that failed in Documents that are done."""

from __future__ import annotations

from copydesk.workers.queue.failures import stages_that_failed, summary


def test_the_failed_runs_of_a_document_are_named_in_run_order() -> None:
    document = {"runs": [{"stage": "cleaning", "status": "ok"},
                         {"stage": "tone", "status": "failed"},
                         {"stage": "summary", "status": "skipped"},
                         {"stage": "quotes", "status": "failed"}]}
    assert stages_that_failed(document) == ["tone", "quotes"]


def test_the_summary_counts_articles_and_names_each_stage_once_most_failed_first() -> None:
    failed = {"a": ["tone"], "b": ["tone", "quotes"], "c": ["tone"]}
    assert summary(failed) == "3 with failed stages: tone (3), quotes"
    assert summary({}) == ""
