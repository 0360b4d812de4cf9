"""The page's ``<html lang>`` follows the lab's language (``ui.i18n.document_language``), in a real browser.

Streamlit's page says ``lang="en"``; the lab sets ``zh-Hant-TW`` for 繁體中文 (screen readers read the Chinese
pages with Chinese rules) and ``en`` again after the switch, without a request to anywhere and without a gap
in the sidebar (the container that runs the script is hidden, and with it the wrapper that holds only it).
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import IDLE, wait_idle

pytestmark = pytest.mark.browser

LANG = "() => document.documentElement.lang"

#: The box in the sidebar's column that holds the hidden container: its display (``none``: no flex gap).
BRANCH_DISPLAY = """() => {
  let box = document.querySelector('.st-key-lab_document_language');
  if (!box) return null;
  while (box.parentElement && box.parentElement.children.length === 1) box = box.parentElement;
  return getComputedStyle(box).display;
}"""


def switch_to(page, label: str) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_text(label, exact=True).click()
    page.wait_for_selector(IDLE)


def test_the_html_lang_follows_the_language(page, app_server, request_log):
    page.goto(f"{app_server}/datasets?lang=zh-TW")
    wait_idle(page)
    page.wait_for_function("() => document.documentElement.lang === 'zh-Hant-TW'")
    assert page.evaluate(BRANCH_DISPLAY) == "none"  # no gap where the script sits
    switch_to(page, "English")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert "lang=en" in page.url
    switch_to(page, "繁體中文")
    page.wait_for_function("() => document.documentElement.lang === 'zh-Hant-TW'")
    page.goto(f"{app_server}/datasets?lang=en")  # a fresh page in English says so too
    wait_idle(page)
    assert page.evaluate(LANG) == "en"
    assert page.evaluate(BRANCH_DISPLAY) == "none"
    assert all(url.startswith(app_server) for url in request_log), [u for u in request_log
                                                                     if not u.startswith(app_server)]
