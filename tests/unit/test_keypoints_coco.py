"""COCO keypoint files: read into the lab's structures, written back, every bad file explained."""

from __future__ import annotations

import contextlib
import copy
import io
import json

import numpy as np
import pytest
from PIL import Image

from cv_core.datasets import DatasetError, open_dataset
from cv_core.datasets.people import render_people
from cv_core.keypoints import PEOPLE
from cv_core.keypoints.coco import (CocoFormatError, CocoImage, coco_keypoints_dict, read_coco_keypoints,
                                    write_coco_keypoints)


def _fixture() -> dict:
    """Two pictures, three joints, one person each plus an unlabelled crowd region."""
    return {
        "images": [{"id": 7, "file_name": "a.png", "width": 40, "height": 30},
                   {"id": 9, "file_name": "b.png", "width": 20, "height": 20}],
        "annotations": [
            {"id": 1, "image_id": 7, "category_id": 1, "keypoints": [10, 5, 2, 12, 20, 1, 0, 0, 0],
             "num_keypoints": 2, "bbox": [8, 4, 10, 18], "area": 120, "iscrowd": 0},
            {"id": 2, "image_id": 9, "category_id": 1, "keypoints": [3, 4, 2, 5, 6, 2, 19, 19, 2],
             "num_keypoints": 3, "bbox": [2, 3, 18, 17], "area": 80.5, "iscrowd": 0},
            {"id": 3, "image_id": 9, "category_id": 1, "keypoints": [0, 0, 0] * 3,
             "num_keypoints": 0, "bbox": [0, 0, 5, 5], "area": 25, "iscrowd": 1},
        ],
        "categories": [{"id": 1, "name": "thing", "supercategory": "thing",
                        "keypoints": ["top", "left_foot", "right_foot"], "skeleton": [[1, 2], [1, 3]]}],
    }


def test_reading_gives_continuous_pixels_and_a_zero_based_skeleton():
    data = read_coco_keypoints(_fixture())
    assert data.skeleton.joints == ("top", "left_foot", "right_foot")
    assert data.skeleton.edges == ((0, 1), (0, 2))  # COCO counts from 1
    assert data.skeleton.flip_pairs == ((1, 2),)
    assert [image.file_name for image in data.images] == ["a.png", "b.png"]
    first = data.instances[7][0]
    assert first.points.tolist() == [[10.5, 5.5], [12.5, 20.5], [0, 0]]  # pixel indices -> pixel centres
    assert first.visibility.tolist() == [2, 1, 0]
    assert first.box == (8, 4, 18, 22) and first.area == 120
    crowd = data.instances[9][1]
    assert crowd.crowd and crowd.num_labelled == 0
    assert data.warnings == []


def test_write_of_read_gives_the_same_file_back(tmp_path):
    fixture = _fixture()
    data = read_coco_keypoints(fixture)
    path = write_coco_keypoints(tmp_path / "out.json", data.items(), data.skeleton, category_name="thing")
    written = json.loads(path.read_text())
    assert written["images"] == fixture["images"]
    assert written["categories"] == fixture["categories"]
    assert written["annotations"] == fixture["annotations"]  # 10 == 10.0 in JSON numbers


def test_generated_people_round_trip_and_load_in_pycocotools(tmp_path):
    items = []
    for index in range(6):
        sample = render_people(0, "train", index, 64)
        items.append((CocoImage(index + 1, f"{index}.png", 64, 64), sample.keypoints))
    path = write_coco_keypoints(tmp_path / "people.json", items, PEOPLE)
    data = read_coco_keypoints(path)
    assert data.skeleton.joints == PEOPLE.joints and data.skeleton.edges == PEOPLE.edges
    assert data.skeleton.sigmas == PEOPLE.sigmas  # head and neck known by name, the rest COCO's
    for (_, before), (_, after) in zip(items, data.items()):
        assert len(before) == len(after)
        for a, b in zip(before, after):
            assert np.array_equal(a.visibility, b.visibility)
            labelled = a.visibility > 0
            assert np.allclose(a.points[labelled], b.points[labelled], atol=0.005)  # written to 1/100 px
            assert a.box == pytest.approx(b.box) and a.area == pytest.approx(b.area)
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO

    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(path))
    assert len(coco.getAnnIds()) == sum(len(people) for _, people in items)
    assert coco.loadCats(1)[0]["skeleton"][0] == [1, 2]  # head - neck, counted from 1


def _broken(change) -> dict:
    data = copy.deepcopy(_fixture())
    change(data)
    return data


