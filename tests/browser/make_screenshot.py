"""Regenerate docs/view.png: the sample article's page in headless Chromium.

    .venv/bin/python tests/browser/make_screenshot.py [OUT.png]

Processes tests/data/istanbul-peace-talks.txt with ``copydesk process --format html``
(the installed stages, as a user would), opens the page and hovers a quote so the
tooltip and the link to its speaker show.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from tests.browser.conftest import ROOT, SAMPLE, copydesk, missing_browser, start_chromium


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "view.png"
    reason = missing_browser()
    if reason:
        sys.exit(reason)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "seed.html"
        done = copydesk("process", str(SAMPLE), "--format", "html", "-o", str(page))
        if done.returncode != 0:
            sys.exit(done.stderr)
        driver = start_chromium()
        try:
            driver.set_window_size(1400, 1500)
            driver.get(page.as_uri())
            # the first quote with a speaker that shows in the top of the page, else an entity
            height = driver.execute_script("return window.innerHeight")
            targets = [
                el for el in driver.find_elements(
                    By.CSS_SELECTOR, "#d0-text .m-quote.first[data-speaker]")
                if el.rect["y"] + el.rect["height"] < height * 0.9
            ] or driver.find_elements(By.CSS_SELECTOR, "#d0-text .m-entity")
            if targets:
                ActionChains(driver).move_to_element(targets[0]).perform()
                time.sleep(0.2)
            driver.save_screenshot(str(out))
        finally:
            driver.quit()
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
