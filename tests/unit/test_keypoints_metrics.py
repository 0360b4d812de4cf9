"""OKS, COCO keypoint AP, PCK and pixel errors: against pycocotools itself and the definitions."""

from __future__ import annotations

import contextlib
import io
import math

import numpy as np
import pytest

from cv_core.keypoints import (COCO_SIGMAS, PEOPLE, keypoint_average_precision, match_instances, mean_joint_error,
                               object_keypoint_similarity, pck, reference_length)

K = 17
SIGMAS = np.array(COCO_SIGMAS)


def _truth(rng, size=200.0):
    centre = rng.uniform(30, size - 30, 2)
    points = centre + rng.normal(0, 15, (K, 2))
    visibility = rng.choice([0, 1, 2], size=K, p=[0.2, 0.2, 0.6])
    if rng.random() < 0.12:
        visibility[:] = 0  # a truth that COCO ignores (num_keypoints == 0)
    box = (float(centre[0] - 25), float(centre[1] - 30), float(centre[0] + 25), float(centre[1] + 30))
    return {"keypoints": points, "visibility": visibility, "area": float(rng.uniform(300, 3000)), "box": box,
            "crowd": bool(rng.random() < 0.05)}


def _fixture(seed, pictures=6):
    rng = np.random.default_rng(seed)
    truths, predictions = [], []
    for _ in range(pictures):
        gts = [_truth(rng) for _ in range(int(rng.integers(0, 5)))]
        preds = []
        for g in gts:
            for _ in range(int(rng.integers(0, 3))):  # zero, one or two guesses at each truth
                noise = rng.normal(0, rng.choice([0.5, 2, 5, 12]), (K, 2))
                score = float(rng.choice([0.9, 0.5, rng.random()]))  # ties across pictures too
                preds.append({"keypoints": g["keypoints"] + noise, "score": score})
        for _ in range(int(rng.integers(0, 3))):  # false positives
            preds.append({"keypoints": rng.uniform(0, 200, (K, 2)), "score": float(rng.random())})
        if rng.random() < 0.15:  # a picture with more than 20 predictions
            around = gts[0]["keypoints"] if gts else rng.uniform(0, 200, (K, 2))
            preds += [{"keypoints": around + rng.normal(0, 3, (K, 2)), "score": float(rng.random())}
                      for _ in range(22)]
        truths.append(gts)
        predictions.append(preds)
    return predictions, truths


def _pycocotools_scores(predictions, truths):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images, annotations, results = [], [], []
    for i, (preds, gts) in enumerate(zip(predictions, truths)):
        images.append({"id": i + 1, "width": 200, "height": 200, "file_name": f"{i}.png"})
        for g in gts:
            kp = np.concatenate([g["keypoints"], g["visibility"][:, None]], axis=1).ravel().tolist()
            x0, y0, x1, y1 = g["box"]
            annotations.append({"id": len(annotations) + 1, "image_id": i + 1, "category_id": 1, "keypoints": kp,
                                "num_keypoints": int((g["visibility"] > 0).sum()), "area": g["area"],
                                "bbox": [x0, y0, x1 - x0, y1 - y0], "iscrowd": int(g["crowd"])})
        for p in preds:
            kp = np.concatenate([p["keypoints"], np.ones((K, 1))], axis=1).ravel().tolist()
            results.append({"image_id": i + 1, "category_id": 1, "keypoints": kp, "score": p["score"]})
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {"images": images, "annotations": annotations,
                      "categories": [{"id": 1, "name": "person", "keypoints": [str(k) for k in range(K)],
                                      "skeleton": []}]}
        gt.createIndex()
        evaluation = COCOeval(gt, gt.loadRes(results), "keypoints")
        evaluation.params.kpt_oks_sigmas = SIGMAS
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return evaluation.stats[:3]


def _ours(predictions, truths):
    as_truths = [[{"keypoints": g["keypoints"], "visible": g["visibility"] > 0, "area": g["area"], "box": g["box"],
                   "crowd": g["crowd"]} for g in gts] for gts in truths]
    return keypoint_average_precision(predictions, as_truths, SIGMAS)


