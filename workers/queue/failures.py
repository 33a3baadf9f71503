"""Partial failures: the stages that failed in Documents that are nonetheless ``done``.

An optional stage that raises leaves its layer out and the article ``done`` (its run says
``failed``); the record's ``status`` alone does not show it. ``failed_stages`` reads the
stored Documents (one round trip per chunk) and names, per article, the stages whose run
failed, for ``copydesk submit --wait``'s summary, ``copydesk status`` and the gateway.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


def stages_that_failed(document: dict[str, Any]) -> list[str]:
    """The stages whose run failed in a Document's JSON data, in run order."""
    runs = document.get("runs")
    return [r["stage"] for r in runs if isinstance(r, dict) and r.get("status") == "failed"
            and isinstance(r.get("stage"), str)] if isinstance(runs, list) else []


def failed_stages(store: Any, article_ids: Sequence[str],
                  chunk: int = 500) -> dict[str, list[str]]:
    """Per article id with a stored Document, the stages whose run failed (only articles
    with at least one; an unreadable Document counts as none)."""
    out: dict[str, list[str]] = {}
    for start in range(0, len(article_ids), chunk):
        for article_id, _, _, _, raw in store.stored_documents(
                list(article_ids[start:start + chunk])):
            if raw is None:
                continue
            try:
                failed = stages_that_failed(json.loads(raw))
            except ValueError:
                continue
            if failed:
                out[article_id] = failed
    return out


def summary(failed: dict[str, list[str]]) -> str:
    """``"1 with failed stages: tone"`` (the stages named once each, by how many failed),
    or "" when none did."""
    if not failed:
        return ""
    counts: dict[str, int] = {}
    for stages in failed.values():
        for stage in stages:
            counts[stage] = counts.get(stage, 0) + 1
    named = ", ".join(f"{s} ({n})" if n > 1 else s
                      for s, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"{len(failed)} with failed stages: {named}"
