"""Datasets behind open_dataset: shapes, image folders, cats vs dogs and Oxford-IIIT Pets."""

from __future__ import annotations

import numpy as np
import pytest

from cv_core.datasets import (
    CatsVsDogsDataset, DatasetError, ShapesDataset, open_dataset, render_shapes,
)
from tests.unit.fixtures_data import (
    PET_FOREGROUND, PET_NAMES, PET_SIZE, pet_files, solid, truncated_jpeg, write_bytes,
    write_picture, write_tree,
)

SPLITS = ("train", "validation", "test")


def small_shapes(**options):
    settings = dict(train_size=40, validation_size=12, test_size=8, image_size=48)
    settings.update(options)
    return open_dataset("shapes", **settings)


def batches(ds):
    return [(x.numpy(), y.numpy()) for x, y in ds]


# -- shapes ---------------------------------------------------------------------------------


def test_shapes_names_and_split_sizes():
    ds = small_shapes()
    assert isinstance(ds, ShapesDataset)
    assert ds.class_names == ["circle", "square", "triangle", "star", "cross"]
    assert ds.mask_class_names == ["background", *ds.class_names]
    assert ds.has_masks
    assert [ds.count(s) for s in SPLITS] == [40, 12, 8]
    assert ds.steps_per_epoch("train", 16) == 3
    assert ds.steps_per_epoch("test", 8) == 1


def test_shapes_are_deterministic_per_seed():
    a = small_shapes(seed=3).samples("train", count=4)
    b = small_shapes(seed=3).samples("train", count=4)
    c = small_shapes(seed=4).samples("train", count=4)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.image, y.image)
        np.testing.assert_array_equal(x.mask, y.mask)
        assert x.label == y.label and x.boxes == y.boxes
    assert any(not np.array_equal(x.image, z.image) for x, z in zip(a, c))
    # Splits are separate streams of pictures.
    v = small_shapes(seed=3).samples("validation", count=4)
    assert all(not np.array_equal(x.image, z.image) for x, z in zip(a, v))


def test_shapes_sample_contents():
    ds = small_shapes(image_size=64, train_size=150)
    n_classes = len(ds.class_names)
    for sample in ds.samples("train", count=150):
        assert sample.image.shape == (64, 64, 3) and sample.image.dtype == np.uint8
        assert sample.mask.shape == (64, 64) and sample.mask.dtype == np.uint8
        assert 0 <= sample.label < n_classes
        assert sample.mask.max() <= n_classes
        assert sample.boxes, "the main object always has a box"
        own_pixels = []
        for cls, x0, y0, x1, y1 in sample.boxes:
            assert 0 <= cls < n_classes
            assert 0 <= x0 < x1 <= 64 and 0 <= y0 < y1 <= 64
            inside = sample.mask[y0:y1, x0:x1] == cls + 1
            own_pixels.append(int(inside.sum()))
            # The box is tight around pixels of its class: each edge row/column touches one.
            assert inside[0].any() and inside[-1].any() and inside[:, 0].any() and inside[:, -1].any()
        # Every labelled mask pixel lies in some box of its class.
        covered = np.zeros_like(sample.mask, bool)
        for cls, x0, y0, x1, y1 in sample.boxes:
            covered[y0:y1, x0:x1] |= sample.mask[y0:y1, x0:x1] == cls + 1
        stray = (sample.mask > 0) & ~covered
        assert stray.sum() <= 3 * (4 - len(sample.boxes))  # only specks under 4 px get no box
        # The main object (drawn last, so last box) is the label and the largest visible one.
        assert sample.boxes[-1][0] == sample.label
        assert own_pixels[-1] == max(own_pixels)


def test_shapes_labels_and_class_counts():
    ds = small_shapes(train_size=300, image_size=32)
    labels = np.array([s.label for s in ds.samples("train", count=300)])
    np.testing.assert_array_equal(ds._labels("train"), labels)
    counts = ds.class_counts("train")
    assert list(counts) == ds.class_names
    assert sum(counts.values()) == ds.count("train") == 300
    assert min(counts.values()) >= 300 / 5 * 0.6 and max(counts.values()) <= 300 / 5 * 1.4


def test_shapes_sample_index_checks():
    ds = small_shapes()
    np.testing.assert_array_equal(ds.sample("test", 7).image, render_shapes(0, "test", 7, 48).image)
    with pytest.raises(IndexError):
        ds.sample("test", 8)
    with pytest.raises(DatasetError, match="split"):
        ds.count("training")