@pytest.mark.parametrize("seed", range(8))
def test_keypoint_ap_equals_pycocotools_on_random_pictures(seed):
    pytest.importorskip("pycocotools")
    predictions, truths = _fixture(seed)
    if not any(predictions) or not any(g["visibility"].any() and not g["crowd"] for gts in truths for g in gts):
        pytest.skip("this seed drew no prediction or no truth that counts")
    ap, ap50, ap75 = _pycocotools_scores(predictions, truths)
    ours = _ours(predictions, truths)
    assert set(ours) == {"AP", "AP50", "AP75"}
    assert ours["AP"] == pytest.approx(ap, abs=1e-12)
    assert ours["AP50"] == pytest.approx(ap50, abs=1e-12)
    assert ours["AP75"] == pytest.approx(ap75, abs=1e-12)


def test_the_fixtures_exercise_the_rules_that_matter():
    """Across the seeds above: ignored truths, crowds, > 20 predictions and scores strictly between 0 and 1."""
    seen = {"ignored": 0, "crowd": 0, "over_20": 0}
    for seed in range(8):
        predictions, truths = _fixture(seed)
        seen["ignored"] += sum(not g["visibility"].any() for gts in truths for g in gts)
        seen["crowd"] += sum(g["crowd"] for gts in truths for g in gts)
        seen["over_20"] += sum(len(p) > 20 for p in predictions)
    assert all(count > 0 for count in seen.values()), seen


def test_oks_of_one_object_equals_pycocotools_and_the_formula():
    pytest.importorskip("pycocotools")
    rng = np.random.default_rng(5)
    true = rng.uniform(0, 100, (K, 2))
    predicted = true + rng.normal(0, 3, (K, 2))
    visibility = rng.choice([0, 1, 2], K)
    area = 1234.5
    by_hand = np.mean([math.exp(-((predicted[j] - true[j]) ** 2).sum() / (2 * area * (2 * SIGMAS[j]) ** 2))
                       for j in range(K) if visibility[j] > 0])
    ours = object_keypoint_similarity(predicted, true, visibility > 0, area, SIGMAS)
    assert ours == pytest.approx(by_hand, rel=1e-12)
    from pycocotools.cocoeval import COCOeval

    evaluation = COCOeval(iouType="keypoints")
    evaluation.params.kpt_oks_sigmas = SIGMAS
    kp_true = np.concatenate([true, visibility[:, None]], 1).ravel().tolist()
    kp_pred = np.concatenate([predicted, np.ones((K, 1))], 1).ravel().tolist()
    evaluation._gts = {(1, 1): [{"keypoints": kp_true, "bbox": [0, 0, 100, 100], "area": area}]}
    evaluation._dts = {(1, 1): [{"keypoints": kp_pred, "score": 1.0}]}
    assert ours == pytest.approx(evaluation.computeOks(1, 1)[0, 0], abs=1e-15)


def test_oks_known_values():
    true = np.zeros((2, 2))
    sigmas = np.array([0.1, 0.1])
    assert object_keypoint_similarity(true, true, [True, True], 100.0, sigmas) == 1.0
    # d = 2σ√area on both joints -> exp(-1/2)
    predicted = np.array([[2 * 0.1 * 10, 0.0], [0.0, 2 * 0.1 * 10]])
    assert object_keypoint_similarity(predicted, true, [True, True], 100.0, sigmas) == pytest.approx(math.exp(-0.5))
    # a hidden joint does not count, however wrong
    predicted[1] = (1e6, 1e6)
    assert object_keypoint_similarity(predicted, true, [True, False], 100.0, sigmas) == pytest.approx(math.exp(-0.5))


@pytest.mark.parametrize("args, words", [
    (dict(visible=[False, False]), "no visible|none"),
    (dict(predicted=np.zeros((3, 2))), r"\(2, 2\)"),
    (dict(area=-1.0), "area"),
    (dict(predicted=np.array([[np.nan, 0], [0, 0]])), "finite"),
    (dict(sigmas=[0.1]), "one sigma per joint|\\(1, 2\\)"),
])
def test_oks_refuses_bad_input(args, words):
    call = dict(predicted=np.zeros((2, 2)), true=np.zeros((2, 2)), visible=[True, True], area=10.0,
                sigmas=[0.1, 0.1]) | args
    with pytest.raises(ValueError, match=words):
        object_keypoint_similarity(**call)


