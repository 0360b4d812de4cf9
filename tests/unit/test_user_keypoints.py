"""User keypoint datasets: save, replace, load, list, import, export, the annotation state, bad input."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cv_core.datasets import DatasetError, UserKeypointStore, open_dataset
from cv_core.datasets.user_keypoints import (
    ANNOTATIONS_FILE,
    MAX_STORED_SIDE,
    KeypointAnnotation,
    instance_from_points,
)
from cv_core.keypoints import FACE_LANDMARKS, PEOPLE, KeypointInstance, custom_skeleton

DOG = custom_skeleton(["nose", "left_ear", "right_ear", "tail"],
                      [("nose", "left_ear"), ("nose", "right_ear"), ("nose", "tail")], name="dog")


def picture(height=40, width=60, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def dog(points, visibility=(2, 2, 1, 2)) -> KeypointInstance:
    return KeypointInstance(points=np.array(points, np.float32), visibility=np.array(visibility, np.uint8))


POINTS = [(10.5, 12.5), (5.5, 5.5), (15.5, 5.25), (50.5, 30.5)]


@pytest.fixture
def store(tmp_path) -> UserKeypointStore:
    made = UserKeypointStore(tmp_path / "user_keypoints")
    made.create("dogs", DOG)
    return made


def test_save_then_load_gives_the_points_back(store):
    image = picture()
    item = store.save_item("dogs", image, dog(POINTS))
    assert item == 1 and store.list_items("dogs") == [1]
    back, instances = store.load_item("dogs", item)
    assert np.array_equal(back, image)  # PNG: bit-exact
    assert len(instances) == 1
    np.testing.assert_allclose(instances[0].points, POINTS, atol=0.006)  # COCO keeps 2 decimals
    assert instances[0].visibility.tolist() == [2, 2, 1, 2]
    # The box: the points' extent grown by a tenth of its larger side (45 px -> 4.5 px), clipped to 60 x 40.
    assert instances[0].box == pytest.approx((1.0, 0.75, 55.0, 35.0))
    assert instances[0].area == pytest.approx(54.0 * 34.25)


def test_the_file_on_disk_is_coco_keypoints(store):
    store.save_item("dogs", picture(), dog(POINTS))
    data = json.loads((store.root / "dogs" / ANNOTATIONS_FILE).read_text())
    assert data["categories"][0]["keypoints"] == ["nose", "left_ear", "right_ear", "tail"]
    assert data["categories"][0]["skeleton"] == [[1, 2], [1, 3], [1, 4]]  # counted from 1, as COCO does
    # COCO's keypoints are pixel indices: the centre of pixel (10, 12) is written as 10, 12.
    assert data["annotations"][0]["keypoints"][:3] == [10.0, 12.0, 2]
    assert data["annotations"][0]["num_keypoints"] == 4
    assert (store.root / "dogs" / "images" / data["images"][0]["file_name"]).is_file()


def test_replacing_a_picture_keeps_its_number_and_removes_the_old_file(store):
    first = store.save_item("dogs", picture(seed=1), dog(POINTS))
    second = store.save_item("dogs", picture(seed=2), dog(POINTS))
    old_files = set((store.root / "dogs" / "images").iterdir())
    moved = [(20.5, 20.5), (5.5, 5.5), (15.5, 5.5), (40.5, 30.5)]
    assert store.save_item("dogs", picture(seed=3), dog(moved), item=first) == first
    assert store.list_items("dogs") == [first, second]
    image, instances = store.load_item("dogs", first)
    assert np.array_equal(image, picture(seed=3))
    np.testing.assert_allclose(instances[0].points, moved, atol=0.006)
    files = set((store.root / "dogs" / "images").iterdir())
    assert len(files) == 2 and len(files - old_files) == 1  # the replaced picture's old file is gone


def test_list_and_delete(store, tmp_path):
    assert store.list_datasets() == ["dogs"]
    store.create("faces", FACE_LANDMARKS)
    assert store.list_datasets() == ["dogs", "faces"]
    assert store.skeleton("faces").sigmas == FACE_LANDMARKS.sigmas  # kept beside the COCO file
    a = store.save_item("dogs", picture(seed=1), dog(POINTS))
    b = store.save_item("dogs", picture(seed=2), dog(POINTS))
    store.delete_item("dogs", a)
    assert store.list_items("dogs") == [b]
    assert len(list((store.root / "dogs" / "images").iterdir())) == 1
    store.delete_dataset("faces")
    assert store.list_datasets() == ["dogs"]
    with pytest.raises(DatasetError, match="already exists"):
        store.create("dogs", DOG)


def test_a_crash_before_the_commit_leaves_the_previous_version(store, monkeypatch):
    item = store.save_item("dogs", picture(seed=1), dog(POINTS))
    before = (store.root / "dogs" / ANNOTATIONS_FILE).read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(UserKeypointStore, "_write_json", crash)
    with pytest.raises(OSError):
        store.save_item("dogs", picture(seed=2), dog([(1, 1), (2, 2), (3, 3), (4, 4)]), item=item)
    monkeypatch.undo()
    assert (store.root / "dogs" / ANNOTATIONS_FILE).read_bytes() == before
    image, instances = store.load_item("dogs", item)
    assert np.array_equal(image, picture(seed=1))
    np.testing.assert_allclose(instances[0].points, POINTS, atol=0.006)


@pytest.mark.parametrize("points, visibility, message", [
    ([(10, 10), (5, 5), (15, 5), (61, 30)], (2, 2, 2, 2), "inside the 60×40 picture"),
    ([(10, 10), (5, 5), (15, 5), (50, -1)], (2, 2, 2, 2), "inside the 60×40 picture"),
    ([(10, 10), (5, 5), (15, 5)], (2, 2, 2), "Expected 4 joints"),
    ([(10, 10), (5, 5), (15, 5), (50, 30), (1, 1)], (2, 2, 2, 2, 2), "Expected 4 joints"),
    ([(np.nan, 10), (5, 5), (15, 5), (50, 30)], (2, 2, 2, 2), "finite coordinates"),
    ([(10, 10), (5, 5), (15, 5), (50, 30)], (0, 0, 0, 0), "place at least one point"),
])
def test_bad_objects_are_refused_and_nothing_is_written(store, points, visibility, message):
    before = (store.root / "dogs" / ANNOTATIONS_FILE).read_bytes()
    with pytest.raises(DatasetError, match=message):
        store.save_item("dogs", picture(), dog(points, visibility))
    assert (store.root / "dogs" / ANNOTATIONS_FILE).read_bytes() == before
    assert not list((store.root / "dogs" / "images").iterdir())


def test_an_empty_save_says_what_to_do(store):
    with pytest.raises(DatasetError, match="nothing to save.*place at least one point"):
        store.save_item("dogs", picture(), [])


def test_all_hidden_points_are_labelled_and_saved(store):
    """Hidden (v = 1) points have a position: COCO counts them, and the model learns them."""
    item = store.save_item("dogs", picture(), dog(POINTS, (1, 1, 1, 1)))
    _, instances = store.load_item("dogs", item)
    assert instances[0].visibility.tolist() == [1, 1, 1, 1] and instances[0].num_labelled == 4


def test_a_point_not_labelled_keeps_no_position(store):
    item = store.save_item("dogs", picture(), dog([(10, 10), (99, 99), (15, 5), (50, 30)], (2, 0, 2, 2)))
    _, instances = store.load_item("dogs", item)
    assert instances[0].visibility.tolist() == [2, 0, 2, 2]
    assert instances[0].points[1].tolist() == [0.0, 0.0]


def test_a_huge_picture_is_shrunk_with_its_points(store):
    image = picture(height=600, width=2048)
    item = store.save_item("dogs", image, dog([(1024, 300), (10, 10), (2000, 590), (2048, 600)]))
    back, instances = store.load_item("dogs", item)
    assert back.shape == (300, MAX_STORED_SIDE, 3)
    np.testing.assert_allclose(instances[0].points, [(512, 150), (5, 5), (1000, 295), (1024, 300)], atol=0.006)


@pytest.mark.parametrize("name", ["../evil", "", "a b", ".hidden", "x" * 65])
def test_bad_names_are_refused(tmp_path, name):
    with pytest.raises(DatasetError):
        UserKeypointStore(tmp_path).create(name, DOG)
    assert not list(tmp_path.iterdir()) or not any(p.name != ".lock" for p in tmp_path.iterdir())


def test_unknown_joint_in_an_edge_is_named():
    with pytest.raises(ValueError, match="unknown joint 'tail'. The joints are: 'nose', 'ear'"):
        custom_skeleton(["nose", "ear"], [("nose", "tail")])


# --------------------------------------------------------------------------------------
# Training data
# --------------------------------------------------------------------------------------


def test_open_dataset_trains_on_it(store):
    for seed in range(6):
        store.save_item("dogs", picture(seed=seed), dog(POINTS))
    ds = open_dataset("userkp:dogs", store.root)
    assert ds.has_keypoints and ds.skeleton.joints == DOG.joints
    assert sum(ds.count(s) for s in ("train", "validation", "test")) == 6
    assert ds.count("train") >= 1 and ds.count("validation") >= 1
    sample = ds.sample("train", 0)
    assert sample.image.shape == (40, 60, 3)
    np.testing.assert_allclose(sample.keypoints[0].points, POINTS, atol=0.006)
    assert sample.boxes == [(0, 1, 0, 55, 35)]
    from cv_core.runs import task_of

    assert task_of("keypoints").accepts(ds)


def test_splits_are_stable_as_the_dataset_grows(store):
    for seed in range(10):
        store.save_item("dogs", picture(seed=seed), dog(POINTS))
    before = open_dataset("userkp:dogs", store.root).items
    for seed in range(10, 15):
        store.save_item("dogs", picture(seed=seed), dog(POINTS))
    after = open_dataset("userkp:dogs", store.root).items
    for split, items in before.items():
        if split != "validation":  # (the fix-up that gives a small set a validation item may move one)
            assert set(items) <= set(after[split])


def test_an_empty_dataset_cannot_be_opened(store):
    with pytest.raises(DatasetError, match="no annotated picture yet"):
        open_dataset("userkp:dogs", store.root)
    with pytest.raises(DatasetError, match="no keypoint dataset called 'cats'"):
        open_dataset("userkp:cats", store.root)


# --------------------------------------------------------------------------------------
# Import and export
# --------------------------------------------------------------------------------------


def coco_folder(folder: Path, annotations: dict, sizes=((40, 60),)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, (h, w) in enumerate(sizes):
        Image.fromarray(picture(h, w, seed=i)).save(folder / f"p{i}.png")
    path = folder / "export.json"
    path.write_text(json.dumps(annotations))
    return path


def cvat_like(keypoints=(10, 12, 2, 5, 5, 2, 15, 5, 1, 50, 30, 2), **extra) -> dict:
    """A COCO keypoint file as CVAT exports it (with its extra `attributes` field)."""
    annotation = {"id": 1, "image_id": 1, "category_id": 1, "keypoints": list(keypoints),
                  "num_keypoints": sum(1 for v in keypoints[2::3] if v), "bbox": [4, 4, 48, 28], "area": 1344,
                  "iscrowd": 0, "attributes": {"occluded": False}}
    annotation.update(extra)
    return {"images": [{"id": 1, "file_name": "p0.png", "width": 60, "height": 40}],
            "annotations": [annotation],
            "categories": [{"id": 1, "name": "dog", "keypoints": ["nose", "left_ear", "right_ear", "tail"],
                            "skeleton": [[1, 2], [1, 3], [1, 4]]}]}


def test_import_a_coco_export(tmp_path):
    store = UserKeypointStore(tmp_path / "store")
    path = coco_folder(tmp_path / "bring", cvat_like())
    added, warnings = store.import_coco("brought", path, tmp_path / "bring")
    assert added == 1
    assert any("'attributes'" in w for w in warnings)  # an extra field is named, and ignored
    image, instances = store.load_item("brought", 1)
    assert np.array_equal(image, picture(40, 60, seed=0))
    np.testing.assert_allclose(instances[0].points, [(10.5, 12.5), (5.5, 5.5), (15.5, 5.5), (50.5, 30.5)])
    assert instances[0].box == (4.0, 4.0, 52.0, 32.0) and instances[0].area == 1344  # its own box and area kept
    assert store.skeleton("brought").edges == DOG.edges


@pytest.mark.parametrize("change, message", [
    (lambda d: d["annotations"][0].pop("num_keypoints"), "no 'num_keypoints' field"),
    (lambda d: d.pop("categories"), "no 'categories' list"),
    (lambda d: d["annotations"][0].update(keypoints=[10, 12, 2]), "holds 3 numbers"),
    (lambda d: d["categories"][0].update(skeleton=[[1, 9]]), "names joint 9"),
    (lambda d: d["annotations"][0].update(keypoints=[10, 12, 2, 5, 5, 2, 15, 5, 1, 90, 30, 2]), "outside"),
])
def test_bad_coco_files_are_refused_and_nothing_is_made(tmp_path, change, message):
    data = cvat_like()
    change(data)
    store = UserKeypointStore(tmp_path / "store")
    path = coco_folder(tmp_path / "bring", data)
    with pytest.raises(DatasetError, match=message):
        store.import_coco("brought", path, tmp_path / "bring")
    assert store.list_datasets() == []


def test_import_into_a_dataset_with_other_joints_is_refused(store, tmp_path):
    data = cvat_like()
    data["categories"][0]["keypoints"] = ["a", "b", "c", "d"]
    path = coco_folder(tmp_path / "bring", data)
    with pytest.raises(DatasetError, match="are not those of dataset 'dogs'"):
        store.import_coco("dogs", path, tmp_path / "bring")


def test_export_then_import_and_coco_reader_round_trip(store, tmp_path):
    for seed in range(3):
        store.save_item("dogs", picture(seed=seed), dog(POINTS))
    data = store.export_zip("dogs")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path / "out")
    assert "dogs/annotations/person_keypoints_dogs.json" in names
    ds = open_dataset("coco_keypoints", tmp_path / "out" / "dogs", validation_split=0, test_split=0)
    assert ds.count("train") == 3
    np.testing.assert_allclose(ds.sample("train", 0).keypoints[0].points, POINTS, atol=0.006)
    added, _ = store.import_zip("again", data)
    assert added == 3 and store.list_items("again") == [1, 2, 3]
    for item in (1, 2, 3):
        a, b = store.load_item("dogs", item), store.load_item("again", item)
        assert np.array_equal(a[0], b[0])
        np.testing.assert_allclose(a[1][0].points, b[1][0].points)


def test_export_loads_in_pycocotools(store, tmp_path):
    pycocotools = pytest.importorskip("pycocotools.coco")
    store.save_item("dogs", picture(), dog(POINTS))
    with zipfile.ZipFile(io.BytesIO(store.export_zip("dogs"))) as archive:
        archive.extractall(tmp_path)
    coco = pycocotools.COCO(str(tmp_path / "dogs" / "annotations" / "person_keypoints_dogs.json"))
    assert coco.loadAnns(coco.getAnnIds())[0]["num_keypoints"] == 4


@pytest.mark.parametrize("data, message", [
    (b"not a zip", "not a zip archive"),
    (None, "unsafe name"),
])
def test_bad_zips_are_refused(tmp_path, data, message):
    if data is None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("../escape.json", "{}")
        data = buffer.getvalue()
    store = UserKeypointStore(tmp_path / "store")
    with pytest.raises(DatasetError, match=message):
        store.import_zip("x", data)
    assert not (tmp_path / "escape.json").exists()


# --------------------------------------------------------------------------------------
# The annotation state
# --------------------------------------------------------------------------------------


def test_annotation_places_in_order_moves_hides_skips_deletes_and_undoes():
    note = KeypointAnnotation(DOG)
    assert note.current_name == "nose"
    note.place(10, 12)
    assert note.current_name == "left_ear"
    note.place(5, 5, hidden=True)
    note.skip()  # right_ear: not in the picture
    assert note.current_name == "tail"
    note.place(50, 30)
    assert note.complete and note.visibility.tolist() == [2, 1, 0, 2]
    note.select("nose")
    note.place(11, 13)  # moving a placed joint does not move the selection on
    assert note.current_name == "nose" and note.points[0].tolist() == [11, 13]
    note.toggle_hidden()
    assert note.visibility[0] == 1
    note.undo()
    note.undo()
    assert note.points[0].tolist() == [10, 12] and note.visibility[0] == 2
    note.select("tail")
    note.delete()
    assert not note.complete and note.visibility[3] == 0
    instance = note.instance((40, 60))
    assert instance.visibility.tolist() == [2, 1, 0, 0]
    with pytest.raises(ValueError, match="finite"):
        note.place(np.nan, 3)
    note.clear()
    with pytest.raises(DatasetError, match="place at least one point"):
        note.instance((40, 60))
    assert note.undo() and note.num_placed == 2


def test_annotation_from_a_saved_object_continues_where_it_stopped():
    points = np.zeros((PEOPLE.num_joints, 2))
    visibility = np.zeros(PEOPLE.num_joints, np.uint8)
    visibility[:3] = 2
    note = KeypointAnnotation.from_instance(PEOPLE, KeypointInstance(points, visibility))
    assert note.current == 3 and note.current_name == "right_shoulder" and not note.skipped.any()


def test_instance_from_points_box_is_clipped():
    made = instance_from_points([(0.5, 0.5), (59.5, 39.5)], (2, 2), (40, 60))
    assert made.box == (0.0, 0.0, 60.0, 40.0)


def test_parse_skeleton_text():
    from cv_core.datasets.user_keypoints import parse_skeleton_text

    made = parse_skeleton_text("nose\nleft_ear\nright_ear\n\ntail\n", "nose - left_ear\nnose, right_ear\nnose->tail",
                               name="dog")
    assert made.joints == DOG.joints and made.edges == DOG.edges and made.flip_pairs == ((1, 2),)
    with pytest.raises(ValueError, match="unknown joint 'paw'. The joints are: 'nose', 'tail'"):
        parse_skeleton_text("nose\ntail", "nose - paw")
    with pytest.raises(ValueError, match="at least one point name"):
        parse_skeleton_text("  \n", "")
    with pytest.raises(ValueError, match="should name two points"):
        parse_skeleton_text("a\nb\nc", "a b c")
    with pytest.raises(ValueError, match="unique joint names"):
        parse_skeleton_text("a\na", "")


@pytest.mark.slow
def test_the_keypoints_task_trains_on_a_saved_dataset(tmp_path, monkeypatch):
    """Sixteen generated people saved through the store, then the Tiny preset for two epochs through
    the command line (the same worker the Train tab starts): the run completes and scores its splits."""
    import subprocess
    import sys

    data = tmp_path / "data"
    store = UserKeypointStore(data / "user_keypoints")
    store.create("walkers", PEOPLE)
    people = open_dataset("people", image_size=64, difficulty="easy")
    for i in range(16):
        sample = people.sample("train", i)
        store.save_item("walkers", sample.image, sample.keypoints[:1])
    ds = open_dataset("userkp:walkers", store.root)
    assert ds.count("train") >= 8
    env = {**__import__("os").environ, "CONVNET_LAB_DATA": str(data), "CONVNET_LAB_RUNS": str(tmp_path / "runs"),
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-m", "cv_core.train", "--task", "keypoints", "--preset", "tiny", "--dataset",
         "userkp:walkers", "--batch-size", "8", "--epochs", "2", "--image-size", "32", "--quiet"],
        cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (run,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    spec = json.loads((run / "spec.json").read_text())
    assert spec["dataset"] == "userkp:walkers" and spec["task"] == "keypoints"
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "completed", status
    scores = json.loads((run / "scores.json").read_text())
    assert scores["skeleton"]["joints"] == list(PEOPLE.joints)
    assert 0.0 <= scores["validation"]["pck"] <= 1.0
