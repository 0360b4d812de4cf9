"""Every chart of the Architecture lab and Compare runs, at 1280 and 1920 px: no text on text.
In Traditional Chinese too (``?lang=zh-TW``, 1280 px): every chart page already translated (its page
file is no longer in ``locale/pending.txt``, read when the test runs, so the check grows as pages are
translated); the pages' own addresses are checked by the Chinese page sweep of
``test_translations_browser``, which opens them anyway.

For each plotly chart the test collects the boxes of its title, axis titles, subplot titles
and legend as the browser drew them, and fails if any two overlap (the issue found legends
on axis titles and subplot titles running together). Screenshots of every chart go to
``test-artifacts/screenshots/charts/`` for a person to look at.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.e2e.conftest import SCREENSHOTS, wait_idle
from tools.ui_strings import pending

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


#: True once every chart on the page has been drawn by plotly (its layout computed, its SVG in
#: place) and the set of charts is the same as at the previous poll: a rerun may still be adding some.
CHARTS_DRAWN = """() => {
  const plots = Array.from(document.querySelectorAll('.js-plotly-plot'));
  const drawn = plots.every(p => p._fullLayout && p.querySelector('.main-svg'));
  const state = plots.length + ':' + drawn;
  const same = window.__chartLayoutState === state;
  window.__chartLayoutState = state;
  return drawn && same;
}"""


def check_charts(page, name: str) -> int:
    wait_idle(page, timeout=120_000)  # the script has finished and no widget is a skeleton
    page.wait_for_function(CHARTS_DRAWN, polling=250, timeout=120_000)
    wait_idle(page, timeout=120_000)
    plots = page.locator(".js-plotly-plot")
    problems = []
    (SCREENSHOTS / "charts").mkdir(parents=True, exist_ok=True)
    for index in range(plots.count()):
        plot = plots.nth(index)
        plot.scroll_into_view_if_needed()
        plot.screenshot(path=str(SCREENSHOTS / "charts" / f"{name}_{index}.png"))
        problems += [f"chart {index}: {p}" for p in overlaps(plot.evaluate(BOXES))]
    assert problems == [], f"{name}: " + "; ".join(problems)
    return plots.count()


def finished_runs() -> None:
    """Five finished runs with curves in the shared app's runs folder (written directly)."""
    from cv_core.runs import create_run, list_runs, preset_spec
    from cv_core.runs.files import update_status, write_metrics

    root = os.environ["CONVNET_LAB_RUNS_E2E"]
    finished = [run for run in list_runs(root) if run.metrics and run.state == "completed"]
    for seed in range(len(finished), 5):  # five finished runs with curves, written directly
        run_dir = create_run(preset_spec("tiny", epochs=3, seed=seed, conv_type=("separable", "conv2d")[seed % 2]),
                             root)
        write_metrics(run_dir, [{"epoch": e, "loss": 1.6 - 0.2 * e, "accuracy": 0.2 + 0.1 * e + 0.01 * seed,
                                 "val_loss": 1.7 - 0.15 * e, "val_accuracy": 0.2 + 0.08 * e, "seconds": 1.0}
                                for e in (1, 2, 3)])
        update_status(run_dir, state="completed", finished_at=1.0)