def test_ap_perfect_empty_and_all_wrong():
    true = np.random.default_rng(0).uniform(0, 100, (K, 2))
    truth = {"keypoints": true, "visible": np.ones(K, bool), "area": 900.0}
    perfect = keypoint_average_precision([[{"keypoints": true, "score": 0.8}]], [[truth]], SIGMAS)
    assert perfect == pytest.approx({"AP": 1.0, "AP50": 1.0, "AP75": 1.0})  # tp / (tp + fp + eps), as COCO
    assert keypoint_average_precision([[]], [[truth]], SIGMAS) == {"AP": 0.0, "AP50": 0.0, "AP75": 0.0}
    far = {"keypoints": true + 500, "score": 0.9}
    assert keypoint_average_precision([[far]], [[truth]], SIGMAS)["AP50"] == 0.0
    with pytest.raises(ValueError, match="no(ne| true)"):
        keypoint_average_precision([[]], [[{**truth, "visible": np.zeros(K, bool)}]], SIGMAS)
    with pytest.raises(ValueError, match="one list of predictions per picture"):
        keypoint_average_precision([], [[truth]], SIGMAS)


def test_ap_half_recall_by_hand():
    """Two truths, one found with a perfect prediction: precision 1 up to recall 0.5, then 0 -> AP 51/101."""
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0, 100, (K, 2)), rng.uniform(300, 400, (K, 2))
    truths = [[{"keypoints": a, "visible": np.ones(K, bool), "area": 900.0},
               {"keypoints": b, "visible": np.ones(K, bool), "area": 900.0}]]
    result = keypoint_average_precision([[{"keypoints": a, "score": 0.7}]], truths, SIGMAS)
    assert result["AP"] == pytest.approx(51 / 101)


def test_pck_counts_joints_within_the_threshold():
    true = np.zeros((4, 2))
    predicted = np.array([[1.0, 0], [2.0, 0], [2.1, 0], [50, 0]])
    assert pck(predicted, true, [True] * 4, reference=10.0) == 0.5  # 1 and 2 are within 0.2 × 10
    assert pck(predicted, true, [True, True, True, False], reference=10.0) == pytest.approx(2 / 3)
    assert pck(predicted, true, [True] * 4, reference=10.0, threshold=0.5) == 0.75
    with pytest.raises(ValueError, match="no"):
        pck(predicted, true, [False] * 4, reference=10.0)
    with pytest.raises(ValueError, match="reference"):
        pck(predicted, true, [True] * 4, reference=0.0)


def test_reference_length_is_the_torso_or_the_box_diagonal():
    points = np.zeros((PEOPLE.num_joints, 2))
    points[PEOPLE.index("left_shoulder")] = (10, 0)
    points[PEOPLE.index("right_hip")] = (13, 4)
    visible = np.ones(PEOPLE.num_joints, bool)
    assert reference_length(points, visible, (0, 0, 30, 40), PEOPLE) == 5.0
    visible[PEOPLE.index("right_hip")] = False
    assert reference_length(points, visible, (0, 0, 30, 40), PEOPLE) == 50.0


def test_mean_joint_error_per_joint():
    true = np.zeros((2, 3, 2))
    predicted = true.copy()
    predicted[0, 0] = (3, 4)
    predicted[1, 0] = (6, 8)
    predicted[:, 1] = (1, 0)
    visible = np.array([[True, True, False], [True, False, False]])
    errors = mean_joint_error(predicted, true, visible)
    assert errors[0] == 7.5 and errors[1] == 1.0 and np.isnan(errors[2])


def test_match_instances_pairs_each_prediction_with_its_own_person():
    rng = np.random.default_rng(2)
    a, b = rng.uniform(0, 100, (K, 2)), rng.uniform(300, 400, (K, 2))
    truths = [{"keypoints": a, "visible": np.ones(K, bool), "area": 900.0},
              {"keypoints": b, "visible": np.ones(K, bool), "area": 900.0}]
    predictions = [{"keypoints": b + 1, "score": 0.9}, {"keypoints": a + 1, "score": 0.8},
                   {"keypoints": a + 2, "score": 0.7}]
    pairs = match_instances(predictions, truths, SIGMAS)
    assert [(p, t) for p, t, _ in pairs] == [(0, 1), (1, 0)]
