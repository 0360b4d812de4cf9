"""COCO instance files into and out of user mask datasets (issue 17 §1 Interop, §7 bad input).

Fixtures are made here: a few small pictures and a COCO file written by hand (polygons,
uncompressed RLE) or by pycocotools (compressed RLE).
"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from cv_core.datasets import DatasetError, UserMaskStore, open_dataset
from cv_core.instances.coco import mask_to_rle


def png(array) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def picture(h=20, w=30, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def square(h, w, y0, y1, x0, x1):
    m = np.zeros((h, w), bool)
    m[y0:y1, x0:x1] = True
    return m


def coco_file():
    """Two pictures. a.png: two touching cats (RLE) and a dog (polygon); b.png: a cat (uncompressed RLE).

    Category ids skip numbers (3 = cat, 7 = dog), as real files' do.
    """
    cat1, cat2 = square(20, 30, 2, 10, 2, 10), square(20, 30, 2, 10, 10, 18)
    dog_polygon = [20, 12, 28, 12, 28, 18, 20, 18]  # pixel corners: covers x 20..27, y 12..17
    data = {
        "images": [{"id": 11, "file_name": "pics/a.png", "width": 30, "height": 20},
                   {"id": 12, "file_name": "b.png", "width": 30, "height": 20}],
        "categories": [{"id": 7, "name": "dog"}, {"id": 3, "name": "cat"}],
        "annotations": [
            {"id": 1, "image_id": 11, "category_id": 3, "segmentation": mask_to_rle(cat1), "area": 64,
             "bbox": [2, 2, 8, 8], "iscrowd": 0},
            {"id": 2, "image_id": 11, "category_id": 3, "segmentation": mask_to_rle(cat2), "area": 64,
             "bbox": [10, 2, 8, 8], "iscrowd": 0},
            {"id": 5, "image_id": 11, "category_id": 7, "segmentation": [dog_polygon], "area": 48,
             "bbox": [20, 12, 8, 6], "iscrowd": 0},
            # uncompressed RLE in column-major order: 3 columns (x 5..7) of 6 pixels (y 4..9)
            {"id": 9, "image_id": 12, "category_id": 3,
             "segmentation": {"size": [20, 30], "counts": [20 * 5 + 4, 6, 14, 6, 14, 6, 20 * 30 - 104 - 6 * 3 - 28]},
             "area": 18, "bbox": [5, 4, 3, 6], "iscrowd": 0},
        ],
    }
    return data


def folder_with(tmp_path, data, pictures=None):
    root = tmp_path / "set"
    (root / "pics").mkdir(parents=True)
    pictures = pictures or {"pics/a.png": picture(seed=1), "b.png": picture(seed=2)}
    for name, array in pictures.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(png(array))
    (root / "instances.json").write_text(json.dumps(data))
    return root


@pytest.fixture
def store(tmp_path):
    return UserMaskStore(tmp_path / "user_masks")


def test_import_a_folder_and_a_coco_file(tmp_path, store):
    root = folder_with(tmp_path, coco_file())
    report = store.import_coco("pets", root / "instances.json", root)
    assert report.created and report.items == [("pics/a.png", "a"), ("b.png", "b")] and report.objects == 4
    info = store.dataset_info("pets")
    assert info["class_names"] == ["background", "cat", "dog"]  # categories in id order: 3 cat, 7 dog
    image, mask = store.load_item("pets", "a")
    assert np.array_equal(image, picture(seed=1))
    instances = store.load_instances("pets", "a")
    assert (mask[2:10, 2:18] == 1).all() and (mask[12:18, 20:28] == 2).all() and int((mask > 0).sum()) == 128 + 48
    assert (instances[2:10, 2:10] == 1).all() and (instances[2:10, 10:18] == 2).all()
    assert (instances[12:18, 20:28] == 3).all()
    _, mask_b = store.load_item("pets", "b")
    assert (mask_b[4:10, 5:8] == 1).all() and int(mask_b.sum()) == 18
    sample_objects = sum(len(s.boxes) for split in ("train", "validation", "test")
                         for s in open_dataset("user:pets", store.root).samples(split, count=5))
    assert sample_objects == 4  # the touching cats stay two objects


def test_a_zip_round_trip_is_exact(tmp_path, store):
    root = folder_with(tmp_path, coco_file())
    store.import_coco("pets", root / "instances.json", root)
    data = store.export_zip("pets")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = sorted(archive.namelist())
        coco = json.loads(archive.read("pets/annotations/instances_pets.json"))
    assert names == ["pets/annotations/instances_pets.json", "pets/images/a.png", "pets/images/b.png"]
    assert [c["name"] for c in coco["categories"]] == ["cat", "dog"]
    assert sorted(a["area"] for a in coco["annotations"]) == [18, 48, 64, 64]
    # pycocotools reads it (COCO's own reader), with the same areas it computes from the RLE
    from pycocotools import mask as mask_utils
    from pycocotools.coco import COCO

    api = COCO()
    api.dataset = coco
    api.createIndex()
    for ann in api.loadAnns(api.getAnnIds()):
        assert int(mask_utils.area(api.annToRLE(ann))) == ann["area"]
    report = store.import_zip("again", data)
    assert report.objects == 4
    for item in ("a", "b"):
        assert np.array_equal(store.load_item("again", item)[1], store.load_item("pets", item)[1])
        assert np.array_equal(store.load_item("again", item)[0], store.load_item("pets", item)[0])
        assert np.array_equal(store.load_instances("again", item), store.load_instances("pets", item))


def test_export_of_masks_without_instance_maps_gives_their_regions(store):
    store.create("plain", ["background", "thing"])
    mask = np.zeros((20, 30), np.uint8)
    mask[2:6, 2:6] = mask[10:14, 10:20] = 1
    store.save_mask("plain", picture(), mask, item_id="x")
    coco = store.export_coco("plain", encoding="polygon")
    assert sorted(a["area"] for a in coco["annotations"]) == [16, 40]
    assert all(isinstance(a["segmentation"], list) for a in coco["annotations"])


def test_import_into_an_existing_dataset_matches_classes_by_name(tmp_path, store):
    store.create("mine", ["background", "bird", "Dog", "cat"])
    root = folder_with(tmp_path, coco_file())
    report = store.import_coco("mine", root / "instances.json", root)
    assert not report.created
    _, mask = store.load_item("mine", "a")
    assert (mask[2:10, 2:18] == 3).all() and (mask[12:18, 20:28] == 2).all()
    # again: the ids are taken, so the new items get others
    again = store.import_coco("mine", root / "instances.json", root)
    assert [item for _, item in again.items] == ["a-2", "b-2"]
    store.create("other", ["background", "car"])
    with pytest.raises(DatasetError, match="'cat', 'dog' are not classes of the dataset 'other'"):
        store.import_coco("other", root / "instances.json", root)
    assert store.list_items("other") == []


def _bad(data, change):
    data = json.loads(json.dumps(data))
    change(data)
    return data


def _set(path, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


@pytest.mark.parametrize("change, message", [
    # RLE of the wrong size
    (_set(["annotations", 0, "segmentation"], mask_to_rle(np.ones((10, 30), bool))),
     r"RLE of annotation 1 \(picture 'pics/a.png'\) is for a \[10, 30\] picture"),
    # a polygon with fewer than three points
    (_set(["annotations", 2, "segmentation"], [[20, 12, 28, 12]]), "has 2 point\\(s\\): a polygon needs at least three"),
    # an instance with no pixels
    (_set(["annotations", 3, "segmentation"], {"size": [20, 30], "counts": [600]}), "Annotation 9 .* has no pixels"),
    (_set(["annotations", 2, "category_id"], 99), "category id 99"),
])
def test_bad_coco_files_are_refused_whole_and_write_nothing(tmp_path, store, change, message):
    root = folder_with(tmp_path, _bad(coco_file(), change))
    with pytest.raises(DatasetError, match=message):
        store.import_coco("pets", root / "instances.json", root)
    assert "pets" not in store.list_datasets()


def test_overlapping_objects_are_refused_or_resolved_later_in_front(tmp_path, store):
    data = coco_file()
    data["annotations"][1]["segmentation"] = mask_to_rle(square(20, 30, 2, 10, 8, 18))  # 2 columns shared
    root = folder_with(tmp_path, data)
    with pytest.raises(DatasetError, match=r"Annotation 2 of picture 'pics/a.png' overlaps annotation\(s\) \[1\] on 16"):
        store.import_coco("pets", root / "instances.json", root)
    assert "pets" not in store.list_datasets()
    report = store.import_coco("pets", root / "instances.json", root, overlap="later_in_front")
    assert report.overlaps == ["In 'pics/a.png', annotation(s) [1] gave their shared pixels to later annotations."]
    instances = store.load_instances("pets", "a")
    assert (instances[2:10, 2:8] == 1).all() and (instances[2:10, 8:18] == 2).all()


def test_a_picture_of_another_size_than_the_file_says_is_refused_or_skipped(tmp_path, store):
    root = folder_with(tmp_path, coco_file(), {"pics/a.png": picture(seed=1), "b.png": picture(24, 30, seed=2)})
    with pytest.raises(DatasetError, match=r"'b.png' is 30 × 24 pixels but the COCO file says 30 × 20"):
        store.import_coco("pets", root / "instances.json", root)
    assert "pets" not in store.list_datasets()
    report = store.import_coco("pets", root / "instances.json", root, skip_bad=True)
    assert report.items == [("pics/a.png", "a")] and len(report.skipped) == 1 and "b.png" in report.skipped[0]


def test_a_missing_picture_is_named(tmp_path, store):
    root = folder_with(tmp_path, coco_file(), {"pics/a.png": picture(seed=1)})
    with pytest.raises(DatasetError, match="'b.png' is not among the pictures given"):
        store.import_coco("pets", root / "instances.json", root)


@pytest.mark.parametrize("members, message", [
    ({"x.json": b"{}", "y.json": b"{}"}, "found 2"),
    ({"../evil.json": b"{}"}, "unsafe name"),
    ({"a.png": b"x"}, "found 0"),
])
def test_bad_zips_are_refused(store, members, message):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(DatasetError, match=message):
        store.import_zip("z", buffer.getvalue())
    with pytest.raises(DatasetError, match="not a zip"):
        store.import_zip("z", b"not a zip")
    assert store.list_datasets() == []


def test_bad_json_bytes_are_refused(tmp_path, store):
    with pytest.raises(DatasetError, match="could not be read as JSON"):
        store.import_coco("pets", b"{not json", tmp_path)
