"""docs/http.md states the limits the code enforces: its settings table gives each
setting's default as the settings model has it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from copydesk.settings import Settings

DOC = (Path(__file__).resolve().parents[1] / "docs" / "http.md").read_text(encoding="utf-8")


def default_of(env_name: str) -> Any:
    """The default of the setting a ``COPYDESK_…`` name (without the prefix) names."""
    node: Any = Settings.model_construct()  # the defaults, whatever the environment says
    for part in env_name.lower().split("__"):
        node = getattr(node, part)
    return node


def test_every_numeric_default_in_the_settings_table_is_the_codes() -> None:
    rows = re.findall(r"^\| `([A-Z_]+)` \| ([\d ]+) \|", DOC, flags=re.M)
    assert len(rows) >= 8
    for name, default in rows:
        assert default_of(name) == int(default.replace(" ", "")), name


def test_the_fixed_limits_it_quotes_are_the_codes() -> None:
    from copydesk.jsonsafe import MAX_DEPTH
    from copydesk.workers.gateway.connections import LOG_INTERVAL
    from copydesk.workers.gateway.service import Gateway

    text = " ".join(DOC.split())  # lines joined as they are read
    assert f"nested deeper than {MAX_DEPTH} levels" in text
    assert f"one `connections refused` line per {LOG_INTERVAL:g} s" in text
    assert text.count("cached 30 s") >= 2 and Gateway.COVERAGE_TTL == 30
    streams = Settings.model_construct().gateway.max_event_streams
    assert f"`gateway.max_event_streams` ({streams})" in text
