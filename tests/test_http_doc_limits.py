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
