"""Every input of the task pages' cached models, pictures and results is in the cache key.

``st.cache_data`` / ``st.cache_resource`` do not hash underscore arguments (the model, the
dataset, the picture): each comes with a key that must change with it, or a page shows a
stale result. One test per key found missing in an audit; each failed before its fix.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest


def test_objects_found_by_a_segmentation_model_follow_the_mapping_to_box_classes(monkeypatch):
    """The detection page maps a segmentation model's mask classes onto the dataset's box
    classes; the same model and picture under another mapping must give other boxes."""
    import cv_core.segmentation
    from ui.detection import BoxFinder, candidates

    probabilities = np.zeros((16, 16, 3), np.float32)
    probabilities[..., 0] = 1.0
    probabilities[2:6, 2:6] = [0, 1, 0]  # one object of mask class 1
    probabilities[9:14, 9:14] = [0, 0, 1]  # one of mask class 2
    monkeypatch.setattr(cv_core.segmentation, "predict_mask",
                        lambda model, view: SimpleNamespace(probabilities=probabilities))
    run = SimpleNamespace(id="test-cache-mapping")
    picture = SimpleNamespace(key="test-cache-mapping|picture")
    view = np.zeros((16, 16, 3), np.uint8)

    def box_classes(class_map: dict) -> list[int]:
        finder = BoxFinder(run, "segmentation", object(), (16, 16), ["a", "b"], class_map, 0, "v1")
        raw, _ = candidates(finder, picture, view)
        return sorted(int(c) for c in raw.classes[0] if c >= 0)

    first = box_classes({1: 0, 2: 1})
    second = box_classes({1: 0, 2: 0})
    assert first == [0, 1]
    assert second == [0, 0]


def _folder_dataset(root: Path, classes: list[str], colour: int) -> None:
    for index, name in enumerate(classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for n in range(4):
            Image.new("RGB", (20, 20), (colour, 40 * index, 10 * n)).save(root / name / f"{n}.png")


def test_sample_pictures_of_a_folder_follow_its_files(tmp_path):
    """The Datasets page's sample grid is cached by ``dataset_key``: a folder whose files
    changed (here a class added and every picture redrawn) must not show the old pictures."""
    from ui.data import dataset_key, load_dataset, sample_pictures

    root = tmp_path / "pets"
    _folder_dataset(root, ["cat", "dog"], colour=200)
    before = load_dataset("image_folder", str(root))
    old_key = dataset_key(before)
    old = sample_pictures(before, old_key, "train", 2, 0, False, 0.5, False)
    stamp = os.stat(root).st_mtime_ns
    _folder_dataset(root, ["bird", "cat", "dog"], colour=20)
    os.utime(root, ns=(stamp + 10**9, stamp + 10**9))  # a coarse file system clock still moves on
    after = load_dataset("image_folder", str(root))
    new_key = dataset_key(after)
    assert new_key != old_key
    new = sample_pictures(after, new_key, "train", 2, 0, False, 0.5, False)
    assert not np.array_equal(new[0][0], old[0][0])


def test_a_run_model_is_cached_per_runs_folder(tmp_path, monkeypatch):
    """Two runs folders may hold a run of the same name: each page must load its own file."""
    import cv_core.runs
    from ui.task_page import run_model

    monkeypatch.setattr(cv_core.runs, "load_best_model",
                        lambda run_dir: SimpleNamespace(input_shape=(None, 8, 8, 3), source=str(run_dir)))
    loaded = []
    for root in ("first", "second"):
        run_dir = tmp_path / root / "20260101-000000-same"
        run_dir.mkdir(parents=True)
        (run_dir / "best.keras").write_bytes(b"model")
        os.utime(run_dir / "best.keras", ns=(10**18, 10**18))  # same name, same time
        loaded.append(run_model(SimpleNamespace(id=run_dir.name, dir=run_dir)))
    assert loaded[0].model.source != loaded[1].model.source
    assert loaded[0].key != loaded[1].key


def _picture_key_script(root: str) -> None:
    import streamlit as st

    from ui.data import load_dataset
    from ui.task_page import dataset_picture

    picture = dataset_picture("cache_test", load_dataset("user:my_pets", root))
    st.session_state["picture_key"] = picture.key


def test_a_pictures_key_follows_masks_added_to_a_user_dataset(lab_roots):
    """Segmentation's predictions are cached by the picture's key: saving masks changes which
    picture sits at an index of a split, so the key must change with the dataset."""
    from cv_core.datasets import UserMaskStore

    _, data = lab_roots
    store = UserMaskStore(data / "user_masks")
    store.create("my_pets", ["background", "cat"])
    rng = np.random.default_rng(0)

    def save(count: int) -> None:
        for _ in range(count):
            mask = np.zeros((24, 32), np.uint8)
            mask[4:12, 5:15] = 1
            store.save_mask("my_pets", rng.integers(0, 256, (24, 32, 3), dtype=np.uint8), mask)

    save(6)
    at = AppTest.from_function(_picture_key_script, args=(str(store.root),), default_timeout=60)
    at.run()
    assert not at.exception
    split = at.selectbox(key="cache_test_split").value
    before = at.session_state["picture_key"]
    save(6)
    at.run()
    assert not at.exception
    assert at.selectbox(key="cache_test_split").value == split
    assert at.session_state["picture_key"] != before
