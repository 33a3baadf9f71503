"""A headless Chromium (Debian's ``chromium`` + ``chromium-driver``) driven by Selenium.

Tests here are marked ``browser`` and skip with the reason when the browser, its driver
or Selenium is missing. No network: the flags turn off every background fetch and the
pages under test are files.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "tests" / "data" / "istanbul-peace-talks.txt"

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1000",
)


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        return "chromium is not installed (apt-get install -y chromium chromium-driver)"
    if not CHROMEDRIVER.exists():
        return "chromedriver is not installed (apt-get install -y chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return None


def start_chromium() -> Any:
    """A new headless Chromium session; the caller quits it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = missing_browser()
    if reason:
        pytest.skip(reason)
    driver = start_chromium()
    try:
        yield driver
    finally:
        driver.quit()


def copydesk(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the ``copydesk`` command line of this checkout in a subprocess."""
    return subprocess.run([sys.executable, "-m", "copydesk.cli", *args], cwd=cwd or ROOT,
                          capture_output=True, text=True, timeout=600)
