"""Detection targets: heatmaps, sizes and offsets from boxes, the exact round trip back to boxes,
the tf.data pipeline (resizing, box-aware augmentation, refusing datasets without boxes) and
Oxford pets' head boxes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cv_core.datasets import Dataset, DatasetError, Sample, open_dataset
from cv_core.detection import (
    augmentation_layers,
    decode_detections,
    encode_targets,
    gaussian_radius,
    targets_as_outputs,
    tf_dataset,
)
from cv_core.detection.targets import augment_batch, draw_gaussian, encode_batch
from tests.unit.fixtures_data import PET_NAMES, pet_files, write_tree


# ---------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------


def test_gaussian_radius_follows_centernets_rule():
    # h = w = 10 cells, IoU 0.7: r1 = (20 + sqrt(400 - 4 * 17.65)) / 2 = 19.07,
    # r2 = (40 + sqrt(1600 - 16 * 30)) / 2 = 36.73, r3 = (-28 + sqrt(784 + 4 * 2.8 * 30)) / 2 = 2.733
    assert gaussian_radius(10, 10) == pytest.approx((-28 + math.sqrt(1120)) / 2)
    assert gaussian_radius(2, 2) < gaussian_radius(4, 4) < gaussian_radius(8, 8)
    assert gaussian_radius(0.5, 0.5) >= 0


def test_draw_gaussian_peaks_at_one_is_symmetric_cut_at_the_edges_and_keeps_the_maximum():
    heatmap = np.zeros((7, 9), np.float32)
    draw_gaussian(heatmap, (4, 3), 2)
    assert heatmap[3, 4] == 1.0 and np.count_nonzero(heatmap) == 25
    np.testing.assert_allclose(heatmap[3, 2:7], heatmap[3, 2:7][::-1])
    np.testing.assert_allclose(heatmap[1:6, 4], heatmap[1:6, 4][::-1])
    corner = np.zeros((5, 5), np.float32)
    draw_gaussian(corner, (0, 0), 2)  # cut at the edges, no wrap-around
    assert corner[0, 0] == 1.0 and np.count_nonzero(corner) == 9
    before = heatmap.copy()
    draw_gaussian(heatmap, (6, 3), 1)  # a second bump: each cell keeps the larger value
    assert np.all(heatmap >= before) and heatmap[3, 6] == 1.0


def test_encode_targets_puts_size_and_offset_at_the_centre_cell():
    # x 10..23 / 4 = 2.5..5.75, y 13..19 / 4 = 3.25..4.75: centre (4.125, 4.0), size 3.25 x 1.5
    targets = encode_targets([(2, 10, 13, 23, 19)], (32, 32), num_classes=3, output_stride=4)
    assert targets["heatmap"].shape == (8, 8, 3)
    assert targets["size"].shape == targets["offset"].shape == (8, 8, 3)
    assert targets["heatmap"][4, 4, 2] == 1.0 and targets["heatmap"][..., :2].max() == 0
    assert tuple(targets["size"][4, 4]) == (3.25, 1.5, 1.0)
    assert tuple(targets["offset"][4, 4]) == (0.125, 0.0, 1.0)
    assert targets["size"][..., 2].sum() == 1 and targets["offset"][..., 2].sum() == 1


def test_encode_targets_ignores_padding_and_empty_boxes():
    targets = encode_targets([(-1, 0, 0, 0, 0), (0, 5, 5, 5, 9), (3, 0, 0, 8, 8), (1, 0, 0, 8, 8)], (16, 16), 2)
    assert targets["size"][..., 2].sum() == 1  # only the last box is a real one
    assert targets["heatmap"][..., 1].max() == 1.0 and targets["heatmap"][..., 0].max() == 0.0


def random_boxes(rng, count, size, num_classes, stride):
    """Whole-pixel boxes whose centres fall in different cells (one object per cell)."""
    height, width = size
    boxes, cells = [], set()
    while len(boxes) < count:
        x0, x1 = sorted(rng.integers(0, width + 1, 2))
        y0, y1 = sorted(rng.integers(0, height + 1, 2))
        if x1 == x0 or y1 == y0:
            continue
        cell = (int((x0 + x1) / 2 // stride), int((y0 + y1) / 2 // stride))
        if cell in cells:
            continue
        cells.add(cell)
        boxes.append((int(rng.integers(num_classes)), int(x0), int(y0), int(x1), int(y1)))
    return boxes


@pytest.mark.parametrize("size, stride", [((64, 64), 4), ((48, 80), 8), ((32, 32), 2), ((128, 96), 16)])
def test_round_trip_gives_the_exact_boxes_back(size, stride):
    rng = np.random.default_rng(stride)
    for _ in range(20):
        boxes = random_boxes(rng, int(rng.integers(1, 6)), size, 3, stride)
        targets = encode_targets(boxes, size, 3, stride)
        (decoded,) = decode_detections(targets_as_outputs(targets), score_threshold=0.5, iou_threshold=1.0,
                                       output_stride=stride)
        assert sorted(d[:5] for d in decoded) == sorted(boxes)  # exact, not approximately
        assert all(d[5] == 1.0 for d in decoded)


def test_round_trip_on_shapes_samples():
    ds = open_dataset("shapes", image_size=64, difficulty="medium")
    checked = 0
    for sample in ds.samples("train", count=40):
        cells = {(b[0], int((b[1] + b[3]) / 8), int((b[2] + b[4]) / 8)) for b in sample.boxes}
        if len(cells) < len(sample.boxes):
            continue  # two objects of a class centred in one cell: CenterNet keeps one
        (decoded,) = decode_detections(targets_as_outputs(encode_targets(sample.boxes, (64, 64), 5)),
                                       score_threshold=0.5, iou_threshold=1.0)
        assert sorted(d[:5] for d in decoded) == sorted(sample.boxes)
        checked += 1
    assert checked >= 30


def test_encode_batch_stacks_images():
    boxes = np.array([[[0, 0, 8, 8], [0, 0, 0, 0]], [[4, 4, 12, 16], [8, 0, 16, 4]]], np.float32)
    labels = np.array([[1, -1], [0, 1]])
    heatmap, size, offset = encode_batch(boxes, labels, (16, 16), 2)
    assert heatmap.shape == (2, 4, 4, 2) and size.shape == offset.shape == (2, 4, 4, 3)
    assert size[0, ..., 2].sum() == 1 and size[1, ..., 2].sum() == 2


# ---------------------------------------------------------------------------------------
# The tf.data pipeline
# ---------------------------------------------------------------------------------------


class PictureDataset(Dataset):
    """The same picture and boxes in every sample of every split."""

    name = "picture"
    has_boxes = True

    def __init__(self, image, boxes, count=8):
        super().__init__()
        self.class_names = ["a", "b"]
        self.image, self.boxes, self.n = image, boxes, count
        self.default_image_size = image.shape[:2]

    def _count(self, split):
        return self.n

    def _load(self, split, index):
        return Sample(image=self.image, label=0, boxes=list(self.boxes))


def white_rectangle(size=(64, 64), box=(8, 12, 28, 40)):
    image = np.zeros((*size, 3), np.uint8)
    x0, y0, x1, y1 = box
    image[y0:y1, x0:x1] = 255
    return image


def decoded_boxes(targets, stride=4):
    outputs = targets_as_outputs({k: v.numpy() for k, v in targets.items()})
    return decode_detections(outputs, score_threshold=0.5, iou_threshold=1.0, output_stride=stride)


def test_tf_dataset_yields_images_and_targets_for_fit():
    ds = open_dataset("shapes", image_size=32, train_size=10, validation_size=4, test_size=0)
    batches = list(tf_dataset(ds, "train", (32, 32), batch_size=4))
    assert [b[0].shape[0] for b in batches] == [4, 4, 2]
    images, targets = batches[0]
    assert images.dtype.name == "float32" and images.shape == (4, 32, 32, 3)
    assert float(images.numpy().max()) > 1  # pixels in [0, 255]: the model rescales
    assert targets["heatmap"].shape == (4, 8, 8, 5) and targets["size"].shape == (4, 8, 8, 3)
    # One decoded box per (class, centre cell) of the true boxes (cells are 4 px: x // 8 of x0 + x1).
    truths = [ds.sample("train", i).boxes for i in range(4)]
    expected = [len({(c, (x0 + x1) // 8, (y0 + y1) // 8) for c, x0, y0, x1, y1 in boxes}) for boxes in truths]
    assert [len(boxes) for boxes in decoded_boxes(targets)] == expected


def test_tf_dataset_resizes_boxes_with_the_image():
    ds = PictureDataset(white_rectangle((32, 64), (8, 4, 24, 20)), [(1, 8, 4, 24, 20)], count=2)
    images, targets = next(iter(tf_dataset(ds, "train", (32, 32), batch_size=2)))
    assert decoded_boxes(targets)[0] == [(1, 4.0, 4.0, 12.0, 20.0, 1.0)]  # x halves, y stays


@pytest.mark.parametrize("name", ["image_folder", "cats_vs_dogs"])
def test_datasets_without_boxes_are_refused_with_a_clear_message(name, tmp_path):
    from tests.unit.fixtures_data import write_picture

    for cls in ("cat", "dog"):
        for i in range(3):
            write_picture(tmp_path / "train" / cls / f"{cls}.{i}.jpg")
    if name == "cats_vs_dogs":
        for cls in ("cat", "dog"):
            for i in range(5):
                write_picture(tmp_path / "flat" / f"{cls}.{i}.jpg")
        ds = open_dataset(name, tmp_path / "flat")
    else:
        ds = open_dataset(name, tmp_path / "train")
    with pytest.raises(DatasetError, match=rf"The '{name}' dataset has no object boxes, so it cannot be used to train "
                                           r"a detector\. Choose 'shapes'"):
        tf_dataset(ds, "train", (32, 32))


@pytest.mark.parametrize("kwargs, message", [
    (dict(image_size=(30, 32)), "multiple of the output stride"),
    (dict(batch_size=0), "positive whole `batch_size`"),
    (dict(split="val"), "Expected `split` to be one of"),
])
def test_tf_dataset_rejects_bad_arguments(kwargs, message):
    ds = open_dataset("shapes", image_size=32, train_size=4, validation_size=0, test_size=0)
    with pytest.raises(DatasetError, match=message):
        tf_dataset(ds, **{"split": "train", "image_size": (32, 32), **kwargs})


def test_flip_moves_the_box_with_the_pixels():
    image = white_rectangle()
    images = np.repeat(image[None].astype(np.float32), 16, axis=0)
    boxes = np.repeat(np.array([[[8, 12, 28, 40], [0, 0, 0, 0]]], np.float32), 16, axis=0)
    labels = np.repeat(np.array([[1, -1]], np.int32), 16, axis=0)
    flip = augmentation_layers(seed=3)[:1]
    out_images, out_boxes, out_labels = (t.numpy() for t in augment_batch(images, boxes, labels, flip))
    flipped = [bool(np.array_equal(out, image[:, ::-1])) for out in out_images]
    assert any(flipped) and not all(flipped)
    for out, box, is_flipped in zip(out_images, out_boxes, flipped):
        assert is_flipped or np.array_equal(out, image)
        expected = (64 - 28, 12, 64 - 8, 40) if is_flipped else (8, 12, 28, 40)
        np.testing.assert_allclose(box[0], expected, atol=1e-4)
    assert (out_labels[:, 0] == 1).all() and (out_labels[:, 1] == -1).all()


def test_augmentation_keeps_every_box_on_its_object():
    ds = PictureDataset(white_rectangle(), [(1, 8, 12, 28, 40)], count=48)
    lefts = set()
    for images, targets in tf_dataset(ds, "train", (64, 64), batch_size=16, augment=True, seed=5):
        for image, boxes in zip(images.numpy(), decoded_boxes(targets)):
            ys, xs = np.nonzero(image[..., 0] > 127)
            if len(xs) == 0:  # shifted out entirely: then there is no box either
                assert boxes == []
                continue
            (cls, x0, y0, x1, y1, _), = boxes
            visible = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
            np.testing.assert_allclose((x0, y0, x1, y1), visible, atol=1.0)
            assert cls == 1
            lefts.add(round(x0))
    assert len(lefts) > 5  # the pictures really moved (flips and shifts)


# ---------------------------------------------------------------------------------------
# Oxford pets: head boxes from the XML annotations
# ---------------------------------------------------------------------------------------


def voc(xmin, ymin, xmax, ymax):
    return (
        "<annotation><size><width>30</width><height>20</height><depth>3</depth></size>"
        f"<object><name>pet</name><bndbox><xmin>{xmin}</xmin><ymin>{ymin}</ymin>"
        f"<xmax>{xmax}</xmax><ymax>{ymax}</ymax></bndbox></object></annotation>"
    ).encode()


@pytest.fixture
def pets_with_heads(tmp_path):
    files = pet_files()
    with_xml = PET_NAMES[:7]
    for k, name in enumerate(with_xml[:6]):
        files[f"annotations/xmls/{name}.xml"] = voc(5 + k, 3, 14 + k, 12)
    files[f"annotations/xmls/{with_xml[6]}.xml"] = b"<annotation><object><bndbox><xmin>1"  # malformed
    # trainval lists one photo whose XML is missing; the last two photos play the test split.
    files["annotations/trainval.txt"] = "\n".join(f"{name} 1 1 1" for name in PET_NAMES[:8]).encode()
    return write_tree(tmp_path / "pets", files)


def test_pets_head_boxes_keep_photos_with_an_xml_and_count_the_rest(pets_with_heads):
    plain = open_dataset("oxford_pets", pets_with_heads)
    heads = open_dataset("oxford_pets", pets_with_heads, boxes="head")
    assert sum(heads.count(s) for s in ("train", "validation", "test")) == 6
    assert heads.skipped == plain.skipped + 2  # the malformed XML and the trainval photo without one
    problems = " ".join(heads.skipped_files)
    assert "malformed" in problems and f"{PET_NAMES[7]}: no XML file" in problems
    for split in ("train", "validation", "test"):
        for index in range(heads.count(split)):
            sample = heads.sample(split, index)
            k = PET_NAMES.index(sample.source.rsplit(".", 1)[0])
            assert sample.boxes == [(sample.label, 4 + k, 2, 14 + k, 12)]  # VOC 1-based inclusive -> ours
            assert sample.mask is not None


def test_pets_head_boxes_feed_the_detector_pipeline(pets_with_heads):
    heads = open_dataset("oxford_pets", pets_with_heads, boxes="head")
    images, targets = next(iter(tf_dataset(heads, "train", (40, 60), batch_size=2)))
    assert images.shape == (2, 40, 60, 3)
    for boxes in decoded_boxes(targets):
        (cls, x0, y0, x1, y1, _), = boxes
        assert y0 == 4.0 and y1 == 24.0 and x1 - x0 == 20.0  # 30 x 20 photos doubled


def test_pets_head_boxes_need_the_xml_folder(tmp_path):
    root = write_tree(tmp_path / "pets", pet_files())
    with pytest.raises(DatasetError, match="annotations/xmls"):
        open_dataset("oxford_pets", root, boxes="head")
    with pytest.raises(DatasetError, match=r"Expected `boxes` to be one of \('pet', 'head'\). Received: boxes='nose'"):
        open_dataset("oxford_pets", root, boxes="nose")