@pytest.mark.parametrize("change, words", [
    (lambda d: d.pop("annotations"), "no 'annotations' list"),
    (lambda d: d["annotations"][0].pop("num_keypoints"), r"annotations\[0\] has no 'num_keypoints'"),
    (lambda d: d["annotations"][1].pop("bbox"), "'bbox'"),
    (lambda d: d["annotations"][0].update(keypoints=[1, 2, 2] * 2), "holds 6 numbers.*3 keypoints.*9"),
    (lambda d: d["annotations"][0].update(keypoints=[1, 2, 2] * 4), "holds 12 numbers"),
    (lambda d: d["annotations"][0]["keypoints"].__setitem__(0, float("nan")), "finite numbers \\(no NaN\\)"),
    (lambda d: d["annotations"][0]["keypoints"].__setitem__(0, 41),
     "joint 1 \\('top'\\) is at \\(41, 5\\), outside the 40×30"),
    (lambda d: d["annotations"][0]["keypoints"].__setitem__(2, 3), "v = 3"),
    (lambda d: d["annotations"][0].update(num_keypoints=3), "'num_keypoints' is 3 but 2"),
    (lambda d: d["annotations"][0].update(bbox=[0, 0, -1, 4]), "'bbox' should be"),
    (lambda d: d["annotations"][0].update(area=float("inf")), "'area'"),
    (lambda d: d["annotations"][0].update(image_id=99), "image 99, which 'images' does not list"),
    (lambda d: d["categories"][0].update(skeleton=[[1, 4]]), "names joint 4.*3 keypoints.*from 1"),
    (lambda d: d["categories"][0].update(skeleton=[[0, 1]]), "names joint 0"),
    (lambda d: d["categories"][0].update(skeleton=[[1, 1]]), "two different joints"),
    (lambda d: d["categories"][0].update(keypoints=["a", "a", "b"]), "more than once"),
    (lambda d: d["categories"][0].pop("keypoints"), "not a COCO keypoint file"),
    (lambda d: d["categories"].append({**d["categories"][0], "id": 2, "name": "other"}), "choose one"),
    (lambda d: d["images"][0].update(width=0), "'width'"),
    (lambda d: d["images"][1].update(id=7), "used once"),
])
def test_bad_files_name_the_problem(change, words):
    with pytest.raises(CocoFormatError, match=words):
        read_coco_keypoints(_broken(change))


def test_a_point_on_the_far_edge_is_accepted_and_moved_onto_it():
    data = read_coco_keypoints(_broken(lambda d: d["annotations"][0]["keypoints"].__setitem__(0, 40)))
    assert data.instances[7][0].points[0, 0] == 40.0


def test_fields_coco_does_not_define_are_listed_or_refused():
    data = _broken(lambda d: d["annotations"][0].update(attributes={"occluded": False}))
    read = read_coco_keypoints(data)
    assert any("'attributes'" in w and "ignored" in w for w in read.warnings)
    with pytest.raises(CocoFormatError, match="'attributes'"):
        read_coco_keypoints(data, strict=True)


def test_bad_json_text_and_pictures(tmp_path):
    (tmp_path / "bad.json").write_text("{ not json")
    with pytest.raises(CocoFormatError, match="not valid JSON"):
        read_coco_keypoints(tmp_path / "bad.json")
    Image.new("RGB", (40, 30)).save(tmp_path / "a.png")
    with pytest.raises(CocoFormatError, match="1 of the 2 pictures.*b.png"):
        read_coco_keypoints(_fixture(), images_folder=tmp_path)
    Image.new("RGB", (21, 20)).save(tmp_path / "b.png")
    with pytest.raises(CocoFormatError, match="b.png is 21×20 pixels, but the file says 20×20"):
        read_coco_keypoints(_fixture(), images_folder=tmp_path)


def test_writing_refuses_points_that_do_not_fit():
    data = read_coco_keypoints(_fixture())
    image, people = data.items()[0]
    people[0].points[0] = (np.nan, 1)
    with pytest.raises(ValueError, match="finite"):
        coco_keypoints_dict([(image, people)], data.skeleton)
    people[0].points[0] = (400, 1)
    with pytest.raises(ValueError, match="inside the 40×30 picture"):
        coco_keypoints_dict([(image, people)], data.skeleton)
    with pytest.raises(ValueError, match="Expected 14 joints"):
        coco_keypoints_dict([(image, people)], PEOPLE)


def test_a_folder_with_a_coco_file_opens_as_a_dataset(tmp_path):
    items = []
    for index in range(7):
        sample = render_people(1, "train", index, 64)
        Image.fromarray(sample.image).save(tmp_path / f"{index}.png")
        items.append((CocoImage(index + 1, f"{index}.png", 64, 64), sample.keypoints))
    write_coco_keypoints(tmp_path / "annotations" / "person_keypoints.json", items, PEOPLE)
    ds = open_dataset("coco_keypoints", tmp_path, validation_split=0.3, test_split=0.0)
    assert [ds.count(s) for s in ("train", "validation", "test")] == [5, 2, 0]
    assert ds.has_keypoints and ds.skeleton.joints == PEOPLE.joints
    seen = {}
    for split in ("train", "validation"):
        for index in range(ds.count(split)):
            sample = ds.sample(split, index)
            seen[sample.source] = sample
    assert sorted(seen) == [f"{i}.png" for i in range(7)]
    original = dict((image.file_name, people) for image, people in items)
    for name, sample in seen.items():
        assert sample.image.shape == (64, 64, 3)
        assert len(sample.keypoints) == len(original[name])
        assert np.allclose(sample.keypoints[0].points, original[name][0].points, atol=0.005)
    (tmp_path / "other.json").write_text("{}")
    with pytest.raises(DatasetError, match="found 2"):
        open_dataset("coco_keypoints", tmp_path)
    with pytest.raises(DatasetError, match="other.json.*no 'images' list"):
        open_dataset("coco_keypoints", tmp_path, annotations="other.json")