@pytest.mark.parametrize(
    "options",
    [{"image_size": 8}, {"image_size": 1024}, {"image_size": 64.0}, {"train_size": -1},
     {"validation_size": 2.5}, {"colour": "red"}],
)
def test_shapes_bad_options_raise_dataset_error(options):
    with pytest.raises(DatasetError):
        open_dataset("shapes", **options)


def test_unknown_dataset_name():
    with pytest.raises(DatasetError, match="shapes"):
        open_dataset("mnist")


def test_shapes_tf_dataset_classification():
    ds = small_shapes(train_size=10)
    got = batches(ds.tf_dataset("train", image_size=(32, 40), batch_size=4))
    assert [x.shape for x, _ in got] == [(4, 32, 40, 3), (4, 32, 40, 3), (2, 32, 40, 3)]
    assert [y.shape for _, y in got] == [(4,), (4,), (2,)]
    images = np.concatenate([x for x, _ in got])
    labels = np.concatenate([y for _, y in got])
    assert images.dtype == np.float32 and labels.dtype == np.int32
    assert images.min() >= 0 and images.max() <= 255 and images.max() > 1
    np.testing.assert_array_equal(labels, ds._labels("train"))


def test_shapes_tf_dataset_segmentation():
    ds = small_shapes(train_size=6)
    got = batches(ds.tf_dataset("train", task="segmentation", batch_size=4))
    assert [x.shape for x, _ in got] == [(4, 48, 48, 3), (2, 48, 48, 3)]
    assert [y.shape for _, y in got] == [(4, 48, 48), (2, 48, 48)]
    masks = np.concatenate([y for _, y in got])
    assert masks.dtype == np.int32
    np.testing.assert_array_equal(masks[0], ds.sample("train", 0).mask)
    np.testing.assert_array_equal(got[0][0][1], ds.sample("train", 1).image.astype(np.float32))


@pytest.mark.parametrize(
    "options", [{"task": "detection"}, {"image_size": (4, 4)}, {"batch_size": 0}],
)
def test_tf_dataset_bad_arguments(options):
    with pytest.raises(DatasetError):
        small_shapes().tf_dataset("train", **options)


def test_tf_dataset_of_an_empty_split():
    with pytest.raises(DatasetError, match="empty"):
        small_shapes(test_size=0).tf_dataset("test")


# -- image folders --------------------------------------------------------------------------


def make_flat_folder(root):
    colours = {"apples": (220, 30, 30), "bananas": (230, 220, 40), "cherries": (120, 0, 40)}
    for cls, colour in colours.items():
        for k in range(10):
            write_picture(root / cls / f"{cls}_{k}.{'png' if k % 2 else 'jpg'}", colour)
    write_bytes(root / "apples" / "notes.txt", b"not a picture")
    write_bytes(root / "apples" / "corrupt.jpg", b"\xff\xd8\xff\xe0 this is not really a jpeg")
    write_bytes(root / "bananas" / "empty.png", b"")
    write_bytes(root / "bananas" / "._bananas_0.jpg", b"\x00\x05\x16\x07AppleDouble")
    write_picture(root / "cherries" / "nested" / "deep.jpg", colours["cherries"])
    return colours


def all_files(ds):
    return [(path.name, label) for split in SPLITS for path, label in ds.files[split]]


def test_image_folder_skips_junk_and_splits_each_class(tmp_path):
    make_flat_folder(tmp_path)
    ds = open_dataset("image_folder", tmp_path)
    assert ds.class_names == ["apples", "bananas", "cherries"]
    names = [name for name, _ in all_files(ds)]
    assert len(names) == len(set(names)) == 31
    assert not {"notes.txt", "corrupt.jpg", "empty.png", "._bananas_0.jpg"} & set(names)
    assert "deep.jpg" in names
    assert ds.skipped == 2
    assert sorted(p.rsplit("/", 1)[-1] for p in ds.skipped_files) == ["corrupt.jpg", "empty.png"]
    # 20% validation and 10% test of each class, by a seeded shuffle.
    assert ds.class_counts("validation") == {"apples": 2, "bananas": 2, "cherries": 2}
    assert ds.class_counts("test") == {"apples": 1, "bananas": 1, "cherries": 1}
    assert ds.class_counts("train") == {"apples": 7, "bananas": 7, "cherries": 8}
    assert open_dataset("image_folder", tmp_path).files == ds.files  # deterministic
    for name, label in all_files(ds):
        assert name.startswith(ds.class_names[label]) or name == "deep.jpg" and label == 2


