"""A person opens the Instance segmentation page, moves the score slider, sees the objects, and downloads
a picture's objects as COCO JSON; the page's picture for the README is taken on the way.

By default the runs are built, not trained (tests/app/instance_runs.py: an untrained model's objects
score under 0.1). With ``CONVNET_LAB_INSTANCE_SHOT_RUNS`` naming a folder holding a trained instance
run and a trained segmentation run (the Quick presets on crowded shapes), those are copied in instead
and the screenshot is also written to ``assets/screenshot-instances.png``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import running_app, screenshot, wait_idle

pytestmark = pytest.mark.browser

ASSETS = Path(__file__).resolve().parents[2] / "assets"
SHOT_RUNS = "CONVNET_LAB_INSTANCE_SHOT_RUNS"
WAIT = 180_000


def make_runs(root: Path) -> tuple[Path, bool]:
    """The instance run the page shows (and a segmentation run beside it); True when they are trained."""
    trained = os.environ.get(SHOT_RUNS)
    if trained:
        copied = []
        for source in sorted(Path(trained).iterdir()):
            summary = source / "summary.json"
            if source.is_dir() and summary.exists() and (source / "best.keras").exists():
                task = json.loads(summary.read_text()).get("task")
                if task in ("instances", "segmentation"):
                    shutil.copytree(source, root / source.name, ignore=shutil.ignore_patterns("tensorboard", "backup"))
                    copied.append((task, root / source.name))
        (instance,) = [path for task, path in copied if task == "instances"][:1]
        return instance, True
    from tests.app import instance_runs, segmentation_runs

    segmentation_runs.built_run(root)
    return instance_runs.built_run(root), False


def shown_count(page) -> int:
    return int(page.locator(".st-key-instances_count [data-testid=stMetricValue]").inner_text())


def test_open_move_the_slider_see_objects_and_download_coco_json(browser, tmp_path):
    runs = tmp_path / "runs"
    instance, trained = make_runs(runs)
    # A crowded picture where the trained model tells a touching pair apart (validation 11: measured with
    # the Quick runs); the built run's every object scores under 0.1.
    index, score_steps = ("11", 0) if trained else ("0", 4)
    with running_app(runs, tmp_path, data=tmp_path / "data") as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1500}, accept_downloads=True)
        page.set_default_timeout(60_000)
        page.goto(f"{url}/instances?run={instance.name}&instances_index={index}")
        expect(page.get_by_role("heading", name="Instance segmentation", exact=True)).to_be_visible()
        wait_idle(page, timeout=WAIT)
        expect(page.locator(".st-key-instances_objects .js-plotly-plot")).to_have_count(1, timeout=WAIT)
        before = shown_count(page)
        if not trained:
            assert before == 0  # nothing above the default threshold 0.2
        # Move the score slider down with the keyboard: only the objects' fragment reruns.
        slider = page.locator(".st-key-instances_score input[type=range]")
        slider.focus()
        for _ in range(score_steps):
            page.keyboard.press("ArrowLeft")
        wait_idle(page, timeout=WAIT)
        if score_steps:
            expect(slider).to_have_value("0")
            page.wait_for_function("(n) => { const m = document.querySelector("
                                   "'.st-key-instances_count [data-testid=stMetricValue]');"
                                   " return m && Number(m.innerText) > n; }", arg=before, timeout=WAIT)
        shown = shown_count(page)
        assert shown > 0
        # Each object has its label on the picture and a row in the table.
        expect(page.locator(".st-key-instances_objects .annotation")).to_have_count(shown)
        expect(page.get_by_test_id("stDataFrame")).to_have_count(2)  # the objects, and the validation scores
        # Download the objects as COCO JSON: one annotation per object shown, in the picture's pixels.
        with page.expect_download(timeout=WAIT) as info:
            page.get_by_role("button", name="COCO JSON").click()
        data = json.loads(Path(info.value.path()).read_text())
        assert len(data["annotations"]) == shown
        assert {a["category_id"] for a in data["annotations"]} <= {c["id"] for c in data["categories"]}
        (image,) = data["images"]
        assert (image["height"], image["width"]) == ((64, 64) if trained else (32, 32))
        assert all(a["iscrowd"] == 0 and a["area"] > 0 and len(a["bbox"]) == 4 for a in data["annotations"])
        expect(page.get_by_test_id("stException")).to_have_count(0)
        wait_idle(page, timeout=WAIT)
        # Both approaches' validation scores: the segmentation run is scored on request.
        page.get_by_role("button", name="Score the segmentation run").click()
        wait_idle(page, timeout=WAIT)
        expect(page.get_by_test_id("stException")).to_have_count(0)
        # The picture for the README: the whole page down to the validation scores, no tooltip over it.
        page.mouse.move(5, 5)
        page.set_viewport_size({"width": 1400, "height": 2700})
        wait_idle(page, timeout=WAIT)
        page.get_by_test_id("stMain").evaluate("element => element.scrollTo(0, 0)")
        page.wait_for_timeout(1000)
        shot = screenshot(page, "instances")
        if trained:
            shutil.copy(shot, ASSETS / "screenshot-instances.png")
        page.close()
