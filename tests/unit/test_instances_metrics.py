"""COCO mask AP against pycocotools' own ``COCOeval(iouType="segm")`` and against the definition."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from cv_core.instances import mask_average_precision

H, W = 24, 32


def _blob(rng):
    """A random rectangle-ish mask, sometimes with a hole or a second piece."""
    mask = np.zeros((H, W), bool)
    y0, x0 = rng.integers(0, H - 4), rng.integers(0, W - 4)
    mask[y0:y0 + rng.integers(2, 12), x0:x0 + rng.integers(2, 14)] = True
    if rng.random() < 0.3:
        mask[rng.integers(0, H), :] = False  # cut in two
    if not mask.any():
        mask[y0, x0] = True
    return mask


def _jitter(rng, mask):
    """A guess at a true mask: shifted by a pixel or two, with a few pixels flipped."""
    out = np.roll(mask, (int(rng.integers(-2, 3)), int(rng.integers(-2, 3))), axis=(0, 1))
    flip = rng.random((H, W)) < rng.choice([0.0, 0.02, 0.1])
    return out ^ flip


def _fixture(seed, pictures=7, classes=3):
    rng = np.random.default_rng(seed)
    predictions, truths = [], []
    for _ in range(pictures):
        gts = [{"mask": _blob(rng), "class": int(rng.integers(classes))} for _ in range(int(rng.integers(0, 6)))]
        preds = []
        for g in gts:
            for _ in range(int(rng.integers(0, 3))):  # zero, one or two guesses at each truth
                cls = g["class"] if rng.random() < 0.85 else int(rng.integers(classes))
                preds.append({"mask": _jitter(rng, g["mask"]), "class": cls,
                              "score": float(rng.choice([0.9, 0.5, rng.random()]))})  # ties too
        for _ in range(int(rng.integers(0, 4))):  # false positives
            preds.append({"mask": _blob(rng), "class": int(rng.integers(classes)), "score": float(rng.random())})
        if rng.random() < 0.2 and gts:  # a picture with more than 100 predictions of one class
            g = gts[0]
            preds += [{"mask": _jitter(rng, g["mask"]), "class": g["class"], "score": float(rng.random())}
                      for _ in range(104)]
        truths.append(gts)
        predictions.append(preds)
    return predictions, truths


def _pycocotools(predictions, truths, classes):
    from pycocotools import mask as mask_utils
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    def rle(mask):
        encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        encoded["counts"] = encoded["counts"].decode("ascii")
        return encoded

    images, annotations, results = [], [], []
    for i, (preds, gts) in enumerate(zip(predictions, truths)):
        images.append({"id": i + 1, "width": W, "height": H, "file_name": f"{i}.png"})
        for g in gts:
            ys, xs = np.nonzero(g["mask"])
            annotations.append({"id": len(annotations) + 1, "image_id": i + 1, "category_id": g["class"] + 1,
                                "segmentation": rle(g["mask"]), "area": float(g["mask"].sum()),
                                "bbox": [float(xs.min()), float(ys.min()), float(np.ptp(xs) + 1),
                                         float(np.ptp(ys) + 1)], "iscrowd": 0})
        for p in preds:
            results.append({"image_id": i + 1, "category_id": p["class"] + 1, "segmentation": rle(p["mask"]),
                            "score": p["score"]})
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {"images": images, "annotations": annotations,
                      "categories": [{"id": c + 1, "name": str(c)} for c in range(classes)]}
        gt.createIndex()
        evaluation = COCOeval(gt, gt.loadRes(results) if results else COCO(), "segm")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    per_class = {}
    for k in range(classes):
        p = evaluation.eval["precision"][:, :, k, 0, -1]
        if (p > -1).any():
            per_class[k] = (float(np.mean(p)), float(np.mean(p[0])), float(np.mean(p[5])))
    return evaluation.stats[:3], per_class


@pytest.mark.parametrize("seed", range(8))
def test_equals_pycocotools_segm(seed):
    predictions, truths = _fixture(seed)
    if not any(truths) or not any(predictions):
        predictions, truths = _fixture(seed + 100)
    ours = mask_average_precision(predictions, truths)
    stats, per_class = _pycocotools(predictions, truths, 3)
    assert ours["AP"] == pytest.approx(stats[0], abs=1e-12)
    assert ours["AP50"] == pytest.approx(stats[1], abs=1e-12)
    assert ours["AP75"] == pytest.approx(stats[2], abs=1e-12)
    assert set(ours["per_class"]) == set(per_class)
    for cls, (ap, ap50, ap75) in per_class.items():
        assert ours["per_class"][cls]["AP"] == pytest.approx(ap, abs=1e-12)
        assert ours["per_class"][cls]["AP50"] == pytest.approx(ap50, abs=1e-12)
        assert ours["per_class"][cls]["AP75"] == pytest.approx(ap75, abs=1e-12)


def test_perfect_prediction_is_one_over_one_plus_eps():
    square = np.zeros((8, 8), bool)
    square[2:6, 2:6] = True
    result = mask_average_precision([[{"mask": square, "class": 0, "score": 0.9}]], [[{"mask": square, "class": 0}]])
    expected = 1 / (1 + np.spacing(1))  # COCO's precision tp / (tp + fp + eps)
    for key in ("AP", "AP50", "AP75"):
        assert result[key] == pytest.approx(expected, abs=1e-15)


def test_one_blob_for_two_touching_squares_scores_half_recall():
    left, right = np.zeros((8, 16), bool), np.zeros((8, 16), bool)
    left[2:6, 2:6], right[2:6, 6:10] = True, True
    merged = left | right  # what connected components give: IoU 0.5 with each square
    truths = [[{"mask": left, "class": 1}, {"mask": right, "class": 1}]]
    result = mask_average_precision([[{"mask": merged, "class": 1, "score": 0.8}]], truths)
    # At IoU 0.50 the blob matches one square: recall 1/2 at precision 1 -> 51 of 101 recall points.
    assert result["AP50"] == pytest.approx(51 / 101 / (1 + np.spacing(1)))
    assert result["AP75"] == 0.0
    separated = [[{"mask": left, "class": 1, "score": 0.8}, {"mask": right, "class": 1, "score": 0.7}]]
    assert mask_average_precision(separated, truths)["AP75"] == pytest.approx(1.0)


def test_classes_without_truths_do_not_count_and_bad_input_is_refused():
    square = np.zeros((8, 8), bool)
    square[:4, :4] = True
    result = mask_average_precision([[{"mask": square, "class": 0, "score": 0.9},
                                      {"mask": square, "class": 2, "score": 0.9}]], [[{"mask": square, "class": 0}]])
    assert list(result["per_class"]) == [0] and result["AP"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="one list of predictions per picture"):
        mask_average_precision([[]], [[], []])
    with pytest.raises(ValueError, match="one size"):
        mask_average_precision([[{"mask": np.zeros((4, 4), bool), "class": 0, "score": 1.0}]],
                               [[{"mask": square, "class": 0}]])
    with pytest.raises(ValueError, match="Missing"):
        mask_average_precision([[{"mask": square, "class": 0}]], [[{"mask": square, "class": 0}]])