def test_image_folder_samples_are_the_pictures(tmp_path):
    colours = make_flat_folder(tmp_path)
    ds = open_dataset("image_folder", tmp_path, validation_split=0.5, test_split=0.0)
    assert ds.count("test") == 0 and ds.count("validation") == 16  # half of 10, 10 and 11
    for sample in ds.samples("validation", count=16):
        assert sample.image.shape == (20, 24, 3) and sample.mask is None
        expected = colours[ds.class_names[sample.label]]
        assert np.abs(sample.image[10, 12].astype(int) - expected).max() <= 6


def test_image_folder_respects_explicit_split_folders(tmp_path):
    layout = {"train": 4, "validation": 2, "test": 3}
    for split, n in layout.items():
        for cls in ("cat", "dog"):
            for k in range(n):
                write_picture(tmp_path / split / cls / f"{split}_{cls}_{k}.png")
    write_bytes(tmp_path / "test" / "dog" / "broken.png", b"\x89PNG\r\n\x1a\n broken")
    ds = open_dataset("image_folder", tmp_path)
    assert ds.class_names == ["cat", "dog"]
    for split, n in layout.items():
        assert ds.count(split) == 2 * n
        assert all(path.name.startswith(split + "_") for path, _ in ds.files[split])
        assert all(path.name.split("_")[1] == ds.class_names[label] for path, label in ds.files[split])
    assert ds.skipped == 1


def test_image_folder_accepts_val_as_validation(tmp_path):
    for split in ("train", "val"):
        for cls in ("a", "b"):
            write_picture(tmp_path / split / cls / "x.png")
    ds = open_dataset("image_folder", tmp_path)
    assert [ds.count(s) for s in SPLITS] == [2, 2, 0]


@pytest.mark.parametrize(
    "setup, words",
    [
        (lambda root: None, "does not exist"),
        (lambda root: write_picture(root, (1, 2, 3)), "not a folder"),
        (lambda root: root.mkdir(), "no class sub-folders"),
        (lambda root: write_picture(root / "only" / "x.png"), "single class"),
        (lambda root: [write_bytes(root / c / "x.jpg", b"junk") for c in ("a", "b")], "no readable"),
    ],
    ids=["missing", "file", "empty", "one-class", "unreadable"],
)
def test_image_folder_errors_say_what_is_wrong(tmp_path, setup, words):
    root = tmp_path / ("pictures.png" if words == "not a folder" else "pictures")
    setup(root)
    with pytest.raises(DatasetError) as info:
        open_dataset("image_folder", root)
    assert words in str(info.value).lower()


@pytest.mark.parametrize("root", [None, ""])
def test_folder_datasets_need_a_root(root):
    for name in ("image_folder", "cats_vs_dogs", "oxford_pets"):
        with pytest.raises(DatasetError, match="folder"):
            open_dataset(name, root)


def test_image_folder_bad_split_fractions(tmp_path):
    make_flat_folder(tmp_path)
    with pytest.raises(DatasetError, match="validation_split"):
        open_dataset("image_folder", tmp_path, validation_split=0.7, test_split=0.4)


def test_image_folder_tf_dataset_skips_files_truncated_after_the_probe(tmp_path):
    for cls, colour in (("red", (250, 0, 0)), ("blue", (0, 0, 250))):
        for k in range(3):
            write_picture(tmp_path / cls / f"{k}.png", colour, size=(20, 20))
    write_bytes(tmp_path / "red" / "3_cut.jpg", truncated_jpeg())
    ds = open_dataset("image_folder", tmp_path, validation_split=0.0, test_split=0.0)
    assert ds.count("train") == 7 and ds.skipped == 0  # the header probe let it through
    got = batches(ds.tf_dataset("train", image_size=(16, 16), batch_size=4))
    images = np.concatenate([x for x, _ in got])
    labels = np.concatenate([y for _, y in got])
    assert images.shape == (6, 16, 16, 3) and images.dtype == np.float32
    assert labels.tolist() == [0, 0, 0, 1, 1, 1]  # blue, then red without the cut file
    assert (images[:3, ..., 2] > 200).all() and (images[3:, ..., 0] > 200).all()
    assert ds.skipped == 1 and ds.skipped_files[0].startswith(str(tmp_path / "red" / "3_cut.jpg") + ":")