@pytest.mark.parametrize("width", [1280, 1920])
def test_no_chart_text_overlaps(browser, app_server, width):
    finished_runs()
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
        # Five chosen runs: every chip is whole inside the picker (the last one used to be cut off).
        picker = page.get_by_test_id("stMultiSelect")
        for _ in range(5):
            if picker.locator("[data-tag]").count() >= 5:
                break
            picker.locator("input").click()
            options = page.get_by_role("option")
            if options.count() == 0:
                page.keyboard.press("Escape")
                break
            options.first.click()
            page.keyboard.press("Escape")
            wait_idle(page, timeout=120_000)
        assert picker.locator("[data-tag]").count() >= 5
        box = picker.get_by_test_id("stMultiSelectTagsContainer").bounding_box()
        for index in range(picker.locator("[data-tag]").count()):
            chip = picker.locator("[data-tag]").nth(index).bounding_box()
            assert box["y"] - 1 <= chip["y"] and chip["y"] + chip["height"] <= box["y"] + box["height"] + 1
            assert chip["x"] + chip["width"] <= box["x"] + box["width"] + 1
        page.get_by_test_id("stMultiSelect").screenshot(path=str(SCREENSHOTS / "charts" / f"{width}_picker.png"))
        page.goto(app_server + "/compare_runs?compare_runs_tab=Run+the+grid")
        check_charts(page, f"{width}_grid")
    finally:
        page.close()


ROOT = Path(__file__).resolve().parents[2]
#: The views with charts, by the page file whose translation they show: (file, URL path and query,
#: the least number of charts it draws). Tabs are named in English in the URL in every language.
CHART_VIEWS = [
    ("pages/architecture_lab.py", "/architecture_lab", 2),
    ("pages/architecture_lab.py", "/architecture_lab?architecture_lab_tab=Residual+connections"
                                  "&architecture_lab_grad_depth=40", 1),
    ("pages/architecture_lab.py", "/architecture_lab?architecture_lab_tab=Batch+normalisation"
                                  "&architecture_lab_bn_steps=200", 1),
    ("pages/architecture_lab.py", "/architecture_lab?architecture_lab_tab=Train", 0),
    ("pages/compare_runs.py", "/compare_runs", 2),
    ("pages/compare_runs.py", "/compare_runs?compare_runs_tab=Run+the+grid", 0),
    ("pages/datasets.py", "/datasets", 0),
    ("pages/segmentation.py", "/segmentation", 0),
    ("pages/detection.py", "/detection", 0),
    ("pages/instances.py", "/instances", 0),
    ("pages/keypoints.py", "/keypoints", 0),
    ("pages/activations.py", "/activations", 0),
    ("pages/heatmaps.py", "/heatmaps", 0),
    ("pages/similarity.py", "/similarity", 0),
]


def test_chart_views_name_pages_of_the_lab():
    for file, url, _least in CHART_VIEWS:
        assert (ROOT / file).is_file(), file
        assert url.split("?")[0] == "/" + Path(file).stem  # each page's url_path is its file name (app.py)


def chinese_views(on_page_address: bool) -> list[tuple[str, str, int]]:
    """The translated chart views at a page's own address (no query), or the others: the Chinese page
    sweep (``test_translations_browser``) opens the pages' own addresses anyway and checks their charts."""
    untranslated = pending()  # locale/pending.txt, read now
    return [(file, url, least) for file, url, least in CHART_VIEWS
            if file not in untranslated and ("?" not in url) == on_page_address]


def test_no_chart_text_overlaps_in_chinese(browser, app_server):
    """Chinese labels are wider and taller than English ones: the same check at 1280 px, in zh-TW, on the
    views behind a tab or a setting in the address (the pages' own addresses: see the Chinese page sweep)."""
    views = chinese_views(on_page_address=False)
    if not views:
        pytest.skip("no chart page is translated yet (all listed in locale/pending.txt)")
    finished_runs()
    page = browser.new_page(viewport={"width": 1280, "height": 1200})
    try:
        for file, url, least in views:
            page.goto(app_server + url + ("&" if "?" in url else "?") + "lang=zh-TW")
            name = "zh-TW_1280_" + re.sub(r"[^A-Za-z0-9]+", "_", url.strip("/"))
            count = check_charts(page, name)
            assert count >= least, f"{url}: {count} charts, expected at least {least}"
            title = page.locator("h1").first.inner_text()
            assert re.search(r"[\u4e00-\u9fff]", title), f"{url} is not in Chinese: {title!r}"
    finally:
        page.close()
