"""Mask studio datasets outside the studio: the Datasets page lists them (``user:<name>``) with
their samples, masks and counts, and every cached view of one follows the masks saved since."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cv_core.datasets import DATASETS, UserMaskStore
from cv_core.datasets.user_masks import split_items

APP = str(Path(__file__).resolve().parents[2] / "app.py")
CLASSES = ["background", "cat", "dog"]


def picture(seed: int, size=(24, 32)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)


def drawn_mask(seed: int, size=(24, 32)) -> np.ndarray:
    mask = np.zeros(size, np.uint8)
    mask[4:12, 5:15] = 1 + seed % 2  # one object: a cat or a dog
    return mask


@pytest.fixture
def store(lab_roots) -> UserMaskStore:
    _, data = lab_roots
    store = UserMaskStore(data / "user_masks")
    store.create("my_pets", CLASSES)
    for seed in range(2):
        store.save_mask("my_pets", picture(seed), drawn_mask(seed))
    return store


def counts_shown(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def expected_counts(store: UserMaskStore, name: str) -> dict[str, str]:
    splits = split_items(store.list_items(name))
    return {"Classes": str(len(CLASSES)), "Train images": str(len(splits["train"])),
            "Validation images": str(len(splits["validation"])), "Test images": str(len(splits["test"]))}


def test_load_dataset_follows_masks_saved_after_it_was_opened(store):
    """The cache of opened datasets is keyed on the dataset folder's state, not the store's: a
    dataset opened with two masks lists three once a third is saved (and two after a delete)."""
    from ui.data import load_dataset

    root = str(store.root)
    before = load_dataset("user:my_pets", root)
    assert sum(before.count(s) for s in ("train", "validation", "test")) == 2
    store.save_mask("my_pets", picture(2), drawn_mask(2))
    after = load_dataset("user:my_pets", root)
    assert sum(after.count(s) for s in ("train", "validation", "test")) == 3
    assert after.items == split_items(store.list_items("my_pets"))
    store.delete_item("my_pets", "0001")
    assert sum(load_dataset("user:my_pets", root).count(s) for s in ("train", "validation", "test")) == 2
    # Nothing changed: the same opened dataset comes back from the cache.
    assert load_dataset("user:my_pets", root) is load_dataset("user:my_pets", root)


def test_segmentation_only_picker_keeps_the_datasets_with_masks():
    """``has_masks`` decides which built-in datasets the Mask studio offers (issue 14 §1)."""
    assert [n for n in DATASETS if DATASETS[n][0].has_masks] == ["shapes", "oxford_pets"]


def test_datasets_page_lists_mask_studio_datasets_with_samples_masks_and_counts(store):
    store.create("empty_one", ["background", "road"])
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/datasets.py").run()
    box = at.selectbox(key="datasets_dataset")
    from ui.data import user_dataset_label

    assert {user_dataset_label("my_pets"), user_dataset_label("empty_one")} <= set(box.options)
    box.select("user:my_pets").run()
    assert not at.exception and not at.error
    assert counts_shown(at) == expected_counts(store, "my_pets")
    assert "Your masks in 'my_pets': 2 pictures" in " ".join(m.value for m in at.markdown)
    assert at.toggle(key="datasets_show_mask").value  # the masks are shown over the samples
    captions = [img.proto.imgs[0].caption for img in at.get("image")]
    assert "Mask colours (the background is left clear)" in captions
    train = split_items(store.list_items("my_pets"))["train"]
    assert sorted(c.split(" · ")[1] for c in captions if " · " in c) == sorted(f"{i}.png" for i in train)
    assert any(link.label == "Open it in the Mask studio" for link in at.get("page_link"))

    # A mask saved meanwhile (in the Mask studio) shows on the next rerun.
    store.save_mask("my_pets", picture(7), drawn_mask(7))
    at.run()
    assert counts_shown(at) == expected_counts(store, "my_pets")
    assert "3 pictures" in " ".join(m.value for m in at.markdown)

    # A dataset without masks yet says so, and how to fill it.
    at.selectbox(key="datasets_dataset").select("user:empty_one").run()
    assert not at.exception and not at.metric
    assert any("has no saved masks yet" in i.value and "Mask studio" in i.value for i in at.info)


def test_datasets_page_restores_its_choices_from_the_url(store):
    """The dataset is bound to the URL (the browser test reloads the page); a session opened from
    that address shows the same dataset. Streamlit writes a bound choice as its label."""
    from ui.data import dataset_label

    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["datasets_dataset"] = dataset_label("user:my_pets")
    at.query_params["datasets_split"] = "validation"
    at.run()
    at.switch_page("pages/datasets.py").run()
    assert not at.exception
    assert at.selectbox(key="datasets_dataset").value == "user:my_pets"
    assert counts_shown(at) == expected_counts(store, "my_pets")
    validation = split_items(store.list_items("my_pets"))["validation"]
    captions = [img.proto.imgs[0].caption for img in at.get("image")]
    assert sorted(c.split(" · ")[1] for c in captions if " · " in c) == sorted(f"{i}.png" for i in validation)


def test_load_dataset_follows_instance_maps_saved_after_it_was_opened(store):
    """An instance map beside a mask (painted with "New object", imported from COCO, or dropped in
    by another tool) makes the dataset one with instances, and the cached dataset follows it."""
    from PIL import Image

    from ui.data import load_dataset

    root = str(store.root)
    folder = store.root / "my_pets" / "instances"
    folder.mkdir()  # (an empty folder: no instances yet)
    assert not load_dataset("user:my_pets", root).has_instances
    _, mask = store.load_item("my_pets", "0001")
    Image.fromarray((mask > 0).astype(np.uint8) * 5).save(folder / "0001.png")  # id 5: ids may skip numbers
    opened = load_dataset("user:my_pets", root)
    assert opened.has_instances
    split = next(s for s in ("train", "validation", "test") if "0001" in opened.items[s])
    sample = opened.sample(split, opened.items[split].index("0001"))
    assert set(np.unique(sample.instances).tolist()) == {0, 1} and len(sample.boxes) == 1