def test_image_folder_has_no_masks(tmp_path):
    make_flat_folder(tmp_path)
    ds = open_dataset("image_folder", tmp_path)
    assert not ds.has_masks
    with pytest.raises(DatasetError, match="segmentation"):
        ds.tf_dataset("train", task="segmentation")


# -- cats vs dogs ---------------------------------------------------------------------------


def make_kaggle(root, n=5):
    for k in range(n):
        write_picture(root / "train" / f"cat.{k}.jpg", (200, 100, 50))
        write_picture(root / "train" / f"dog.{k}.jpg", (50, 100, 200))
    write_bytes(root / "train" / f"cat.{n}.jpg", b"")  # Kaggle's copy is clean; ours is not
    write_bytes(root / "train" / "._cat.0.jpg", b"\x00\x05\x16\x07")


def make_microsoft(root, n=5):
    for k in range(n):
        write_picture(root / "PetImages" / "Cat" / f"{k}.jpg", (200, 100, 50))
        write_picture(root / "PetImages" / "Dog" / f"{k}.jpg", (50, 100, 200))
    write_bytes(root / "PetImages" / "Cat" / "666.jpg", b"\xff\xd8 broken")
    write_bytes(root / "PetImages" / "Dog" / "Thumbs.db", b"windows")


@pytest.mark.parametrize(
    "make, where",
    [(make_kaggle, ""), (make_kaggle, "train"), (make_microsoft, ""), (make_microsoft, "PetImages")],
    ids=["kaggle-parent", "kaggle-train", "microsoft-parent", "microsoft-petimages"],
)
def test_cats_vs_dogs_layouts(tmp_path, make, where):
    make(tmp_path)
    ds = open_dataset("cats_vs_dogs", tmp_path / where if where else tmp_path)
    assert isinstance(ds, CatsVsDogsDataset)
    assert ds.class_names == ["cat", "dog"]
    assert [ds.count(s) for s in SPLITS] == [4, 2, 4]  # 2:1:2 of five per class
    for split in SPLITS:
        assert ds.class_counts(split)["cat"] == ds.class_counts(split)["dog"] > 0
    assert ds.skipped == 1
    # Split by number: 0, 1 train, 2 validates, 3, 4 test.
    numbers = {s: sorted(int(p.name.split(".")[-2]) for p, label in ds.files[s] if label == 0) for s in SPLITS}
    assert numbers == {"train": [0, 1], "validation": [2], "test": [3, 4]}
    for sample in ds.samples("train", count=4):
        assert sample.image.shape == (20, 24, 3) and sample.mask is None
        assert sample.image[10, 12, 2 * sample.label] > 150  # cats are red, dogs blue
    with pytest.raises(DatasetError, match="segmentation"):
        ds.tf_dataset("train", task="segmentation")


def test_cats_vs_dogs_orders_by_number_not_by_name(tmp_path):
    for k in (0, 1, 2, 10, 11):
        write_picture(tmp_path / f"cat.{k}.jpg")
        write_picture(tmp_path / f"dog.{k}.jpg")
    ds = open_dataset("cats_vs_dogs", tmp_path)
    assert sorted(p.name for p, label in ds.files["test"] if label == 0) == ["cat.10.jpg", "cat.11.jpg"]


@pytest.mark.parametrize(
    "n, expected",
    [
        (2500, {"train": (0, 1000), "validation": (1000, 1500), "test": (1500, 2500)}),
        (12500, {"train": (0, 1000), "validation": (1000, 1500), "test": (1500, 2500)}),
        (10, {"train": (0, 4), "validation": (4, 6), "test": (6, 10)}),
        (1000, {"train": (0, 400), "validation": (400, 600), "test": (600, 1000)}),
    ],
)
def test_cats_vs_dogs_book_ranges(n, expected):
    assert CatsVsDogsDataset._ranges(n) == expected


@pytest.mark.parametrize("n", [5, 99, 2499])
def test_cats_vs_dogs_small_ranges_cover_everything_once(n):
    ranges = CatsVsDogsDataset._ranges(n)
    assert ranges["train"][0] == 0 and ranges["test"][1] == n
    assert ranges["train"][1] == ranges["validation"][0] and ranges["validation"][1] == ranges["test"][0]


