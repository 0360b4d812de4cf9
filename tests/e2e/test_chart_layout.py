"""Every chart of the Architecture lab and Compare runs, at 1280 and 1920 px: no text on text.

For each plotly chart the test collects the boxes of its title, axis titles, subplot titles
and legend as the browser drew them, and fails if any two overlap (the issue found legends
on axis titles and subplot titles running together). Screenshots of every chart go to
``test-artifacts/screenshots/charts/`` for a person to look at.
"""

from __future__ import annotations

import os

import pytest

from tests.e2e.conftest import SCREENSHOTS, wait_idle

pytestmark = pytest.mark.browser

BOXES = """plot => {
  const pick = sel => Array.from(plot.querySelectorAll(sel)).filter(e => e.getBBox && e.textContent.trim())
    .map(e => { const r = e.getBoundingClientRect(); return {what: sel + ': ' + e.textContent.trim().slice(0, 40),
                 x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}; })
    .filter(b => b.x1 - b.x0 > 1 && b.y1 - b.y0 > 1);
  return [...pick('.gtitle'), ...pick('.g-gtitle .gtitle-subtitle'), ...pick('.g-xtitle text'), ...pick('.g-ytitle text'),
          ...pick('[class*="g-x2title"] text'), ...pick('[class*="g-y2title"] text'), ...pick('.legend'),
          ...pick('.annotation-text')];
}"""


def overlaps(boxes: list[dict]) -> list[str]:
    found = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if ".legend" in a["what"] and ".legend" in b["what"]:
                continue
            width = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
            height = min(a["y1"], b["y1"]) - max(a["y0"], b["y0"])
            if width > 2 and height > 2:
                found.append(f"{a['what']!r} overlaps {b['what']!r}")
    return found


def check_charts(page, name: str) -> int:
    wait_idle(page, timeout=120_000)
    page.wait_for_timeout(500)  # plotly lays out after the script has finished
    plots = page.locator(".js-plotly-plot")
    for _ in range(20):  # until the charts stop changing (a rerun may still be drawing)
        count = plots.count()
        page.wait_for_timeout(300)
        wait_idle(page, timeout=120_000)
        if plots.count() == count:
            break
    problems = []
    (SCREENSHOTS / "charts").mkdir(parents=True, exist_ok=True)
    for index in range(plots.count()):
        plot = plots.nth(index)
        plot.scroll_into_view_if_needed()
        plot.screenshot(path=str(SCREENSHOTS / "charts" / f"{name}_{index}.png"))
        problems += [f"chart {index}: {p}" for p in overlaps(plot.evaluate(BOXES))]
    assert problems == [], f"{name}: " + "; ".join(problems)
    return plots.count()


@pytest.mark.parametrize("width", [1280, 1920])
def test_no_chart_text_overlaps(browser, app_server, width):
    from cv_core.runs import list_runs, preset_spec, submit_run

    root = os.environ["CONVNET_LAB_RUNS_E2E"]
    if not any(run.metrics for run in list_runs(root)):
        run_dir = submit_run(preset_spec("tiny", epochs=3), root)
        import time

        deadline = time.time() + 120
        while time.time() < deadline and list_runs(root)[0].state in ("queued", "running"):
            time.sleep(0.5)
        assert run_dir.exists()
    page = browser.new_page(viewport={"width": width, "height": 1200})
    try:
        lab = app_server + "/architecture_lab"
        page.goto(lab)
        assert check_charts(page, f"{width}_anatomy") >= 2
        page.locator(".st-key-architecture_lab_compare [data-testid=stSelectbox]").click()
        page.get_by_role("option", name="VGG16 (224 px, keras.applications)").click()
        page.get_by_text("Anatomy of VGG16").wait_for(timeout=120_000)
        assert check_charts(page, f"{width}_anatomy_vgg16") >= 3
        page.goto(lab + "?architecture_lab_tab=Residual+connections&architecture_lab_grad_depth=40")
        assert check_charts(page, f"{width}_residual_depth40") == 1
        page.goto(lab + "?architecture_lab_tab=Batch+normalisation&architecture_lab_bn_steps=200")
        assert check_charts(page, f"{width}_batchnorm") == 1
        page.goto(lab + "?architecture_lab_tab=Train")
        check_charts(page, f"{width}_train")
        page.goto(app_server + "/compare_runs")
        assert check_charts(page, f"{width}_compare") >= 2
        page.goto(app_server + "/compare_runs?compare_runs_tab=Run+the+grid")
        check_charts(page, f"{width}_grid")
    finally:
        page.close()
