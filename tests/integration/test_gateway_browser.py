"""The gateway's pages in headless Chromium: paste an article, submit it, see its view."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import browser  # noqa: F401  (the headless Chromium fixture)
from tests.integration.conftest import Cluster
from tests.integration.gateway_fixtures import TOKENS, start_gateway

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "istanbul-peace-talks.txt"


def test_the_gateway_page_submits_an_article_and_shows_its_result(
    browser: Any, cluster: Cluster, tmp_path: Path  # noqa: F811
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    gw = start_gateway(cluster, tmp_path)
    try:
        browser.get(gw.url + "/")
        browser.find_element(By.ID, "token").send_keys(TOKENS[1])
        browser.find_element(By.CSS_SELECTOR, "form[action='/ui/token'] button").click()
        WebDriverWait(browser, 20).until(ready.presence_of_element_located((By.ID, "paste-form")))

        title = f"Istanbul talks {uuid.uuid4().hex[:8]}"
        browser.find_element(By.ID, "title").send_keys(title)
        textarea = browser.find_element(By.ID, "text")
        browser.execute_script("arguments[0].value = arguments[1]", textarea,
                               SAMPLE.read_text(encoding="utf-8"))
        browser.find_element(By.CSS_SELECTOR, "#paste-form button").click()

        # the status page reloads itself until the worker is done, then shows the view
        WebDriverWait(browser, 90).until(ready.presence_of_element_located((By.ID, "d0-text")))
        article_id = browser.find_element(By.CSS_SELECTOR, "article.doc").get_attribute(
            "data-document-id")
        assert browser.current_url == f"{gw.url}/v1/articles/{article_id}/view"
        state = httpx.get(f"{gw.url}/v1/articles/{article_id}", headers=gw.headers()).json()
        assert state["status"] == "done" and state["document"]["title"] == title
        shown = browser.find_element(By.ID, "d0-text").get_property("textContent")
        assert shown == state["document"]["text"]
        assert browser.find_element(By.ID, "d0-title").text == title

        browser.get(gw.url + "/")
        listed = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "table.recent code")]
        assert article_id in listed
    finally:
        gw.stop()


def test_a_form_posted_from_another_site_is_refused(cluster: Cluster, tmp_path: Path) -> None:
    gw = start_gateway(cluster, tmp_path)
    try:
        response = httpx.post(gw.url + "/ui/submit", data={"text": "Kyiv said."},
                              headers={"Origin": "https://elsewhere.example",
                                       **gw.headers()})
        assert response.status_code == 403
        assert "another site" in response.text
    finally:
        gw.stop()