def test_cats_vs_dogs_uses_the_first_readable_pictures_of_a_large_copy(tmp_path, monkeypatch):
    # The book's ranges, shrunk from 1000/500/1000 so that a large copy stays small.
    monkeypatch.setattr(CatsVsDogsDataset, "BOOK_SPLITS",
                        {"train": (0, 2), "validation": (2, 3), "test": (3, 5)})
    for k in range(9):
        for animal in ("cat", "dog"):
            if (animal, k) in {("cat", 1), ("dog", 7)}:
                write_bytes(tmp_path / f"{animal}.{k}.jpg", b"\xff\xd8 broken")
            else:
                write_picture(tmp_path / f"{animal}.{k}.jpg")
    ds = open_dataset("cats_vs_dogs", tmp_path)
    cats = {s: [p.name for p, label in ds.files[s] if label == 0] for s in SPLITS}
    dogs = {s: [p.name for p, label in ds.files[s] if label == 1] for s in SPLITS}
    assert cats == {"train": ["cat.0.jpg", "cat.2.jpg"], "validation": ["cat.3.jpg"],
                    "test": ["cat.4.jpg", "cat.5.jpg"]}
    assert dogs == {"train": ["dog.0.jpg", "dog.1.jpg"], "validation": ["dog.2.jpg"],
                    "test": ["dog.3.jpg", "dog.4.jpg"]}
    assert ds.skipped == 1  # cat.1; dog.7 lies beyond the ranges and is never looked at


def test_cats_vs_dogs_refuses_other_folders(tmp_path):
    make_flat_folder(tmp_path)
    with pytest.raises(DatasetError, match="cats vs dogs"):
        open_dataset("cats_vs_dogs", tmp_path)


def test_cats_vs_dogs_too_few_pictures(tmp_path):
    make_kaggle(tmp_path, n=1)
    with pytest.raises(DatasetError, match="Too few"):
        open_dataset("cats_vs_dogs", tmp_path)


# -- Oxford-IIIT Pets -----------------------------------------------------------------------


@pytest.fixture
def pets_root(tmp_path):
    return write_tree(tmp_path / "pets", pet_files())


def test_oxford_pets_species(pets_root):
    ds = open_dataset("oxford_pets", pets_root)
    assert ds.class_names == ["cat", "dog"]
    assert ds.mask_class_names == ["foreground", "background", "boundary"] and ds.has_masks
    assert sum(ds.count(s) for s in SPLITS) == len(PET_NAMES)
    assert ds.count("validation") == ds.count("test") == 1  # 12.5% of 10, rounded
    assert ds.skipped == 2  # the AppleDouble file and the photo without a trimap
    skipped = " ".join(ds.skipped_files)
    assert "._Abyssinian_1.jpg" in skipped and "havanese_9.jpg" in skipped
    totals = {name: sum(ds.class_counts(s)[name] for s in SPLITS) for name in ds.class_names}
    assert totals == {"cat": 5, "dog": 5}
    for split in SPLITS:
        for image_path, _, label in ds.files[split]:
            assert label == (0 if image_path.name[0].isupper() else 1)


def test_oxford_pets_masks_and_boxes(pets_root):
    ds = open_dataset("oxford_pets", pets_root)
    width, height = PET_SIZE
    x0, y0, x1, y1 = PET_FOREGROUND
    for split in SPLITS:
        for sample in ds.samples(split, count=10):
            assert sample.image.shape == (height, width, 3) and sample.image.dtype == np.uint8
            assert sample.mask.shape == (height, width) and sample.mask.dtype == np.uint8
            assert sorted(np.unique(sample.mask).tolist()) == [0, 1, 2]
            assert (sample.mask[y0:y1, x0:x1] == 0).all()  # trimap 1 -> 0 foreground
            assert sample.mask[0, 0] == 1  # trimap 2 -> 1 background
            assert sample.mask[y0 - 1, x0 - 1] == 2  # trimap 3 -> 2 boundary
            # One box around foreground and boundary.
            assert sample.boxes == [(sample.label, x0 - 1, y0 - 1, x1 + 1, y1 + 1)]


def test_oxford_pets_breeds(pets_root):
    ds = open_dataset("oxford_pets", pets_root, labels="breed")
    assert ds.class_names == ["Abyssinian", "beagle", "Bengal", "boxer", "Persian", "pug"]
    for split in SPLITS:
        for image_path, _, label in ds.files[split]:
            assert image_path.stem.rsplit("_", 1)[0] == ds.class_names[label]
    with pytest.raises(DatasetError, match="labels"):
        open_dataset("oxford_pets", pets_root, labels="colour")


