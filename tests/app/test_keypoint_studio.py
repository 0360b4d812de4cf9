"""AppTest for the Keypoint studio: create datasets (and refusals that write nothing), empty saves,
saving from a generated picture's true points, reopening, the URL, bad uploads, import and export,
and the "Train on it" link's parameters against the Train form they are meant for.

The clickable picture is a custom component that AppTest cannot click (it returns nothing here):
clicks are tested in tests/e2e/test_keypoint_studio_browser.py.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from cv_core.datasets import UserKeypointStore, open_dataset
from cv_core.datasets.user_keypoints import ANNOTATIONS_FILE
from cv_core.keypoints import PEOPLE, KeypointInstance

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "pages/keypoint_studio.py"


@pytest.fixture
def store(lab_roots) -> UserKeypointStore:
    return UserKeypointStore(lab_roots[1] / "user_keypoints")


def open_studio(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query or {})
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def text(at: AppTest) -> str:
    kinds = ("markdown", "caption", "info", "warning", "error", "success", "subheader")
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def create(at: AppTest, name: str, skeleton: str = "people", joints: str = "", edges: str = "") -> AppTest:
    at.radio(key="keypoint_studio_skeleton").set_value(skeleton).run()
    if skeleton == "custom":
        at.text_area(key="keypoint_studio_new_joints").input(joints).run()
        at.text_area(key="keypoint_studio_new_edges").input(edges).run()
    at.text_input(key="keypoint_studio_new_name").input(name).run()
    at.button(key="keypoint_studio_create").click().run()
    assert not at.exception, at.exception
    return at


def test_create_a_people_dataset_then_an_empty_save_says_what_to_do(store):
    at = open_studio()
    assert "Choose a dataset to save into, or create one" in text(at)
    create(at, "walkers")
    assert "Created the dataset **walkers**" in text(at)
    assert store.list_datasets() == ["walkers"] and store.skeleton("walkers").joints == PEOPLE.joints
    assert "#### Next point: head" in text(at)
    at.button(key="keypoint_studio_save").click().run()
    assert [w.value for w in at.warning] == [
        "There is nothing to save yet: click on the picture to place at least one point."]
    # Marking points "not labelled" moves on, but places nothing: saving still refuses.
    at.button(key="keypoint_studio_skip").click().run()
    assert "#### Next point: neck" in text(at)
    at.button(key="keypoint_studio_undo").click().run()
    assert "#### Next point: head" in text(at)
    at.button(key="keypoint_studio_skip").click().run()
    at.button(key="keypoint_studio_save").click().run()
    assert len(at.warning) == 1 and "nothing to save yet" in at.warning[0].value
    assert store.list_items("walkers") == []


def test_an_edge_naming_an_unknown_joint_is_refused_with_its_name(store):
    at = open_studio()
    create(at, "dogs", "custom", "nose\nleft_ear\ntail", "nose - left_ear\nnose - paw")
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "The dataset was not created." in errors[0]
    assert "unknown joint 'paw'" in errors[0] and "'nose', 'left_ear', 'tail'" in errors[0]
    assert store.list_datasets() == []
    at.text_area(key="keypoint_studio_new_edges").input("nose - left_ear\nnose - tail").run()
    at.button(key="keypoint_studio_create").click().run()
    assert store.skeleton("dogs").edge_names() == [("nose", "left_ear"), ("nose", "tail")]
    assert "#### Next point: nose" in text(at)


@pytest.mark.parametrize("name", ["../up", "two words", ""])
def test_bad_names_are_refused(store, name):
    at = open_studio()
    create(at, name)
    assert any("The dataset was not created." in e.value for e in at.error)
    assert store.list_datasets() == []


@pytest.mark.slow
def test_save_the_true_points_of_a_generated_picture_then_edit(store):
    at = open_studio({"keypoint_studio_index": "5"})
    create(at, "walkers")
    assert "generated people picture 5" in text(at)
    at.button(key="keypoint_studio_truth").click().run()
    assert "Every point is placed or marked not labelled." in text(at)
    at.button(key="keypoint_studio_save").click().run()
    assert not at.exception, at.exception
    truth = open_dataset("people", image_size=192, difficulty="easy").sample("train", 5).keypoints[0]
    data = json.loads((store.root / "walkers" / ANNOTATIONS_FILE).read_text())
    (annotation,) = data["annotations"]
    labelled = truth.visibility > 0
    assert annotation["keypoints"][2::3] == truth.visibility.tolist()
    written = np.array(annotation["keypoints"]).reshape(-1, 3)[:, :2] + 0.5  # COCO's pixel indices
    np.testing.assert_allclose(written[labelled], truth.points[labelled], atol=0.006)
    assert f"Saved picture 1 into **walkers** with {int(labelled.sum())} points." in text(at)
    # The saved picture is listed; Edit opens it with its points and offers to save the changes.
    at.button(key="keypoint_studio_edit_1").click().run()
    assert not at.exception, at.exception
    assert at.button(key="keypoint_studio_save").label == "Save changes"
    assert "picture 1 of walkers" in text(at)
    # Hide the first point and save the changes: the same picture, v = 1 now.
    at.button(key="keypoint_studio_toggle").click().run()
    at.button(key="keypoint_studio_save").click().run()
    _, instances = store.load_item("walkers", 1)
    assert store.list_items("walkers") == [1] and instances[0].visibility[0] == 1


def test_the_url_keeps_dataset_source_and_picture(store):
    store.create("walkers", PEOPLE)
    at = open_studio({"keypoint_studio_dataset": "walkers", "keypoint_studio_source": "Photo",
                      "keypoint_studio_photo": "Astronaut"})
    assert at.selectbox(key="keypoint_studio_dataset").value == "walkers"
    assert at.selectbox(key="keypoint_studio_photo").value == "astronaut"
    assert "the astronaut photo" in text(at)


@pytest.mark.slow
def test_bad_uploads_get_a_clear_message(store):
    store.create("walkers", PEOPLE)
    at = open_studio({"keypoint_studio_dataset": "walkers", "keypoint_studio_source": "Upload"})
    at.file_uploader(key="keypoint_studio_upload").set_value(("broken.png", b"\x89PNG not really", "image/png")).run()
    assert not at.exception, at.exception
    assert any("broken.png" in e.value and "could not be used" in e.value for e in at.error)
    buffer = io.BytesIO()
    Image.fromarray(np.full((40, 30), 200, np.uint8), "L").save(buffer, format="PNG")  # grey: another mode
    at.file_uploader(key="keypoint_studio_upload").set_value(("grey.png", buffer.getvalue(), "image/png")).run()
    assert not at.exception and not at.error
    assert "your upload · 30 × 40 px" in text(at)
    buffer = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(buffer, format="PNG")  # 144 megapixels in a small file
    at.file_uploader(key="keypoint_studio_upload").set_value(("bomb.png", buffer.getvalue(), "image/png")).run()
    assert not at.exception, at.exception
    assert any("bomb.png" in e.value and "could not be used" in e.value for e in at.error)
    buffer = io.BytesIO()
    Image.new("RGB", (2000, 1500), (10, 20, 30)).save(buffer, format="JPEG")
    at.file_uploader(key="keypoint_studio_upload").set_value(("big.jpg", buffer.getvalue(), "image/jpeg")).run()
    assert not at.exception and not at.error
    assert "your upload · 1024 × 768 px" in text(at)  # kept at 1024 px on its long side, as it will be saved


def test_import_and_export(store):
    store.create("walkers", PEOPLE)
    points = np.tile([[20.5, 30.5]], (PEOPLE.num_joints, 1))
    visibility = np.full(PEOPLE.num_joints, 2, np.uint8)
    image = np.random.default_rng(0).integers(0, 256, (64, 48, 3), dtype=np.uint8)
    store.save_item("walkers", image, KeypointInstance(points, visibility))
    exported = store.export_zip("walkers")
    at = open_studio({"keypoint_studio_dataset": "walkers"})
    assert at.get("download_button")  # the export is offered once something is saved
    at.file_uploader(key="keypoint_studio_import_zip").set_value(("walkers.zip", exported, "application/zip")).run()
    at.text_input(key="keypoint_studio_import_name").input("copy").run()
    at.button(key="keypoint_studio_import").click().run()
    assert not at.exception, at.exception
    assert "Imported 1 picture into **copy**." in text(at)
    copied, instances = store.load_item("copy", 1)
    assert np.array_equal(copied, image)
    np.testing.assert_allclose(instances[0].points, points)
    at.file_uploader(key="keypoint_studio_import_zip").set_value(("bad.zip", b"PK nonsense", "application/zip")).run()
    at.button(key="keypoint_studio_import").click().run()
    assert "Nothing was imported. That file is not a zip archive." in [e.value for e in at.error]


def test_train_on_it_without_the_keypoints_page_says_how_from_a_terminal(store):
    store.create("walkers", PEOPLE)
    store.save_item("walkers", np.zeros((32, 32, 3), np.uint8),
                    KeypointInstance(np.full((14, 2), 10.0), np.full(14, 2, np.uint8)))
    at = open_studio({"keypoint_studio_dataset": "walkers"})
    page_there = (Path(APP).parent / "pages" / "keypoints.py").exists()
    if page_there:
        assert any(link.proto.label == "Train on it" for link in at.get("page_link"))
    else:
        assert "--task keypoints --dataset userkp:walkers" in text(at)
    assert "Training needs at least 8 pictures in the training split" in text(at)


TRAIN_FORM = """
import streamlit as st
from ui.training import variant_form
spec = variant_form("keypoints", task="keypoints")
st.write(f"{spec.dataset}|{spec.batch_size}|{spec.dataset_root}")
"""


def test_the_train_link_preselects_the_dataset_in_the_keypoints_train_form(store):
    """The link's URL parameters, given to the Train form (``variant_form`` with the keypoints page's
    prefix), choose this dataset, the smallest batch, and the store's folder for the worker."""
    from ui.keypoint_studio import train_link_params

    store.create("walkers", PEOPLE)
    at = AppTest.from_string(TRAIN_FORM, default_timeout=60)
    at.query_params.update(train_link_params("walkers"))
    at.run()
    assert not at.exception, at.exception
    assert [m.value for m in at.markdown][-1] == f"userkp:walkers|8|{store.root}"


def test_editing_one_object_keeps_the_others(store):
    store.create("pairs", PEOPLE)
    image = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    first = KeypointInstance(np.full((14, 2), 10.5), np.full(14, 2, np.uint8))
    second = KeypointInstance(np.full((14, 2), 40.5), np.full(14, 2, np.uint8))
    store.save_item("pairs", image, [first, second])
    at = open_studio({"keypoint_studio_dataset": "pairs", "keypoint_studio_source": "Saved"})
    assert at.selectbox(key="keypoint_studio_object").options == ["Object 1", "Object 2", "+ Another object"]
    at.selectbox(key="keypoint_studio_object").set_value(1).run()
    assert "head is at (40.5, 40.5)" in text(at)
    at.button(key="keypoint_studio_toggle").click().run()  # the head of object 2: hidden
    at.button(key="keypoint_studio_save").click().run()
    assert not at.exception, at.exception
    _, instances = store.load_item("pairs", 1)
    assert len(instances) == 2
    assert instances[0].visibility.tolist() == [2] * 14 and instances[1].visibility.tolist() == [1] + [2] * 13
    np.testing.assert_allclose(instances[0].points, first.points)
