"""AppTest for the Segmentation page (predict, objects, boxes, where it looked, train) and the Mask
studio's segmentation hooks (start from the model's prediction; train or fine-tune on your masks).

Most tests use a run folder whose model is built, not trained (seconds instead of minutes); one
test trains a Tiny run from the page through a real worker.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from cv_core.datasets import UserMaskStore, open_dataset
from cv_core.runs import list_runs
from cv_core.segmentation import DEFAULT_MIN_AREA
from tests.app.segmentation_runs import SHAPES, built_run

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "pages/segmentation.py"
FINAL = ("completed", "failed", "cancelled", "interrupted")


@pytest.fixture
def roots(lab_roots):
    return lab_roots


def open_page(path: str = PAGE, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update(query or {})
    at.run()
    at.switch_page(path).run()
    assert not at.exception, at.exception
    return at


def text(at: AppTest) -> str:
    kinds = ("markdown", "caption", "info", "warning", "error", "success", "subheader")
    return " ".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def wait_until_final(root, count, timeout=240):
    deadline = time.time() + timeout
    while time.time() < deadline:
        runs = list_runs(root)
        if len(runs) == count and all(r.state in FINAL for r in runs):
            return runs
        time.sleep(0.5)
    raise AssertionError(f"runs did not finish: {[(r.id, r.state) for r in list_runs(root)]}")


def test_without_a_trained_model_the_page_points_to_train(roots):
    at = open_page()
    assert at.title[0].value == "Segmentation"
    assert "No segmentation model yet" in text(at)


def test_predicted_masks_objects_boxes_and_where_it_looked(roots):
    runs_root, _ = roots
    run_dir = built_run(runs_root)
    at = open_page()
    assert "Trained segmentation run" in [s.label for s in at.selectbox]
    assert at.query_params["run"] == run_dir.name
    assert "Predicted mask" in text(at)
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    hovers = [trace.get("hovertemplate", "") for figure in figures for trace in figure["data"]]
    assert sum("p = " in h for h in hovers) == 2  # the overlay and the confidence map name class and probability
    scores = [df.value for df in at.dataframe if "IoU" in df.value.columns]
    assert scores and set(scores[0].columns) >= {"class", "IoU", "Dice"}
    before = [f for f in figures if f["data"][0]["type"] == "image"][0]["data"][0]["z"]
    at.slider(key="segmentation_opacity").set_value(1.0).run()
    assert not at.exception
    after = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert [f for f in after if f["data"][0]["type"] == "image"][0]["data"][0]["z"] != before
    at.button(key="segmentation_score_boxes").click().run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert set(metrics) >= {"Precision", "Recall", "AP @ IoU 0.5"}
    assert "validation pictures" in text(at)
    assert "Where the model looked" in text(at)
    assert "Target layer" in [s.label for s in at.selectbox]
    assert at.selectbox(key="segmentation_cam_layer").value == "up2_deconv2"  # not the classifier itself


def test_an_upload_is_segmented_without_scores(roots):
    runs_root, _ = roots
    built_run(runs_root)
    at = open_page()
    at.segmented_control(key="segmentation_source").set_value("Upload").run()
    photo = np.zeros((60, 90, 3), np.uint8)
    photo[10:40, 20:60] = (220, 40, 40)
    at.file_uploader(key="segmentation_upload").set_value(("red.png", png(photo), "image/png")).run()
    assert not at.exception
    assert "No true mask for an upload" in text(at)
    assert not [df for df in at.dataframe if "IoU" in df.value.columns]
    charts = {chart.key for chart in at.get("plotly_chart")}
    assert {"segmentation_overlay", "segmentation_confidence"} <= charts
    assert charts <= {"segmentation_overlay", "segmentation_confidence", "segmentation_objects_picture"}


@pytest.mark.slow
def test_the_train_tab_trains_a_tiny_run_that_the_predict_tab_then_offers(roots):
    runs_root, _ = roots
    at = open_page(query={"segmentation_tab": "Train", "segmentation_preset": "Tiny"})
    metrics = {m.label: m.value for m in at.metric}
    from cv_core.runs import build_model, preset_spec

    expected = build_model(preset_spec("tiny", task="segmentation"), len(SHAPES)).count_params()  # 6 classes
    assert metrics["Parameters"] == f"{expected:,}"
    assert "U-Net (skip connections)" in at.radio(key="segmentation_tiny_model").options
    at.button(key="segmentation_train").click().run()
    assert not at.exception
    (run,) = wait_until_final(runs_root, 1)
    assert run.state == "completed" and run.spec.task == "segmentation"
    assert run.summary["params"] == expected
    at.run()
    assert any(s.value.startswith("Completed: best validation mean IoU") for s in at.success)
    (scores,) = [df.value for df in at.dataframe if "validation IoU" in df.value.columns]
    assert len(scores) == 6 and {"validation Dice", "test IoU", "test Dice"} <= set(scores.columns)
    predict = open_page(query={"segmentation_tab": "Predict"})  # the tab is in the URL, as after a reload
    assert predict.selectbox(key="segmentation_model_run").value == run.id


def test_compare_runs_scores_segmentation_runs_by_mean_iou(roots):
    runs_root, _ = roots
    seg = built_run(runs_root)
    at = open_page("pages/compare_runs.py")
    at.multiselect(key="compare_runs_chosen").set_value([seg.name]).run()
    assert not at.exception
    (table,) = [df.value for df in at.dataframe if "best val. mean IoU" in df.value.columns]
    assert table["best val. mean IoU"].tolist() == ["0.180"] and table["test mean IoU"].tolist() == ["0.170"]
    titles = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "Mean IoU" in titles and "Pixel accuracy" in titles


# -- the Mask studio -------------------------------------------------------------------------


def test_mask_studio_starts_from_the_models_prediction(roots):
    runs_root, data_root = roots
    run_dir = built_run(runs_root)
    UserMaskStore(data_root / "user_masks").create("mine", SHAPES)
    at = open_page("pages/mask_studio.py")
    assert at.selectbox(key="mask_studio_model_run").value == run_dir.name
    assert "The model's prediction" in at.radio(key="mask_studio_start").options
    at.radio(key="mask_studio_start").set_value("model").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert f"Mean IoU with the prediction of run {run_dir.name}" in metrics


@pytest.mark.slow
def test_mask_studio_fine_tunes_a_run_on_your_masks(roots):
    runs_root, data_root = roots
    parent = built_run(runs_root)
    store = UserMaskStore(data_root / "user_masks")
    store.create("pets", ["background", "pet"])  # 2 classes: the fine-tuned model's last layer starts afresh
    shapes = open_dataset("shapes", image_size=64, difficulty="easy")
    for sample in shapes.samples("train", count=6):
        store.save_mask("pets", sample.image, (sample.mask > 0).astype(np.uint8))
    at = open_page("pages/mask_studio.py")
    assert "Train a segmentation model on pets" in text(at)
    at.selectbox(key="mask_studio_train_from").set_value(parent.name).run()
    at.select_slider(key="mask_studio_train_size").set_value(64).run()
    at.number_input(key="mask_studio_train_epochs").set_value(1).run()
    at.button(key="mask_studio_train_go").click().run()
    assert not at.exception
    runs = wait_until_final(runs_root, 2)
    (tuned,) = [r for r in runs if r.dir != parent]
    assert tuned.state == "completed", (tuned.dir / "worker.log").read_text()
    assert tuned.spec.dataset == "user:pets" and tuned.spec.continues == str(parent)
    assert tuned.summary["class_names"] == ["background", "pet"]
    assert "(new: predictions, whose shapes differ)" in (tuned.dir / "worker.log").read_text()
    at.run()
    assert any("Fine-tunes the final weights of run" in c.value for c in at.caption)


@pytest.mark.parametrize("page, prefix, book", [
    (PAGE, "segmentation", "the book's model on Oxford pets at 200 px"),
    ("pages/detection.py", "detection", "Oxford pets' head boxes at 128 px"),
])
def test_preset_captions_describe_the_tasks_presets(roots, page, prefix, book):
    at = open_page(page, query={f"{prefix}_tab": "Train"})
    captions = list(at.radio(key=f"{prefix}_preset").proto.captions)
    assert len(captions) == 3 and captions[2].startswith(book)
    assert not any("180 px" in c for c in captions)  # the classification book preset's size


def test_no_objects_says_when_predicted_pixels_are_too_small_to_count(roots, monkeypatch):
    # "No objects: the model predicts only the background" appeared although the mask had pixels of a
    # class, all in regions under the smallest object size. A model that predicts three lone star pixels:
    import ui.segmentation

    star = SHAPES.index("star")

    def specks(_subject, subject_key, picture_key, view):
        probabilities = np.zeros((*view.shape[:2], len(SHAPES)), np.float32)
        probabilities[..., 0] = 1.0
        for y, x in ((2, 2), (10, 20), (20, 5)):
            probabilities[y, x] = np.eye(len(SHAPES))[star]
        return probabilities

    monkeypatch.setattr(ui.segmentation, "predict", specks)
    runs_root, _ = roots
    built_run(runs_root)
    at = open_page()
    message = " ".join(i.value for i in at.info)
    assert "only the background" not in message
    assert ("The model marks 3 pixels of star, but no region of them reaches the smallest object size of "
            f"{DEFAULT_MIN_AREA} pixels (the largest has 1).") in message
    at.slider(key="segmentation_min_area").set_value(1).run()
    (objects,) = [df.value for df in at.dataframe if "area (px)" in df.value.columns]
    assert objects["object"].tolist() == ["star 1", "star 2", "star 3"]


def test_the_picture_and_the_choices_come_back_from_the_url(roots):
    # A reload lost the picture number and the opacity although the README said the picture was kept.
    # The browser writes bound choices to the address (tests/e2e checks that round trip); here, an
    # address with them gives the same page.
    runs_root, _ = roots
    run_dir = built_run(runs_root)
    at = open_page(query={"run": run_dir.name, "source": "Sample", "segmentation_split": "validation",
                          "segmentation_index": "5", "segmentation_opacity": "0.8", "segmentation_min_area": "12",
                          "segmentation_cam_method": "HiResCAM", "segmentation_cam_layer": "down2_conv2"})
    assert not at.exception
    assert at.number_input(key="segmentation_index").value == 5
    assert at.slider(key="segmentation_opacity").value == pytest.approx(0.8)
    assert at.slider(key="segmentation_min_area").value == 12
    assert at.selectbox(key="segmentation_cam_method").value == "hires_cam"
    assert at.selectbox(key="segmentation_cam_layer").value == "down2_conv2"