def test_oxford_pets_split_is_seeded(pets_root):
    a = open_dataset("oxford_pets", pets_root)
    assert open_dataset("oxford_pets", pets_root).files == a.files
    assert open_dataset("oxford_pets", pets_root, seed=1).files != a.files


def test_oxford_pets_segmentation_tf_dataset(pets_root):
    ds = open_dataset("oxford_pets", pets_root)
    got = batches(ds.tf_dataset("train", task="segmentation", image_size=(40, 60), batch_size=3))
    images = np.concatenate([x for x, _ in got])
    masks = np.concatenate([y for _, y in got])
    assert images.shape == (8, 40, 60, 3) and images.dtype == np.float32
    assert masks.shape == (8, 40, 60) and masks.dtype == np.int32
    assert set(np.unique(masks).tolist()) == {0, 1, 2}  # nearest resizing mixes no classes
    assert (masks[:, 20, 28] == 0).all() and (masks[:, 0, 0] == 1).all()


def test_oxford_pets_counts_trimaps_without_a_photo(pets_root):
    write_bytes(pets_root / "annotations" / "trimaps" / "shiba_inu_3.png", solid(2, PET_SIZE, mode="L"))
    ds = open_dataset("oxford_pets", pets_root)
    assert ds.skipped == 3
    assert any("shiba_inu_3.png" in note for note in ds.skipped_files)


def test_oxford_pets_mismatched_trimap_is_skipped(pets_root):
    write_bytes(pets_root / "annotations" / "trimaps" / "pug_1.png", solid(2, (10, 10), mode="L"))
    ds = open_dataset("oxford_pets", pets_root)
    loaded = [s.source for split in SPLITS for s in ds.samples(split, count=10)]
    assert "pug_1.jpg" not in loaded and len(loaded) == len(PET_NAMES) - 1
    assert any("pug_1" in note for note in ds.skipped_files)


@pytest.mark.parametrize("make", [lambda root: root.mkdir(), lambda root: write_tree(root, {"images/a_1.jpg": b"x"})])
def test_oxford_pets_wrong_layout(tmp_path, make):
    make(tmp_path / "pets")
    with pytest.raises(DatasetError, match="annotations/trimaps"):
        open_dataset("oxford_pets", tmp_path / "pets")


def test_package_reexports_load_lazily_without_tensorflow():
    import subprocess
    import sys

    code = ("import sys, cv_core; assert 'tensorflow' not in sys.modules; "
            "names = cv_core.__all__; [getattr(cv_core, n) for n in names]; "
            "print(len(names), 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    count, tf_loaded = out.stdout.split()
    assert int(count) >= 20 and tf_loaded == "False"


def test_image_folder_carves_a_missing_validation_split_out_of_train(tmp_path):
    from tests.unit.fixtures_data import write_picture

    for cls in ("a", "b"):
        for i in range(10):
            write_picture(tmp_path / "train" / cls / "nested" / f"{i}.png")
        for i in range(2):
            write_picture(tmp_path / "test" / cls / f"{i}.png")
    ds = open_dataset("image_folder", tmp_path, validation_split=0.2)
    assert ds.class_names == ["a", "b"]
    assert (ds.count("train"), ds.count("validation"), ds.count("test")) == (16, 4, 4)
    train = {p for p, _ in ds.files["train"]}
    validation = {p for p, _ in ds.files["validation"]}
    assert not train & validation and all("train" in p.parts for p in validation)


def test_shapes_difficulty_levels():
    from cv_core.datasets.shapes import DIFFICULTIES

    assert list(DIFFICULTIES) == ["easy", "medium", "hard", "crowded"]
    hard = small_shapes(train_size=40)
    assert hard.difficulty == "hard"  # the default keeps the original pictures
    np.testing.assert_array_equal(hard.sample("train", 3).image, render_shapes(0, "train", 3, 48, "hard").image)
    boxes = {}
    for level in DIFFICULTIES:
        ds = small_shapes(train_size=40, difficulty=level)
        boxes[level] = np.mean([len(ds.sample("train", i).boxes) for i in range(40)])
        assert ds._labels("train").tolist() == [ds.sample("train", i).label for i in range(40)]
    assert boxes["easy"] == 1.0 and boxes["easy"] < boxes["medium"] < boxes["hard"]
    with pytest.raises(DatasetError, match="Expected `difficulty` to be one of \\('easy', 'medium', 'hard', 'crowded'\\)"):
        small_shapes(difficulty="brutal")
    with pytest.raises(DatasetError, match="between 0 and 1,000,000"):
        small_shapes(train_size=10**9)
