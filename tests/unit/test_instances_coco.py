"""COCO instance files: read polygons and RLE, write and read back, and each bad input's message."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cv_core.instances import (CocoFormatError, CocoOverlapError, coco_instances_dict, mask_to_rle,
                               read_coco_instances, write_coco_instances)
from cv_core.instances.metrics import mask_iou_matrix

H, W = 20, 30


def _file(annotations, images=None, categories=None):
    return {"images": images or [{"id": 1, "file_name": "a.png", "width": W, "height": H}],
            "annotations": annotations,
            "categories": categories or [{"id": 3, "name": "square"}, {"id": 7, "name": "circle"}]}


def _square(y0, x0, side):
    mask = np.zeros((H, W), bool)
    mask[y0:y0 + side, x0:x0 + side] = True
    return mask


def _ann(i, segmentation, category=3):
    return {"id": i, "image_id": 1, "category_id": category, "segmentation": segmentation, "area": 1.0,
            "bbox": [0, 0, 1, 1], "iscrowd": 0}


def test_polygon_and_rle_read_as_pycocotools_draws_them():
    from pycocotools import mask as mask_utils

    polygon = [[2, 2, 12, 2, 12, 10, 2, 10]]
    rle = mask_to_rle(_square(5, 15, 6))
    data = read_coco_instances(_file([_ann(1, polygon), _ann(2, rle, category=7)]))
    assert data.class_names == ["background", "square", "circle"] and data.category_ids == [3, 7]
    first, second = data.objects[1]
    expected = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(polygon, H, W))).astype(bool)
    np.testing.assert_array_equal(first["mask"], expected)
    assert first["class"] == 1 and first["area"] == int(expected.sum())
    np.testing.assert_array_equal(second["mask"], _square(5, 15, 6))
    assert second["class"] == 2 and second["box"] == (15, 5, 21, 11)
    classes, instances, lost = data.instance_map(1)
    assert lost == [] and set(np.unique(instances)) == {0, 1, 2}
    np.testing.assert_array_equal(classes == 2, _square(5, 15, 6))


def test_uncompressed_rle_reads():
    mask = _square(3, 4, 5)
    flat = mask.ravel(order="F").astype(int)
    counts, value, run = [], 0, 0
    for v in flat:
        if v == value:
            run += 1
        else:
            counts.append(run)
            value, run = v, 1
    counts.append(run)
    data = read_coco_instances(_file([_ann(1, {"size": [H, W], "counts": counts})]))
    np.testing.assert_array_equal(data.objects[1][0]["mask"], mask)


def test_write_then_read_is_exact_with_rle_and_close_with_polygons(tmp_path):
    a, b = _square(2, 2, 8), _square(2, 10, 8)  # touching
    c = _square(12, 3, 6)
    c[14, 3:9] = False                          # cut in two: one object, two regions
    objects = [{"mask": a, "class": 1}, {"mask": b, "class": 1}, {"mask": c, "class": 2, "score": 0.5}]
    path = write_coco_instances(tmp_path / "out.json", [("a.png", objects)], ["background", "square", "circle"])
    data = read_coco_instances(path)
    for obj, back in zip(objects, data.objects[1]):
        np.testing.assert_array_equal(back["mask"], obj["mask"])
        assert back["class"] == obj["class"]
    written = json.loads(path.read_text())
    assert written["annotations"][0]["bbox"] == [2, 2, 8, 8] and written["annotations"][0]["area"] == 64
    assert written["annotations"][2]["score"] == 0.5 and written["annotations"][0]["iscrowd"] == 0
    polygons = read_coco_instances(coco_instances_dict([("a.png", objects)], ["background", "square", "circle"],
                                                       encoding="polygon"))
    for obj, back in zip(objects, polygons.objects[1]):
        assert mask_iou_matrix([back["mask"]], [obj["mask"]])[0, 0] >= 0.85


def test_rle_of_the_wrong_size_is_refused():
    rle = mask_to_rle(np.ones((H + 1, W), bool))
    with pytest.raises(CocoFormatError, match=r"RLE of annotation 1 .*is for a \[21, 30\] picture .*\[20, 30\]"):
        read_coco_instances(_file([_ann(1, rle)]))
    with pytest.raises(CocoFormatError, match="add up to 5 pixels but the picture has 20 × 30 = 600"):
        read_coco_instances(_file([_ann(1, {"size": [H, W], "counts": [2, 3]})]))


def test_a_polygon_with_fewer_than_three_points_is_refused():
    with pytest.raises(CocoFormatError, match="has 2 point\\(s\\): a polygon needs at least three"):
        read_coco_instances(_file([_ann(1, [[1, 1, 5, 5]])]))


def test_overlapping_instances_are_refused_unless_resolved():
    data = read_coco_instances(_file([_ann(1, mask_to_rle(_square(2, 2, 8))), _ann(2, mask_to_rle(_square(6, 6, 8)))]))
    assert len(data.objects[1]) == 2  # reading keeps both masks whole
    with pytest.raises(CocoOverlapError, match="Annotation 2 .*overlaps annotation\\(s\\) \\[1\\] on 16 pixels"):
        data.instance_map(1)
    classes, instances, lost = data.instance_map(1, overlap="later_in_front")
    assert lost == [1] and int((instances == 2).sum()) == 64 and int((instances == 1).sum()) == 64 - 16


@pytest.mark.parametrize("section, field", [("annotations", "segmentation"), ("annotations", "category_id"),
                                            ("images", "height"), ("categories", "name")])
def test_missing_fields_are_named(section, field):
    data = _file([_ann(1, mask_to_rle(_square(2, 2, 4)))])
    del data[section][0][field]
    with pytest.raises(CocoFormatError, match=f"has no '{field}'"):
        read_coco_instances(data)


def test_other_bad_files(tmp_path):
    with pytest.raises(CocoFormatError, match="no pixels"):
        read_coco_instances(_file([_ann(1, mask_to_rle(np.zeros((H, W), bool)))]))
    with pytest.raises(CocoFormatError, match="category id 9"):
        read_coco_instances(_file([_ann(1, mask_to_rle(_square(2, 2, 4)), category=9)]))
    crowd = _ann(1, mask_to_rle(_square(2, 2, 4)))
    crowd["iscrowd"] = 1
    with pytest.raises(CocoFormatError, match="crowd"):
        read_coco_instances(_file([crowd]))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(CocoFormatError, match="could not be read as JSON"):
        read_coco_instances(tmp_path / "bad.json")
    with pytest.raises(CocoFormatError, match="no list `images`"):
        read_coco_instances({"annotations": [], "categories": []})


def test_instance_and_keypoint_files_describe_a_picture_with_one_record():
    from cv_core.coco_files import CocoImage
    from cv_core.instances.coco import CocoImage as InstancePicture
    from cv_core.keypoints.coco import CocoImage as KeypointPicture

    assert InstancePicture is CocoImage and KeypointPicture is CocoImage
    assert CocoImage(3, "a.png", 40, 30) == CocoImage(id=3, file_name="a.png", width=40, height=30)
