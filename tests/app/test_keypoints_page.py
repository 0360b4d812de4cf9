"""AppTest for the Keypoints and pose page: skeletons with boxes, orientation and posture, a score slider
that only filters candidates found once, a joint's heatmap, OKS / PCK and hits against the truth,
heatmaps against regression on the landmarks, the Train tab, every choice in the URL, and bad input.

The runs are built, not trained (tests/app/keypoint_runs.py): an untrained pose model's candidates
score about 0.09, so none pass the default threshold 0.3 and several pass 0.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from tests.app import keypoint_runs
from tests.app.helpers import figures, metrics, page_opener, png, text

PAGE = "pages/keypoints.py"
open_page = page_opener(PAGE)

pytestmark = pytest.mark.slow  # each test builds a model and imports TensorFlow in the page


@pytest.fixture
def roots(lab_roots):
    return lab_roots[0]


def test_without_a_model_the_page_says_to_train_one(roots):
    at = open_page()
    assert at.title[0].value == "Keypoints and pose"
    assert "No keypoint model yet" in text(at) and "**Train** tab" in text(at)
    # The comparison says how to get its two runs rather than drawing empty charts.
    at = open_page({"keypoints_tab": "Heatmaps vs regression"})
    assert "Face landmarks (built in)" in text(at) and "One object: a heatmap per joint" in text(at)
    assert not at.get("plotly_chart")


def test_a_run_whose_model_file_is_gone_is_explained(roots):
    gone = keypoint_runs.built_run(roots)
    (gone / "best.keras").unlink()
    at = open_page()
    assert f"Run {gone.name} (completed) has no saved model file" in text(at)
    assert "No keypoint model yet" in text(at)
    ready = keypoint_runs.built_run(roots, seed=1)
    at = open_page({"run": gone.name})
    assert f"Run {gone.name} (completed) has no saved model file" in text(at) and "shown instead" in text(at)
    assert at.selectbox(key="keypoints_model_run").value == ready.name


def test_skeletons_threshold_heatmap_and_truth(roots, monkeypatch):
    import cv_core.keypoints as keypoints

    run = keypoint_runs.built_run(roots)
    passes = []
    forward = keypoints.predict_keypoint_outputs
    monkeypatch.setattr(keypoints, "predict_keypoint_outputs",
                        lambda model, images: passes.append(1) or forward(model, images))
    at = open_page()
    assert at.selectbox(key="keypoints_model_run").value == run.name and at.query_params["run"] == run.name
    assert metrics(at)["Objects shown"] == "0" and len(passes) == 1
    at.slider(key="keypoints_score").set_value(0.0).run()
    assert not at.exception
    shown = int(metrics(at)["Objects shown"])
    assert shown > 0 and len(passes) == 1  # the slider filters; the model does not run again
    assert {"OKS, best object", "PCK@0.2, best object", "True objects missed"} <= set(metrics(at))
    assert 0 <= float(metrics(at)["OKS, best object"]) <= 1
    figure = figures(at)[f"{shown} object(s) found (hover a joint for its name)"]
    people = [t for t in figure["data"] if t.get("name", "").startswith("Person ")]
    assert len(people) == shown
    # Each person's label names its score, and its posture and angle where its torso is known.
    assert any(" standing, " in p["name"] or " sitting, " in p["name"] or " lying, " in p["name"] for p in people)
    arrows = [a for a in figure["layout"]["annotations"] if a.get("showarrow")]
    assert len(arrows) == shown
    outcomes = figures(at)["Against the truth: green joints hit, red ones miss"]
    names = {t.get("name") for t in outcomes["data"]}
    assert "true skeleton" in names and "miss" in names
    (table,) = [df.value for df in at.dataframe]
    assert len(table) == shown and {"OKS", "PCK@0.2", "joints hit", "posture", "orientation (°)"} <= set(table.columns)
    # The heatmap of a chosen joint, still without another forward pass.
    assert "Heatmap of head" in figures(at)
    at.selectbox(key="keypoints_joint").set_value("left_wrist").run()
    assert "Heatmap of left_wrist" in figures(at) and len(passes) == 1
    # Another picture is another forward pass.
    at.number_input(key="keypoints_index").set_value(2).run()
    assert not at.exception and len(passes) == 2


def test_every_choice_comes_back_from_the_url(roots):
    run = keypoint_runs.built_run(roots)
    at = open_page({"run": run.name, "source": "Sample", "keypoints_split": "test", "keypoints_index": "3",
                    "keypoints_score": "0.1", "keypoints_joint": "right_knee"})
    assert at.selectbox(key="keypoints_split").value == "test"
    assert at.number_input(key="keypoints_index").value == 3
    assert at.slider(key="keypoints_score").value == pytest.approx(0.1)
    assert at.selectbox(key="keypoints_joint").value == "right_knee"
    assert "test picture 3" in text(at) and "Heatmap of right_knee" in figures(at)


def test_uploads_bad_and_good(roots):
    keypoint_runs.built_run(roots)
    at = open_page({"source": "Upload"})
    at.file_uploader(key="keypoints_upload").set_value(("broken.png", b"not a picture", "image/png")).run()
    assert not at.exception
    assert "**broken.png** could not be used." in text(at)
    photo = np.zeros((70, 50, 3), np.uint8)
    photo[10:60, 20:30] = 200
    at.file_uploader(key="keypoints_upload").set_value(("me.png", png(photo), "image/png")).run()
    assert not at.exception
    assert "No true keypoints for your own picture" in text(at) and "OKS, best object" not in metrics(at)
    assert "your upload, as the model sees it (32 × 32 px)" in text(at)
    # Odd modes (grey, with an alpha channel) are turned into RGB like every other page's uploads.
    for mode, array in (("L", photo[..., 0]), ("RGBA", np.dstack([photo, np.full((70, 50), 128, np.uint8)]))):
        buffer = io.BytesIO()
        Image.fromarray(array, mode).save(buffer, format="PNG")
        at.file_uploader(key="keypoints_upload").set_value((f"{mode}.png", buffer.getvalue(), "image/png")).run()
        assert not at.exception and "could not be used" not in text(at)
        assert "Objects shown" in metrics(at)


def test_landmarks_regression_and_heatmaps_against_regression(roots):
    heat = keypoint_runs.built_run(roots, model="keypoint_heatmap", **keypoint_runs.LANDMARKS)
    at = open_page({"keypoints_tab": "Heatmaps vs regression"})
    assert "also needs a regression model" in text(at) and not at.get("plotly_chart")
    regression = keypoint_runs.built_run(roots, seed=1, model="keypoint_regression", **keypoint_runs.LANDMARKS)
    at = open_page({"keypoints_tab": "Find the points", "run": regression.name})
    # A regression model gives its one face, whatever the threshold: no slider, no heatmap.
    assert not at.slider and metrics(at)["Objects shown"] == "1"
    figure = figures(at)["1 object(s) found (hover a joint for its name)"]
    assert any(t.get("name", "").startswith("Face 1: 1.00, tilted ") for t in figure["data"])
    assert "PCK@0.2, best object" in metrics(at) and not any(t.startswith("Heatmap of") for t in figures(at))
    at = open_page({"keypoints_tab": "Heatmaps vs regression", "keypoints_compare_index": "4"})
    assert at.selectbox(key="keypoints_heatmap_run").value == heat.name
    assert at.selectbox(key="keypoints_regression_run").value == regression.name
    titles = list(figures(at))
    assert "Heatmap model: 32 × 32 px in" in titles and "Regression model: 32 × 32 px in" in titles
    errors = figures(at)["Error per landmark on this picture (pixels of the 32 × 32 picture; lower is closer)"]
    assert [t["name"] for t in errors["data"]] == ["Heatmap model", "Regression model"]
    assert [len(t["x"]) for t in errors["data"]] == [6, 6]
    validation = figures(at)["Mean error per landmark over the validation split (pixels at 32 px)"]
    assert validation["data"][0]["y"] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]  # the runs' scores.json
    assert [m.value for m in at.metric if m.label == "Val. keypoint AP"] == ["0.250", "0.250"]


@pytest.mark.parametrize("dataset", ["Face landmarks (built in)", "People (built in)"])
def test_the_train_tab_offers_the_keypoint_datasets(roots, dataset):
    at = open_page({"keypoints_tab": "Train", "keypoints_preset": "Tiny", "keypoints_tiny_dataset": dataset})
    assert at.selectbox(key="keypoints_tiny_dataset").value in ("landmarks", "people")
    assert at.selectbox(key="keypoints_tiny_difficulty").label == "Difficulty of the pictures"
    # "crowded" is the shapes' setting for instance segmentation: the figure sets draw three levels.
    assert at.selectbox(key="keypoints_tiny_difficulty").options == ["Easy", "Medium", "Hard"]
    assert any(t.startswith(("pose / separable", "heatmaps", "regression")) for t in figures(at))


def test_a_folder_dataset_without_a_folder_hint_still_shows_the_form(roots, monkeypatch):
    # The variant form once looked every folder dataset's hint up with FOLDER_HINTS[name]: a KeyError.
    import ui.training

    monkeypatch.setattr(ui.training, "FOLDER_HINTS", {})
    at = open_page({"keypoints_tab": "Train", "keypoints_preset": "Tiny",
                    "keypoints_tiny_dataset": "COCO keypoints folder (your own)"})
    assert at.text_input(key="keypoints_tiny_root").placeholder == ""
    assert "The model's size appears once the dataset is known." in text(at)


def _model_tab():
    import streamlit as st

    from cv_core.keypoints import PEOPLE
    from ui.keypoints import with_chosen_model

    def view(model, skeleton, image_size):
        st.markdown(f"model {'none' if model is None else 'loaded'}, {skeleton.name}, {image_size}")

    with_chosen_model(view, without_model=(PEOPLE, 128))


def test_a_tab_that_needs_only_the_model_gets_the_chosen_one(roots):
    # How a video tab plugs in: lambda: with_chosen_model(video_tab).
    at = AppTest.from_function(_model_tab, default_timeout=240).run()
    assert not at.exception and "model none, people, 128" in text(at)
    run = keypoint_runs.built_run(roots)
    at = AppTest.from_function(_model_tab, default_timeout=240).run()
    assert not at.exception and "model loaded, people, (32, 32)" in text(at)
    assert at.selectbox(key="keypoints_model_run").value == run.name


def test_the_video_tab_shows_the_clips_truth_without_a_run_and_says_when_a_run_finds_other_points(roots):
    from ui.keypoints_video import SOURCE_LABELS

    at = open_page({"keypoints_tab": "Video"})
    assert "Train a keypoints model" in text(at)
    assert "The skeletons drawn are the clip's true joints, as the generator placed them." in text(at)
    assert at.get("segmented_control")[0].options == [SOURCE_LABELS["bundled"], SOURCE_LABELS["upload"]]
    landmarks = keypoint_runs.built_run(roots, model="keypoint_heatmap", **keypoint_runs.LANDMARKS)
    at = open_page({"keypoints_tab": "Video", "run": landmarks.name})
    assert "The built-in clip shows walking people, and the chosen run finds the points of another skeleton" \
        in text(at)
