"""Keypoint scores: OKS and COCO keypoint AP exactly as COCO computes them, PCK and pixel errors.

**OKS** (object keypoint similarity) is to keypoints what IoU is to boxes: for one predicted and
one true object, the mean over the true object's labelled joints of
``exp(-d² / (2 · area · (2σ)²))``, where ``d`` is the joint's error in pixels, ``area`` the true
object's area and ``σ`` the joint's sigma (:data:`~cv_core.keypoints.COCO_SIGMAS`). 1 is perfect;
an error of ``2σ·√area`` on every joint gives exp(-0.5) ≈ 0.61.

**COCO keypoint AP** matches predictions to truths greedily by score at each OKS threshold
0.50:0.05:0.95 and averages the 101-point interpolated precision over recall, as
``pycocotools.cocoeval.COCOeval(iouType="keypoints")`` does (``computeOks``, ``evaluateImg``,
``accumulate``; area range "all", at most 20 predictions a picture). The tests compare with
pycocotools itself.

**PCK@0.2** is the share of labelled joints within 0.2 of a reference length (the skeleton's
:attr:`~cv_core.keypoints.Skeleton.reference`: the torso diameter for people, the distance
between the eyes for faces, else the box diagonal).

>>> truth = {"keypoints": points, "visible": visibility > 0, "area": 900.0}
>>> keypoint_average_precision([[{"keypoints": points, "score": 0.9}]], [[truth]], PEOPLE.sigmas)
{'AP': 0.99999..., 'AP50': 0.99999..., 'AP75': 0.99999...}   # 1 / (1 + eps), as in COCO
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cv_core.coco_accumulate import RECALL_THRESHOLDS, interpolated_precision

__all__ = [
    "MAX_DETECTIONS", "OKS_THRESHOLDS", "RECALL_THRESHOLDS", "keypoint_average_precision", "match_instances",
    "mean_joint_error", "object_keypoint_similarity", "oks_matrix", "pck", "reference_length",
]

#: COCO's OKS thresholds 0.50:0.05:0.95, computed as pycocotools computes them.
OKS_THRESHOLDS = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
#: COCO's keypoint evaluation keeps the 20 best-scored predictions of each picture.
MAX_DETECTIONS = 20
#: COCO's area range "all" (a truth outside it would be ignored).
AREA_RANGE = (0.0 ** 2, 1e5 ** 2)


def _sigmas(sigmas, k: int | None = None) -> np.ndarray:
    sigmas = np.asarray(sigmas, dtype=np.float64)
    if sigmas.ndim != 1 or not len(sigmas) or not np.all(np.isfinite(sigmas)) or np.any(sigmas <= 0):
        raise ValueError(f"Expected `sigmas` as a (K,) array of positive numbers. Received: {sigmas!r}")
    if k is not None and len(sigmas) != k:
        raise ValueError(f"Expected one sigma per joint ({k}). Received {len(sigmas)} sigmas.")
    return sigmas


def _points(points, k: int, what: str) -> np.ndarray:
    points = np.asarray(points, dtype=np.float64)
    if points.shape != (k, 2):
        raise ValueError(f"Expected `{what}` as a ({k}, 2) array of (x, y). Received shape {points.shape}.")
    return points


def _visible(visible, k: int) -> np.ndarray:
    visible = np.asarray(visible)
    if visible.shape != (k,):
        raise ValueError(f"Expected `visible` as a ({k},) array of booleans. Received shape {visible.shape}.")
    return visible.astype(bool) if visible.dtype == bool else visible > 0


def object_keypoint_similarity(predicted, true, visible, area, sigmas) -> float:
    """OKS of one predicted object against one true object, as COCO computes it.

    Args:
        predicted: (K, 2) ``(x, y)`` in pixels.
        true: (K, 2) ``(x, y)`` in pixels.
        visible: (K,) bool, the true joints that count: COCO counts every *labelled* joint
            (visibility 1 or 2), so pass ``visibility > 0``.
        area: the true object's area in pixels² (COCO's segment area).
        sigmas: (K,) per-joint sigmas.

    Returns:
        OKS in [0, 1].

    Raises:
        ValueError: no visible joint, shapes that disagree, NaN coordinates on a counted joint,
            a negative or non-finite area.
    """
    sigmas = _sigmas(sigmas)
    k = len(sigmas)
    predicted, true, visible = _points(predicted, k, "predicted"), _points(true, k, "true"), _visible(visible, k)
    if not visible.any():
        raise ValueError("OKS needs at least one visible (labelled) joint in the true object; it has none.")
    if not np.all(np.isfinite(predicted[visible])) or not np.all(np.isfinite(true[visible])):
        raise ValueError("Expected finite coordinates on every visible joint. Received NaN or infinity.")
    if isinstance(area, bool) or not np.isfinite(area) or area < 0:
        raise ValueError(f"Expected `area` to be a finite number >= 0 (pixels²). Received: area={area!r}")
    dx, dy = predicted[:, 0] - true[:, 0], predicted[:, 1] - true[:, 1]
    e = (dx ** 2 + dy ** 2) / (sigmas * 2) ** 2 / (float(area) + np.spacing(1)) / 2
    return float(np.sum(np.exp(-e[visible])) / np.count_nonzero(visible))


def oks_matrix(predicted: Sequence[np.ndarray], truths: Sequence[dict], sigmas) -> np.ndarray:
    """(D, G) OKS of every prediction against every truth of one picture (pycocotools' ``computeOks``).

    ``truths`` are dicts with "keypoints", "visible", "area" and optionally "box"
    ``(x0, y0, x1, y1)``. A truth without a visible joint is scored, as COCO scores it, by how
    far the predicted joints fall outside its box doubled on every side; without a box, 0.
    """
    sigmas = _sigmas(sigmas)
    k, variances = len(sigmas), (sigmas * 2) ** 2
    out = np.zeros((len(predicted), len(truths)))
    for j, truth in enumerate(truths):
        xg, yg = truth["keypoints"][:, 0], truth["keypoints"][:, 1]
        visible = truth["visible"]
        box = truth.get("box")
        if not visible.any() and box is None:
            continue
        if not visible.any():
            x, y, w, h = box[0], box[1], box[2] - box[0], box[3] - box[1]
            x0, x1, y0, y1 = x - w, x + w * 2, y - h, y + h * 2
        for i, points in enumerate(predicted):
            xd, yd = points[:, 0], points[:, 1]
            if visible.any():
                dx, dy = xd - xg, yd - yg
            else:
                z = np.zeros(k)
                dx = np.max((z, x0 - xd), axis=0) + np.max((z, xd - x1), axis=0)
                dy = np.max((z, y0 - yd), axis=0) + np.max((z, yd - y1), axis=0)
            e = (dx ** 2 + dy ** 2) / variances / (truth["area"] + np.spacing(1)) / 2
            if visible.any():
                e = e[visible]
            out[i, j] = np.sum(np.exp(-e)) / e.shape[0]
    return out


def _check_picture(predictions, truths, k: int, index: int) -> tuple[list, list]:
    preds, gts = [], []
    for p in predictions:
        if "keypoints" not in p or "score" not in p:
            raise ValueError(f"Expected each prediction of picture {index} to have 'keypoints' and 'score'. "
                             f"Received keys {sorted(p)}.")
        points = _points(p["keypoints"], k, f"predictions[{index}] keypoints")
        score = float(p["score"])
        if not np.isfinite(score) or not np.all(np.isfinite(points)):
            raise ValueError(f"Expected finite keypoints and score in the predictions of picture {index}.")
        preds.append((points, score))
    for t in truths:
        missing = {"keypoints", "visible", "area"} - set(t)
        if missing:
            raise ValueError(f"Expected each truth of picture {index} to have 'keypoints', 'visible' and 'area'. "
                             f"Missing: {sorted(missing)}.")
        visible = _visible(t["visible"], k)
        points = _points(t["keypoints"], k, f"truths[{index}] keypoints")
        if not np.all(np.isfinite(points[visible])):
            raise ValueError(f"Expected finite coordinates on the visible joints of the truths of picture {index}.")
        gts.append({"keypoints": points, "visible": visible, "area": float(t["area"]),
                    "box": t.get("box"), "crowd": bool(t.get("crowd", False))})
    return preds, gts


def _evaluate_picture(preds, gts, sigmas, max_detections):
    """One picture's matches at every threshold (pycocotools' ``evaluateImg``, area range "all")."""
    order = np.argsort([-s for _, s in preds], kind="mergesort")[:max_detections]
    preds = [preds[i] for i in order]
    ignore = np.array([g["crowd"] or not g["visible"].any() or not AREA_RANGE[0] <= g["area"] <= AREA_RANGE[1]
                       for g in gts], dtype=bool)
    gt_order = np.argsort(ignore, kind="mergesort")
    gts, ignore = [gts[i] for i in gt_order], ignore[gt_order]
    crowd = [g["crowd"] for g in gts]
    oks = oks_matrix([p for p, _ in preds], gts, sigmas) if preds and gts else np.zeros((len(preds), 0))
    t_count, d_count = len(OKS_THRESHOLDS), len(preds)
    matched = np.zeros((t_count, d_count), dtype=bool)
    det_ignored = np.zeros((t_count, d_count), dtype=bool)
    for t, threshold in enumerate(OKS_THRESHOLDS):
        gt_taken = np.zeros(len(gts), dtype=bool)
        for d in range(d_count):
            best, m = min([threshold, 1 - 1e-10]), -1
            for g in range(len(gts)):
                if gt_taken[g] and not crowd[g]:
                    continue
                if m > -1 and not ignore[m] and ignore[g]:
                    break
                if oks[d, g] < best:
                    continue
                best, m = oks[d, g], g
            if m == -1:
                continue
            det_ignored[t, d] = ignore[m]
            matched[t, d] = True
            gt_taken[m] = True
    scores = np.array([s for _, s in preds], dtype=np.float64)
    return scores, matched, det_ignored, int(np.count_nonzero(~ignore))


def keypoint_average_precision(predictions: Sequence[Sequence[dict]], truths: Sequence[Sequence[dict]], sigmas,
                               max_detections: int = MAX_DETECTIONS) -> dict:
    """COCO keypoint AP, AP50 and AP75 over a set of pictures, as pycocotools computes them.

    Args:
        predictions: ``predictions[i]`` lists picture i's predicted objects, each
            ``{"keypoints": (K, 2) array, "score": float}``.
        truths: ``truths[i]`` lists picture i's true objects, each ``{"keypoints": (K, 2) array,
            "visible": (K,) bool array, "area": float}`` (``visible``: labelled, visibility > 0),
            optionally ``"box": (x0, y0, x1, y1)`` and ``"crowd": bool``. A truth with no visible
            joint (COCO's ``num_keypoints == 0``) or a crowd is ignored: predictions that match it
            count neither way; with a box it absorbs predictions near it, as in COCO.
        sigmas: (K,) per-joint sigmas.
        max_detections: predictions kept per picture, best scores first (COCO: 20).

    Returns:
        ``{"AP": mean over OKS 0.50:0.05:0.95, "AP50": at 0.50, "AP75": at 0.75}``, floats in 0..1.

    Raises:
        ValueError: lists of different lengths, malformed entries, or no truth that counts
            (COCO reports -1 then; a score of nothing is not a score).
    """
    sigmas = _sigmas(sigmas)
    if len(predictions) != len(truths):
        raise ValueError(f"Expected one list of predictions per picture: {len(truths)} pictures of truths, "
                         f"{len(predictions)} of predictions.")
    all_scores, all_matched, all_ignored, counted = [], [], [], 0
    for index, (picture_preds, picture_truths) in enumerate(zip(predictions, truths)):
        preds, gts = _check_picture(picture_preds, picture_truths, len(sigmas), index)
        if not preds and not gts:
            continue
        scores, matched, ignored, n = _evaluate_picture(preds, gts, sigmas, max_detections)
        all_scores.append(scores)
        all_matched.append(matched)
        all_ignored.append(ignored)
        counted += n
    if counted == 0:
        raise ValueError("Keypoint AP needs at least one true object with a visible joint; there is none.")
    precision = interpolated_precision(all_scores, all_matched, counted, all_ignored)
    return {"AP": float(np.mean(precision)), "AP50": float(np.mean(precision[0])),
            "AP75": float(np.mean(precision[5]))}


def pck(predicted, true, visible, reference, threshold: float = 0.2) -> float:
    """PCK: the share of visible joints within ``threshold * reference`` pixels of the truth.

    Args:
        predicted, true: (K, 2) ``(x, y)`` in pixels.
        visible: (K,) bool, the joints that count (labelled: visibility > 0).
        reference: the reference length in pixels (:func:`reference_length`), > 0.
        threshold: the fraction of ``reference`` a joint may be off (0.2: PCK@0.2).

    Raises:
        ValueError: no visible joint, a reference or threshold that is not a positive number,
            shapes that disagree, NaN coordinates on a counted joint.
    """
    predicted = np.asarray(predicted, dtype=np.float64)
    if predicted.ndim != 2:
        raise ValueError(f"Expected `predicted` as a (K, 2) array of (x, y). Received shape {predicted.shape}.")
    k = predicted.shape[0]
    predicted, true, visible = _points(predicted, k, "predicted"), _points(true, k, "true"), _visible(visible, k)
    for name, value in (("reference", reference), ("threshold", threshold)):
        if isinstance(value, bool) or not np.isfinite(value) or value <= 0:
            raise ValueError(f"Expected `{name}` to be a positive number. Received: {name}={value!r}")
    if not visible.any():
        raise ValueError("PCK needs at least one visible (labelled) joint; there is none.")
    error = np.hypot(*(predicted[visible] - true[visible]).T)
    if not np.all(np.isfinite(error)):
        raise ValueError("Expected finite coordinates on every visible joint. Received NaN or infinity.")
    return float(np.mean(error <= threshold * reference))


def reference_length(true, visible, box, skeleton) -> float:
    """PCK's reference length of one true object: its skeleton's reference joints, else its box diagonal.

    Args:
        true: (K, 2) true ``(x, y)``.
        visible: (K,) bool, labelled joints.
        box: ``(x0, y0, x1, y1)`` of the object.
        skeleton: a :class:`~cv_core.keypoints.Skeleton`; when its ``reference`` joints are both
            labelled and apart, their distance is the reference (torso diameter, eye distance).
    """
    true, visible = np.asarray(true, dtype=np.float64), np.asarray(visible, dtype=bool)
    if skeleton.reference is not None:
        a, b = (skeleton.index(j) for j in skeleton.reference)
        if visible[a] and visible[b]:
            length = float(np.hypot(*(true[a] - true[b])))
            if length > 0:
                return length
    return float(np.hypot(box[2] - box[0], box[3] - box[1]))


def mean_joint_error(predicted, true, visible) -> np.ndarray:
    """Mean error in pixels of each joint over its labelled occurrences.

    Args:
        predicted, true: (K, 2) or (N, K, 2) ``(x, y)``.
        visible: (K,) or (N, K) bool.

    Returns:
        (K,) float64 mean distances; NaN for a joint labelled nowhere.
    """
    predicted, true = np.asarray(predicted, np.float64), np.asarray(true, np.float64)
    visible = np.asarray(visible, bool)
    if predicted.ndim == 2:
        predicted, true, visible = predicted[None], true[None], visible[None]
    if predicted.shape != true.shape or predicted.shape[-1] != 2 or visible.shape != predicted.shape[:2]:
        raise ValueError(f"Expected (N, K, 2) predicted and true and (N, K) visible. Received "
                         f"{predicted.shape}, {true.shape} and {visible.shape}.")
    error = np.where(visible, np.hypot(*(predicted - true).transpose(2, 0, 1)), 0.0)
    counts = visible.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, error.sum(axis=0) / counts, np.nan)


def match_instances(predictions: Sequence[dict], truths: Sequence[dict], sigmas, min_oks: float = 0.0) -> list:
    """Pair one picture's predictions with its truths, best score first, each to its best OKS.

    The same greedy rule as COCO's matching, at one threshold, to read PCK and per-joint errors
    on pictures of several people. Truths without a visible joint are skipped.

    Returns:
        ``[(prediction index, truth index, oks), ...]`` for the pairs with OKS > ``min_oks``.
    """
    sigmas = _sigmas(sigmas)
    preds, gts = _check_picture(predictions, truths, len(sigmas), 0)
    usable = [j for j, g in enumerate(gts) if g["visible"].any()]
    if not preds or not usable:
        return []
    oks = oks_matrix([p for p, _ in preds], [gts[j] for j in usable], sigmas)
    taken, pairs = set(), []
    for i in np.argsort([-s for _, s in preds], kind="mergesort"):
        free = [c for c in range(len(usable)) if c not in taken]
        if not free:
            break
        best = max(free, key=lambda c: oks[i, c])
        if oks[i, best] > min_oks:
            taken.add(best)
            pairs.append((int(i), usable[best], float(oks[i, best])))
    return pairs
