"""The Chapter 9 tour in a real browser: walked step by step with Next and Previous, the step in the
address bar, a reload keeping it, and a screenshot for the README."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from cv_core.tour import SECTIONS, STEPS
from tests.e2e.conftest import screenshot, wait_idle

pytestmark = pytest.mark.browser

ASSETS = Path(__file__).resolve().parents[2] / "assets"
#: Steps that compute on their first visit (the anatomy builds models; Filters searches 12 patterns).
SLOW = 240_000


def step_in_url(page) -> str | None:
    return parse_qs(urlparse(page.url).query).get("step", [None])[0]


def wait_for_step(page, key: str) -> None:
    page.wait_for_function(f"() => new URLSearchParams(location.search).get('step') === {key!r}", timeout=SLOW)
    wait_idle(page, timeout=SLOW)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert "Traceback" not in page.content()


def test_walk_the_tour_with_next_and_previous(page, app_server):
    page.goto(app_server)
    wait_idle(page)
    page.get_by_test_id("stSidebarNav").get_by_text("Chapter 9 tour", exact=True).click()
    expect(page.get_by_role("heading", name="Chapter 9 tour", exact=True)).to_be_visible(timeout=60_000)
    wait_for_step(page, STEPS[0].key)
    assert urlparse(page.url).path.endswith("/tour")
    expect(page.get_by_text("9-1 Three essential computer vision tasks")).to_be_visible()
    images = page.locator('[data-testid="stMain"] [data-testid="stImage"] img')
    expect(images).to_have_count(3)

    for step in STEPS[1:]:
        page.get_by_role("button", name="Next step").first.click()
        wait_for_step(page, step.key)
        expect(page.get_by_role("heading", name=step.title, exact=True)).to_be_visible(timeout=SLOW)
        expect(page.get_by_role("heading", name=f"{step.section} {SECTIONS[step.section]}", exact=True)).to_be_visible()
        expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
        screenshot(page, f"tour_{step.key}")
    # The last step: Next is disabled, Previous goes back one.
    expect(page.get_by_role("button", name="Next step").first).to_be_disabled()
    page.get_by_role("button", name="Previous step").last.click()
    wait_for_step(page, STEPS[-2].key)

    # A step that needs a trained run says how to get one (no run in this app yet that saved a model).
    page.goto(f"{app_server}/tour?step=segmentation")
    wait_for_step(page, "segmentation")
    expect(page.get_by_role("button", name="Start the Quick preset")).to_be_visible()
    expect(page.get_by_text("Instance segmentation: one colour per object")).to_be_visible()
    # A reload keeps the step.
    page.reload()
    wait_for_step(page, "segmentation")
    expect(page.get_by_role("heading", name=STEPS[2].title, exact=True)).to_be_visible()

    page.goto(f"{app_server}/tour?step=tasks")
    wait_for_step(page, "tasks")
    page.get_by_test_id("stMain").evaluate("element => element.scrollTo(0, 0)")
    page.wait_for_timeout(500)
    screenshot(page, "tour_tasks")
    page.goto(f"{app_server}/tour?step=principles")
    wait_for_step(page, "principles")
    shot = screenshot(page, "tour_principles")
    shutil.copy(shot, ASSETS / "screenshot-tour.png")


def test_the_tour_in_traditional_chinese(page, app_server):
    """With the language switch (``?lang=zh-TW``): the tour's words in the course's terms, no tofu."""
    import importlib.util

    if importlib.util.find_spec("ui.i18n") is None:
        pytest.skip("the lab has no language switch yet (ui/i18n.py)")
    page.goto(f"{app_server}/tour?lang=zh-TW&step=segmentation")
    wait_for_step(page, "segmentation")
    expect(page.get_by_role("heading", name="第 9 章導覽", exact=True)).to_be_visible(timeout=SLOW)
    expect(page.get_by_role("heading", name="語義分割與實體分割，以及分割遮罩", exact=True)).to_be_visible()
    expect(page.get_by_text("實體分割：每個物體一種顏色")).to_be_visible()
    page.get_by_role("button", name="下一步").first.click()
    wait_for_step(page, "blocks")
    expect(page.get_by_text("金字塔式的結構").first).to_be_visible(timeout=SLOW)
    screenshot(page, "tour_blocks_zh_TW")
    page.goto(f"{app_server}/tour?lang=zh-TW&step=principles")
    wait_for_step(page, "principles")
    expect(page.get_by_role("heading", name="卷積神經網路的六項原則，逐一實測", exact=True)).to_be_visible(timeout=SLOW)
    expect(page.get_by_text("在層區塊周圍加上殘差連接，有助於訓練更深的網路。")).to_be_visible()
    page.get_by_test_id("stMain").evaluate("element => element.scrollTo(0, 0)")
    page.wait_for_timeout(500)
    shot = screenshot(page, "tour_principles_zh_TW")
    shutil.copy(shot, ASSETS / "screenshot-tour-zh-TW.png")
