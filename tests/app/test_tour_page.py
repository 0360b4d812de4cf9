"""AppTest for the Chapter 9 tour: every step walked with Next and Previous (the step in the URL), a
step read from the URL, the Quick preset started from a step that needs a run (the fake worker trains
it), and the page in Traditional Chinese."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cv_core.runs import list_runs, request_cancel
from cv_core.tour import SECTIONS, STEPS

APP = str(Path(__file__).resolve().parents[2] / "app.py")
FINAL = ("completed", "failed", "cancelled", "interrupted")


@pytest.fixture
def runs_root(tmp_path, monkeypatch, fake_worker):
    root = tmp_path / "runs"
    monkeypatch.setenv("CONVNET_LAB_RUNS", str(root))
    monkeypatch.setenv("CONVNET_LAB_FAKE_BATCH_SECONDS", "0.02")
    for name in ("CONVNET_LAB_SERVE", "CONVNET_LAB_OPERATOR_TOKEN", "CONVNET_LAB_DATA_ROOTS",
                 "CONVNET_LAB_MAX_RUNS_PER_BROWSER"):
        monkeypatch.delenv(name, raising=False)
    return root


def open_tour(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params.update(query or {})
    at.run()
    at.switch_page("pages/tour.py").run()
    assert not at.exception, at.exception
    return at


def step_in_url(at: AppTest) -> str:
    value = at.query_params["step"]
    return value[0] if isinstance(value, list) else value


def shown_title(at: AppTest) -> str:
    """The step's title (the markdown heading under the section's subheader)."""
    return next(m.value.removeprefix("#### ") for m in at.markdown if m.value.startswith("#### "))


def button(at: AppTest, key: str):
    return at.button(key=key)


def wait_until_final(root, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        runs = list_runs(root)
        if runs and all(r.state in FINAL for r in runs):
            return runs
        time.sleep(0.5)
    raise AssertionError(f"runs did not finish: {[(r.id, r.state) for r in list_runs(root)]}")


def test_opens_at_the_first_step_and_writes_it_into_the_url(runs_root):
    at = open_tour()
    assert at.title[0].value == "Chapter 9 tour"
    assert step_in_url(at) == STEPS[0].key
    assert shown_title(at) == STEPS[0].title
    assert at.subheader[0].value == f"9-1 {SECTIONS['9-1']}"
    assert button(at, "tour_previous_top").disabled and not button(at, "tour_next_top").disabled
    # The three tasks on one picture: the picture, its mask, its boxes; the label named.
    assert len(at.get("image")) == 3
    assert any("**Image classification**" in m.value for m in at.markdown)


def test_a_step_comes_from_the_url_and_an_unknown_one_falls_back_to_the_first(runs_root):
    at = open_tour({"step": "niche"})
    assert shown_title(at) == "Three niche tasks" and step_in_url(at) == "niche"
    pages = {e.proto.page for e in at.get("page_link")}
    assert {"similarity", "keypoints"} <= pages
    assert ("instances" in pages) == (Path(APP).parent / "pages" / "instances.py").is_file()
    at = open_tour({"step": "no-such-step"})
    assert shown_title(at) == STEPS[0].title and step_in_url(at) == STEPS[0].key


@pytest.mark.slow
def test_previous_walks_back_one_step_at_a_time_and_stops_at_the_first(runs_root):
    """Previous (top and bottom) from the last step, and at the first step; each step with its section
    heading and no error. Every step is drawn, without an error, in the browser's walk
    (e2e test_walk_the_tour_with_next_and_previous)."""
    at = open_tour({"step": STEPS[-1].key})
    assert step_in_url(at) == STEPS[-1].key and shown_title(at) == STEPS[-1].title
    assert button(at, "tour_next_top").disabled and button(at, "tour_next_bottom").disabled
    for key, step in (("tour_previous_top", STEPS[-2]), ("tour_previous_bottom", STEPS[-3])):
        button(at, key).click().run()
        assert not at.exception, (step.key, at.exception)
        assert step_in_url(at) == step.key and shown_title(at) == step.title
        assert at.subheader[0].value == f"{step.section} {SECTIONS[step.section]}"
        assert not at.error, (step.key, [e.value for e in at.error])
    at = open_tour({"step": STEPS[1].key})
    button(at, "tour_previous_top").click().run()
    assert step_in_url(at) == STEPS[0].key and shown_title(at) == STEPS[0].title and not at.error
    assert button(at, "tour_previous_top").disabled and button(at, "tour_previous_bottom").disabled
    button(at, "tour_next_bottom").click().run()
    assert step_in_url(at) == STEPS[1].key


def test_the_step_picker_jumps_to_any_step(runs_root):
    at = open_tour()
    at.selectbox(key="tour_jump_tasks_en").select("9-1 · Three niche tasks").run()
    assert step_in_url(at) == "niche" and shown_title(at) == "Three niche tasks"


@pytest.mark.slow
def test_each_live_piece_is_drawn(runs_root):
    """What each step embeds: the anatomy's pyramid, the gradient chart, the grid's reference numbers,
    the six principles with their measurements, the SqueezeNet heatmap on the bundled photo."""
    at = open_tour({"step": "bn-placement"})
    from cv_core.runs import build_model, preset_spec
    from cv_core.tour import REFERENCE_GRID

    (table,) = [df.value for df in at.dataframe]
    assert len(table) == 6
    # Each variant's parameters are those of the model the builder makes (the grid's measured accuracy beside it).
    built = [f"{build_model(preset_spec('quick', conv_type=r['conv_type'], batchnorm=r['batchnorm']), 5).count_params():,}"
             for r in REFERENCE_GRID]
    assert list(table["parameters"]) == built
    assert list(table["best val. accuracy (mean ± std)"])[0] == "93.0% ± 1.4"
    codes = [c.value for c in at.code]
    assert any("block1_bn1  ·  BatchNormalization" in c for c in codes)
    # Listing 9.4's block: the activation comes before the batch normalization.
    after = next(c for c in codes if "block1_act1" in c and c.index("block1_act1") < c.index("block1_bn1"))
    assert "block1_sepconv1" in after
    at = open_tour({"step": "principles"})
    texts = " ".join(m.value for m in at.markdown)
    assert texts.count("**1.**") == 1 and "**6.**" in texts
    assert "50,405 parameters with SeparableConv2D" in texts  # the Quick model, as built (README › Models)


@pytest.mark.slow
def test_interpretation_steps_explain_the_bundled_photo(runs_root):
    at = open_tour({"step": "heatmap"})
    captions = [img.proto.imgs[0].caption for img in at.get("image")]
    assert "chelsea" in captions
    assert any(c.startswith("Grad-CAM at `conv10`") for c in captions)
    links = {(e.proto.page, e.proto.query_string) for e in at.get("page_link")}
    assert any(page == "heatmaps" and "model=pretrained%3Asqueezenet" in query for page, query in links)


@pytest.mark.slow
def test_a_step_that_needs_a_run_starts_the_quick_preset(runs_root):
    at = open_tour({"step": "curves"})
    assert not list_runs(runs_root)
    assert any("No mini-Xception run yet" in i.value for i in at.info)
    assert not at.get("plotly_chart")  # never an empty chart
    button(at, "tour_curves_start_quick").click().run()
    assert not at.exception
    (run,) = list_runs(runs_root)
    assert run.spec.preset == "quick" and run.task.name == "classification" and run.spec.model == "mini_xception"
    assert run.owner is not None
    assert at.query_params["tour_curves_run"] in (run.id, [run.id])
    assert step_in_url(at) == "curves"
    assert any(run.id in c.value for c in at.caption)  # the live panel follows it
    request_cancel(run.dir)
    wait_until_final(runs_root)


@pytest.mark.slow
def test_segmentation_step_without_a_model_shows_the_true_mask_and_the_quick_button(runs_root):
    at = open_tour({"step": "segmentation"})
    captions = [img.proto.imgs[0].caption for img in at.get("image")]
    assert "Its true segmentation mask" in captions and "Instance segmentation: one colour per object" in captions
    button(at, "tour_seg_start_quick").click().run()
    assert not at.exception
    (run,) = list_runs(runs_root)
    assert run.task.name == "segmentation" and run.spec.preset == "quick"
    assert any("The predicted mask appears here" in i.value for i in at.info)
    request_cancel(run.dir)
    wait_until_final(runs_root)


@pytest.mark.slow
def test_curves_of_a_finished_run_are_drawn(runs_root):
    from cv_core.runs import preset_spec, submit_run

    submit_run(preset_spec("tiny", epochs=2), runs_root)
    (run,) = wait_until_final(runs_root)
    at = open_tour({"step": "curves"})
    titles = [chart.proto.spec for chart in at.get("plotly_chart")]
    assert len(titles) == 2 and "Training and validation accuracy" in titles[0]
    assert any(run.id in c.value and "2 epochs" in c.value for c in at.caption)


@pytest.fixture
def chinese(monkeypatch):
    """The app in Traditional Chinese: ?lang=zh-TW, and where the lab has no language switch yet, a
    language source that answers zh-TW (the one ``ui.i18n`` installs replaces it)."""
    from cv_core import i18n

    if importlib.util.find_spec("ui.i18n") is None:
        monkeypatch.setattr(i18n, "_source", lambda: "zh-TW")
    return {"lang": "zh-TW"}


def test_the_tour_in_traditional_chinese(runs_root, chinese):
    at = open_tour(chinese)
    assert at.title[0].value == "第 9 章導覽"
    assert at.subheader[0].value == "9-1 電腦視覺的三項基本任務"
    assert shown_title(at) == "同一張圖片上的三項基本任務"
    text = " ".join(m.value for m in at.markdown)
    for term in ("影像分類", "影像分割", "物體偵測", "邊界框"):
        assert term in text
    assert [b.label for b in at.button][:2] == ["上一步", "下一步"]
    assert at.selectbox(key="tour_jump_tasks_zh-TW").label == "步驟"
    button(at, "tour_next_top").click().run()
    assert step_in_url(at) == "niche" and shown_title(at) == "三項電腦視覺的小眾任務"
    text = " ".join(m.value for m in at.markdown)
    for term in ("電腦視覺的小眾任務", "影像相似性評分", "關鍵點偵測", "姿勢預估", "實體分割"):
        assert term in text


@pytest.mark.slow
def test_figure_9_6_shows_a_segmentation_runs_predicted_mask(runs_root):
    """With a segmentation run that saved a model: a test picture of its dataset, the predicted mask
    beside the true one (the Segmentation page's own row), and a link that opens the run there."""
    from tests.app.segmentation_runs import built_run

    run_dir = built_run(runs_root)
    at = open_tour({"step": "segmentation", "tour_seg_picture": "3"})
    assert not [b for b in at.button if b.label == "Start the Quick preset"]
    captions = [img.proto.imgs[0].caption for img in at.get("image")]
    assert "Predicted mask" in captions and "True mask" in captions
    assert at.number_input(key="tour_seg_picture").value == 3
    assert any(run_dir.name in c.value for c in at.caption)
    (link,) = [e.proto for e in at.get("page_link") if e.proto.page == "segmentation"]
    assert f"run={run_dir.name}" in link.query_string and "segmentation_index=3" in link.query_string
