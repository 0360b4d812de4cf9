"""Scoring a keypoint model on a dataset split: COCO keypoint AP, PCK@0.2 and each joint's error.

- **Keypoint AP** (AP, AP50, AP75): :func:`cv_core.keypoints.keypoint_average_precision`, exactly
  COCO's, over every candidate scoring above 0.01 (at most 20 a picture, as COCO keeps), with the
  dataset's per-joint sigmas.
- **PCK@0.2**: over every labelled joint of every true object, the share within 0.2 of the
  object's reference length (:func:`cv_core.keypoints.reference_length`: the torso diameter,
  left shoulder to right hip, for people; the distance between the eyes for faces; the box's
  diagonal when those joints are not both labelled). Predictions are paired with truths as COCO
  pairs them (best score first, each to its best OKS: :func:`cv_core.keypoints.match_instances`),
  among those a person would be shown: a pose model's candidates scoring above 0.3 (the page's
  default threshold); a single-object model always gives its one object. A true object left
  unpaired counts all its joints as misses.
- **Mean error** per joint, in the model's input pixels, over the paired objects.

:class:`KeypointScoresCallback` logs ``val_kp_ap``, ``val_kp_ap50`` and ``val_pck`` after every
epoch on a fixed handful of validation pictures, loaded once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cv_core.datasets.base import Dataset, check_split
from cv_core.images import resize_image
from cv_core.keypoints.decode import filter_keypoints, predict_raw_keypoints
from cv_core.keypoints.metrics import keypoint_average_precision, match_instances, reference_length
from cv_core.keypoints.models import keypoint_model_geometry
from cv_core.keypoints.pose import scale_instances
from cv_core.keypoints.targets import check_keypoint_dataset
from cv_core.runs.epoch_scores import SampledScoresCallback

__all__ = ["EVALUATION_SCORE_THRESHOLD", "PCK_SCORE_THRESHOLD", "PCK_THRESHOLD", "KeypointEvaluation",
           "KeypointScoresCallback", "evaluate_keypoint_model", "keypoint_samples", "score_keypoints"]

#: Candidates above this score enter keypoint AP (low: the precision-recall curve needs them).
EVALUATION_SCORE_THRESHOLD = 0.01
#: A pose model's candidates above this score are the ones PCK pairs with the truths.
PCK_SCORE_THRESHOLD = 0.3
#: PCK's fraction of the reference length.
PCK_THRESHOLD = 0.2


@dataclass
class KeypointEvaluation:
    """A keypoint model's scores on a set of pictures.

    Attributes:
        ap, ap50, ap75: COCO keypoint AP (NaN when no truth counts).
        pck: PCK@0.2 over every labelled true joint (NaN when there is none).
        joint_pck: (K,) PCK@0.2 of each joint (NaN for a joint labelled nowhere).
        joint_error: (K,) mean error in pixels of each joint over the paired objects (NaN: never paired).
        predictions: per picture, the :class:`~cv_core.keypoints.KeypointInstance` candidates scored.
        truths: per picture, the true instances.
    """

    ap: float
    ap50: float
    ap75: float
    pck: float
    joint_pck: np.ndarray
    joint_error: np.ndarray
    predictions: list = field(repr=False)
    truths: list = field(repr=False)


def keypoint_samples(dataset: Dataset, split: str, image_size, limit: int | None = None):
    """A split's pictures resized to ``image_size``, with their keypoints scaled alike.

    Returns:
        ``(images, truths)``: uint8 (N, H, W, 3) and one list of
        :class:`~cv_core.keypoints.KeypointInstance` per picture (unreadable files skipped).
    """
    check_keypoint_dataset(dataset)
    check_split(split)
    height, width = image_size
    count = dataset.count(split) if limit is None else min(limit, dataset.count(split))
    images, truths = [], []
    for sample in dataset.samples(split, count=count):
        images.append(resize_image(sample.image, (height, width)))
        truths.append(scale_instances(sample.keypoints, sample.image.shape[:2], (height, width)))
    stacked = np.stack(images) if images else np.zeros((0, height, width, 3), np.uint8)
    return stacked, truths


def _nan() -> float:
    return float("nan")


def score_keypoints(predictions, truths, skeleton, pck_score_threshold: float = PCK_SCORE_THRESHOLD,
                    pck_threshold: float = PCK_THRESHOLD) -> KeypointEvaluation:
    """Keypoint AP, PCK and per-joint errors of ``predictions`` against ``truths`` (see the module docstring).

    Args:
        predictions: per picture, a list of predicted :class:`~cv_core.keypoints.KeypointInstance`
            (``score`` set).
        truths: per picture, the true instances.
        skeleton: gives the sigmas and PCK's reference joints.
        pck_score_threshold: predictions scoring at most this are not paired for PCK.
        pck_threshold: PCK's fraction of the reference length.

    Returns:
        :class:`KeypointEvaluation`.
    """
    sigmas = skeleton.sigma_array
    k = skeleton.num_joints
    true_dicts = [[t.as_truth() for t in picture] for picture in truths]
    try:
        ap = keypoint_average_precision([[p.as_prediction() for p in picture] for picture in predictions],
                                        true_dicts, sigmas)
    except ValueError:  # no truth that counts
        ap = {"AP": _nan(), "AP50": _nan(), "AP75": _nan()}
    correct, labelled = np.zeros(k), np.zeros(k)
    error_sum, error_count = np.zeros(k), np.zeros(k)
    for picture_preds, picture_truths in zip(predictions, truths):
        shown = [p for p in picture_preds if p.score is None or p.score > pck_score_threshold]
        counted = [t for t in picture_truths if not t.crowd and t.labelled.any()]
        pairs = match_instances([p.as_prediction() for p in shown], [t.as_truth() for t in counted], sigmas) \
            if shown and counted else []
        paired = {truth: prediction for prediction, truth, _ in pairs}
        for index, truth in enumerate(counted):
            visible = truth.labelled
            labelled += visible
            if index not in paired:
                continue
            distance = np.hypot(*(np.asarray(shown[paired[index]].points, np.float64)
                                  - np.asarray(truth.points, np.float64)).T)
            reference = reference_length(truth.points, visible, truth.box, skeleton)
            correct += visible & (distance <= pck_threshold * reference)
            error_sum += np.where(visible, distance, 0.0)
            error_count += visible
    with np.errstate(invalid="ignore", divide="ignore"):
        joint_pck = np.where(labelled > 0, correct / labelled, np.nan)
        joint_error = np.where(error_count > 0, error_sum / error_count, np.nan)
    pck = float(correct.sum() / labelled.sum()) if labelled.sum() else _nan()
    return KeypointEvaluation(ap=float(ap["AP"]), ap50=float(ap["AP50"]), ap75=float(ap["AP75"]), pck=pck,
                              joint_pck=joint_pck, joint_error=joint_error, predictions=list(predictions),
                              truths=list(truths))


def evaluate_keypoint_model(model, images, truths, skeleton, batch_size: int = 32) -> KeypointEvaluation:
    """Predict keypoints on ``images`` and score them against ``truths`` with :func:`score_keypoints`.

    Args:
        model: a model from :mod:`cv_core.keypoints.models`.
        images: (N, H, W, 3) at the model's input size, pixels in [0, 255].
        truths: one list of true :class:`~cv_core.keypoints.KeypointInstance` per picture, in input pixels.
        skeleton: the dataset's :class:`~cv_core.keypoints.Skeleton`.
        batch_size: pictures per forward pass.
    """
    kind = keypoint_model_geometry(model).kind
    predictions = []
    for start in range(0, len(images), batch_size):
        raw = predict_raw_keypoints(model, np.asarray(images[start:start + batch_size], np.float32))
        predictions.extend(filter_keypoints(raw, EVALUATION_SCORE_THRESHOLD))
    return score_keypoints(predictions, truths, skeleton, PCK_SCORE_THRESHOLD if kind == "pose" else -1.0)


class KeypointScoresCallback(SampledScoresCallback):
    """Adds ``val_kp_ap``, ``val_kp_ap50`` and ``val_pck`` to the epoch logs (for curves and checkpoints).

    ``dataset`` has keypoints; the other arguments are :class:`~cv_core.runs.epoch_scores.SampledScoresCallback`'s
    (the first ``limit`` pictures of ``split``, the same every epoch). Place it before callbacks that
    read the logs (history, CSV, checkpoints monitoring keypoint AP).
    """

    def load_sample(self, model):
        return keypoint_samples(self.dataset, self.split, keypoint_model_geometry(model).image_size, self.limit)

    def score(self, model, data) -> dict:
        result = evaluate_keypoint_model(model, *data, self.dataset.skeleton, self.batch_size)
        return {"kp_ap": result.ap, "kp_ap50": result.ap50, "pck": result.pck}
