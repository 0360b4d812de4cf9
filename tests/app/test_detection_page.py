"""AppTest for the Detection page: boxes with a score and an NMS slider that only filter cached
candidates, hits / misses / false positives against the truth, boxes from a segmentation model,
mAP and the two approaches on the validation split, and training a detector.

Most tests use run folders whose models are built, not trained (seconds instead of minutes); one
test trains a Tiny detector from the page through a real worker.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from cv_core.runs import list_runs
from tests.app import detection_runs, segmentation_runs
from tests.app.helpers import figures_by_id as figures
from tests.app.helpers import metrics, page_opener, png, text

PAGE = "pages/detection.py"
FINAL = ("completed", "failed", "cancelled", "interrupted")
open_page = page_opener(PAGE, timeout=180)


@pytest.fixture
def roots(lab_roots):
    return lab_roots[0]


def legend(figure: dict) -> list[str]:
    return [trace.get("name") for trace in figure["data"] if trace.get("showlegend", True) and trace.get("name")]


def test_without_a_model_the_page_points_to_train_and_segmentation(roots):
    at = open_page()
    assert at.title[0].value == "Detection"
    assert "No detector yet" in text(at) and "Segmentation page" in text(at)


@pytest.mark.slow  # about 3 s here: left out of the fast lane
def test_boxes_thresholds_outcomes_and_the_validation_split(roots):
    seg = segmentation_runs.built_run(roots)
    det = detection_runs.built_run(roots)
    at = open_page()
    assert at.selectbox(key="detection_model_run").value == det.name and at.query_params["run"] == det.name
    # An untrained detector's candidates score about 0.1: none pass 0.3, some pass 0.1.
    assert metrics(at)["Boxes shown"] == "0"
    at.slider(key="detection_score").set_value(0.1).run()
    assert not at.exception
    shown = int(metrics(at)["Boxes shown"])
    assert shown > 0
    assert {"Hits", "False positives", "Missed"} <= set(metrics(at))
    charts = [f for f in figures(at).values() if f["layout"]["title"]["text"].startswith(f"{shown} predicted box")]
    assert len(charts) == 1
    outcome = [f for f in figures(at).values() if f["layout"]["title"]["text"] == "Against the true boxes"][0]
    names = legend(outcome)
    assert any(n.startswith("true box, missed") for n in names) and any(n.startswith("false positive") for n in names)
    (table,) = [df.value for df in at.dataframe if "outcome" in df.value.columns]
    assert len(table) == shown and set(table["outcome"]) <= {"hit", "false positive"}
    # NMS at 1 keeps every candidate above the threshold; it can only add boxes.
    at.slider(key="detection_nms").set_value(1.0).run()
    assert int(metrics(at)["Boxes shown"]) >= shown
    # The validation split: mAP, per-class precision-recall, and the segmentation run beside it.
    assert at.selectbox(key="detection_other_run").value == seg.name
    at.button(key="detection_score_validation").click().run()
    assert not at.exception
    assert {"mAP@0.5", "mAP@0.5:0.95", "Pictures scored"} <= set(metrics(at)) and metrics(at)["Pictures scored"] == "32"
    titles = [f["layout"]["title"]["text"] for f in figures(at).values()]
    assert "Precision–recall at IoU 0.5, class by class" in titles and "AP@0.5 by class, side by side" in titles
    (comparison,) = [df.value for df in at.dataframe if "approach" in df.value.columns]
    assert [a.split(" (")[0] for a in comparison["approach"]] == ["Detector", "Boxes from segmentation"]
    assert {"mAP@0.5", "mAP@0.5:0.95", "AP@0.5 circle"} <= set(comparison.columns)


def test_a_segmentation_run_finds_boxes_too_and_an_upload_has_no_truth(roots):
    seg = segmentation_runs.built_run(roots)
    at = open_page({"run": seg.name})
    assert at.selectbox(key="detection_model_run").value == seg.name
    assert "connected region" in text(at) and "Boxes shown" in metrics(at)
    assert "To set a detector beside these boxes" in text(at)
    at.segmented_control(key="detection_source").set_value("Upload").run()
    photo = np.zeros((60, 90, 3), np.uint8)
    photo[10:40, 20:60] = (220, 40, 40)
    at.file_uploader(key="detection_upload").set_value(("red.png", png(photo), "image/png")).run()
    assert not at.exception
    assert "No true boxes for your own picture" in text(at) and "Hits" not in metrics(at)


def test_compare_runs_scores_detection_runs_by_map(roots):
    det = detection_runs.built_run(roots)
    at = open_page(path="pages/compare_runs.py")
    at.multiselect(key="compare_runs_chosen").set_value([det.name]).run()
    assert not at.exception
    (table,) = [df.value for df in at.dataframe if "best val. mAP@0.5" in df.value.columns]
    assert table["best val. mAP@0.5"].tolist() == ["0.250"] and table["test mAP@0.5"].tolist() == ["0.200"]
    titles = " ".join(c.proto.spec for c in at.get("plotly_chart"))
    assert "mAP@0.5:0.95" in titles and "Heatmap loss" in titles


@pytest.mark.slow
def test_the_train_tab_trains_a_tiny_detector_that_the_page_then_offers(roots):
    at = open_page({"detection_tab": "Train", "detection_preset": "Tiny"})
    from cv_core.runs import architecture_cost, preset_spec

    expected = architecture_cost(preset_spec("tiny", task="detection"), 5).params
    assert metrics(at)["Parameters"] == f"{expected:,}"
    assert "CenterNet-style detector, output stride 8 (coarser, faster)" in \
        at.radio(key="detection_tiny_model").options
    at.button(key="detection_train").click().run()
    assert not at.exception
    deadline = time.time() + 240
    while time.time() < deadline and not (list_runs(roots) and list_runs(roots)[0].state in FINAL):
        time.sleep(0.5)
    (run,) = list_runs(roots)
    assert run.state == "completed" and run.spec.task == "detection", (run.dir / "worker.log").read_text()
    at.run()
    assert any(s.value.startswith("Completed: best validation mAP@0.5") for s in at.success)
    (scores,) = [df.value for df in at.dataframe if "score" in df.value.columns]
    assert scores["score"].tolist()[:3] == ["mAP@0.5, all classes", "mAP@0.5:0.95, all classes", "AP@0.5, 0 · circle"]
    assert len(scores) == 7 and list(scores.columns) == ["score", "validation", "test"]
    curves = " ".join(c.proto.spec for c in at.get("vega_lite_chart"))  # the Train tab's live curves
    assert "mAP@0.5" in curves and "Offset loss" in curves
    found = open_page({"detection_tab": "Find boxes"})
    assert found.selectbox(key="detection_model_run").value == run.id


def test_the_box_table_never_shows_a_box_of_zero_size():
    # A detector's box 1 px wide at half pixels read "4, 18, 4, 19" when rounded to whole pixels.
    from ui.detection import boxes_table

    boxes = [(0, 3.5, 18.0, 4.5, 19.0, 0.3), (1, 27.0, 18.0, 28.0, 19.0, 0.2), (2, 23.35, 26.19, 25.15, 27.27, 0.19)]
    rows = boxes_table(boxes, [True, False, False], ["circle", "square", "triangle"])
    for row, box in zip(rows, boxes):
        x0, y0, x1, y1 = (float(v) for v in row["box (x0, y0, x1, y1)"].split(", "))
        assert x1 > x0 and y1 > y0
        assert (x0, y0, x1, y1) == pytest.approx(box[1:5], abs=0.05)
    assert rows[1]["box (x0, y0, x1, y1)"] == "27, 18, 28, 19" and rows[1]["size (w × h)"] == "1 × 1"
    assert rows[2]["size (w × h)"] == "1.8 × 1.1"


def test_candidates_under_a_pixel_are_left_out_and_counted(roots):
    # The untrained detector's candidates include boxes a fraction of a pixel wide: none reaches the table.
    detection_runs.built_run(roots)
    at = open_page({"detection_score": "0.05", "detection_nms": "1.0"})
    assert not at.exception
    (table,) = [df.value for df in at.dataframe if "outcome" in df.value.columns]
    for corners in table["box (x0, y0, x1, y1)"]:
        x0, y0, x1, y1 = (float(v) for v in corners.split(", "))
        assert x1 - x0 >= 1 and y1 - y0 >= 1
    assert any("above the score threshold are smaller than one pixel" in c.value for c in at.caption)


def test_the_precision_recall_chart_says_why_a_class_has_no_curve(roots, monkeypatch):
    # The chart was empty without a word of why. Scores where circle has a curve, square has true boxes
    # but no predicted box, and the other classes no true box at all:
    import ui.detection
    from cv_core.detection import box_scores

    predictions = [[(0, 0, 0, 10, 10, 0.9)]]
    truths = [[(0, 0, 0, 10, 10), (1, 20, 20, 30, 30)]]
    monkeypatch.setattr(ui.detection, "validation_scores", lambda finder, dataset, limit: box_scores(predictions, truths))
    detection_runs.built_run(roots)
    at = open_page()
    at.button(key="detection_score_validation").click().run()
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "Classes with no true box in these pictures, so no curve: triangle, star, cross." in captions
    assert "Classes the model found no box of on these pictures, so their curves are empty: square." in captions
    (pr,) = [f for f in figures(at).values() if f["layout"]["title"]["text"].startswith("Precision–recall")]
    assert not pr["layout"].get("annotations")  # circle has a curve: the chart is not empty


@pytest.mark.parametrize("path, tab, task", [("pages/detection.py", "detection_tab", "detection"),
                                             ("pages/segmentation.py", "segmentation_tab", "segmentation")])
def test_the_train_tab_describes_the_model_with_the_task_entrys_words(roots, path, tab, task):
    """The drawing's caption on a task page's Train tab comes from the task entry (Task.anatomy)."""
    from cv_core.datasets import open_dataset
    from cv_core.runs import preset_spec, task_of

    at = open_page({tab: "Train", f"{task}_preset": "Quick"}, path=path)
    spec = preset_spec("quick", task=task)
    classes = task_of(task).num_classes(open_dataset(spec.dataset, spec.dataset_root, **spec.dataset_options))
    _, caption = task_of(task).anatomy(spec, classes)
    assert caption in [c.value for c in at.caption], [c.value for c in at.caption]
