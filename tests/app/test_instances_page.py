"""AppTest for the Instance segmentation page: objects found once and filtered by the score slider (the
forward passes counted), hits / misses / false positives, connected components beside the instance
model, both approaches' validation scores in one table, exports, every choice in the URL, uploads, a
start with no run yet, and the Segmentation page's "From the mask to objects" with an instance model.

The runs are built, not trained (tests/app/instance_runs.py): an untrained instance model's objects
score under 0.1, so none passes the default threshold 0.2 and every one passes 0.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.app import instance_runs, segmentation_runs
from tests.app.helpers import figures, metrics, page_opener, png, text

PAGE = "pages/instances.py"
open_page = page_opener(PAGE)

pytestmark = pytest.mark.slow  # each test builds a model and imports TensorFlow in the page


@pytest.fixture
def roots(lab_roots):
    return lab_roots[0]


def table(at: AppTest, column: str):
    """The one table with ``column``."""
    (frame,) = [df.value for df in at.dataframe if column in df.value.columns]
    return frame


def test_without_a_run_the_page_offers_to_start_one(roots, fake_worker):
    at = open_page()
    assert at.title[0].value == "Instance segmentation"
    assert "No instance segmentation model yet" in text(at)
    assert not at.get("plotly_chart")
    labels = [b.label for b in at.button]
    assert "Train the Quick preset (about 10 minutes)" in labels
    at.button(key="instances_start_tiny").click().run()
    assert not at.exception, at.exception
    (run_dir,) = [p for p in roots.iterdir() if p.is_dir()]
    assert "tiny-inst" in run_dir.name
    spec = json.loads((run_dir / "spec.json").read_text())
    assert spec["task"] == "instances" and spec["preset"] == "tiny"
    # The page follows it in the Train tab.
    assert at.session_state["instances_tab"] == "Train"
    assert at.query_params["instances_run"] == run_dir.name


def test_objects_found_once_the_slider_filters_them_and_the_truth(roots, monkeypatch):
    import cv_core.instances as instances

    run = instance_runs.built_run(roots)
    passes = []
    forward = instances.predict_raw_instances
    monkeypatch.setattr(instances, "predict_raw_instances",
                        lambda model, images, *a, **k: passes.append(len(images)) or forward(model, images, *a, **k))
    at = open_page()
    assert at.selectbox(key="instances_model_run").value == run.name
    assert metrics(at)["Objects shown"] == "0" and passes == [1]
    # Nothing above 0.2, so the exports are offered but disabled.
    buttons = {b.proto.label: b.proto for b in at.get("download_button")}
    assert set(buttons) == {"COCO JSON", "PNG instance map"} and buttons["COCO JSON"].disabled
    at.slider(key="instances_score").set_value(0.0).run()
    assert not at.exception
    shown = int(metrics(at)["Objects shown"])
    assert shown > 0 and passes == [1]  # the slider filters; the model does not run again
    # Hits, false positives and misses add up: every shown object is one or the other.
    counts = metrics(at)
    assert int(counts["Hits"]) + int(counts["False positives"]) == shown
    assert int(counts["Missed"]) > 0
    title = (f"{shown} objects, each in its own colour (hover: class, score, area, box)" if shown != 1
             else "1 object, in its own colour (hover: class, score, area, box)")
    figure = figures(at)[title]
    outlines = [t for t in figure["data"] if t.get("hoverinfo") == "text"]
    hovers = [h for t in outlines for h in t["text"] if h]
    assert any(" · score " in h and " px · box x " in h for h in hovers)
    assert len(figure["layout"]["annotations"]) == shown  # one label per object
    outcomes = figures(at)["Against the truth: hits green, false positives red, misses orange"]
    names = " ".join(t.get("name", "") for t in outcomes["data"])
    assert "false positive" in names and "true box, missed" in names
    frame = table(at, "outcome")
    assert len(frame) == shown
    assert {"object", "class", "score", "area (px)", "box (x0, y0, x1, y1)", "outcome"} <= set(frame.columns)
    assert (frame["score"] >= 0).all() and set(frame["outcome"]) <= {"hit", "false positive"}
    assert not [b for b in at.get("download_button") if b.proto.disabled]
    # The side-by-side uses the same objects: its instance figure counts the shown ones.
    assert any(t.startswith(f"Instance model: {shown} objects above 0.00") for t in figures(at))
    assert any(t.startswith("Connected components: ") for t in figures(at))
    assert "Connected components of the instance model's own semantic head" in text(at)
    assert "no segmentation run with this model's classes yet" in text(at).lower()
    # Another picture is another forward pass.
    at.number_input(key="instances_index").set_value(3).run()
    assert not at.exception and passes == [1, 1]


def test_validation_scores_of_both_in_one_table(roots):
    run = instance_runs.built_run(roots)
    semantic = segmentation_runs.built_run(roots)
    at = open_page({"instances_semantic": semantic.name})
    assert at.selectbox(key="instances_semantic").value == semantic.name
    assert f"Connected components of segmentation run {semantic.name}" in text(at)
    frame = table(at, "approach")
    # From the run's scores.json (tests/app/instance_runs.py's SCORES).
    assert list(frame["approach"]) == [f"Instance model ({run.name})", "Connected components of its own semantic head"]
    assert list(frame["AP50"]) == [instance_runs.SCORES["mask_ap50"], instance_runs.SCORES["components"]["mask_ap50"]]
    assert frame["touching same-class pairs separated"][0] == "7 of 20"
    # The segmentation run is scored on request, on the instance run's validation pictures.
    at.button(key="instances_score_semantic").click().run()
    assert not at.exception
    frame = table(at, "approach")
    assert len(frame) == 3 and frame["approach"][2] == f"Connected components of segmentation run {semantic.name}"
    assert frame["pictures"][2] == 32 and 0 <= frame["mask AP"][2] <= 1
    # Its pairs are counted on those pictures (not the made-up 20 of the stored scores).
    from cv_core.datasets import open_dataset
    from cv_core.instances import instance_samples, touching_pairs
    from cv_core.runs import preset_spec

    options = preset_spec("tiny", task="instances").dataset_options
    _, truths = instance_samples(open_dataset("shapes", **options), "validation", (32, 32))
    pairs = sum(len(touching_pairs(t)) for t in truths)
    assert pairs > 0 and frame["touching same-class pairs separated"][2].endswith(f" of {pairs}")
    # A run still without final scores says so.
    bare = instance_runs.built_run(roots, seed=1, scores=False)
    at = open_page({"run": bare.name})
    assert "This run has no final scores yet" in text(at)


def test_every_choice_comes_back_from_the_url(roots):
    first = instance_runs.built_run(roots)
    instance_runs.built_run(roots, seed=1)
    semantic = segmentation_runs.built_run(roots)
    at = open_page({"run": first.name, "source": "Sample", "instances_split": "test", "instances_index": "4",
                    "instances_score": "0.05", "instances_semantic": "own"})
    assert at.selectbox(key="instances_model_run").value == first.name
    assert at.selectbox(key="instances_split").value == "test"
    assert at.number_input(key="instances_index").value == 4
    assert at.slider(key="instances_score").value == pytest.approx(0.05)
    assert at.selectbox(key="instances_semantic").value == "own"  # not the default (the newest run)
    assert "test picture 4" in text(at)
    # A choice made on the page goes into the URL by run id.
    at.selectbox(key="instances_semantic").set_value(semantic.name).run()
    assert at.query_params["instances_semantic"] == semantic.name
    at = open_page({"instances_tab": "Train"})
    assert at.radio(key="instances_preset").value == "quick"


def test_uploads_bad_and_good(roots):
    instance_runs.built_run(roots)
    at = open_page({"source": "Upload"})
    at.file_uploader(key="instances_upload").set_value(("broken.png", b"not a picture", "image/png")).run()
    assert not at.exception
    assert "**broken.png** could not be used." in text(at)
    photo = np.zeros((70, 50, 3), np.uint8)
    photo[10:60, 20:30] = 200
    at.file_uploader(key="instances_upload").set_value(("me.png", png(photo), "image/png")).run()
    assert not at.exception
    assert "No true objects for your own picture" in text(at) and "Hits" not in metrics(at)
    assert "your upload, as the model sees it (32 × 32 px)" in text(at)


def test_segmentation_page_finds_objects_with_the_instance_model(roots):
    segmentation_runs.built_run(roots)
    at = open_page(path="pages/segmentation.py")
    assert "An instance segmentation model with these classes would find" in text(at)
    inst = instance_runs.built_run(roots)
    at = open_page({"segmentation_objects_from": inst.name, "segmentation_instance_score": "0.0"},
                   path="pages/segmentation.py")
    assert at.selectbox(key="segmentation_objects_from").value == inst.name
    assert at.query_params["segmentation_objects_from"] == inst.name
    assert f"Objects of the instance model {inst.name}" in text(at)
    objects = table(at, "mean confidence")
    assert len(objects) > 0
    # Raising the score leaves none (an untrained model's objects score under 0.1).
    at.slider(key="segmentation_instance_score").set_value(0.5).run()
    assert "The instance model finds no object here scoring at least 0.50" in text(at)
    # Back to connected components.
    at.selectbox(key="segmentation_objects_from").set_value("components").run()
    assert not at.exception and f"Objects of the instance model {inst.name}" not in text(at)
