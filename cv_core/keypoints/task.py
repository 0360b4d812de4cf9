"""The keypoints task's entry in the task table: the joints of each person, or one object's landmarks.

One task, three architectures, because they answer the same question on the same data with the
same scores: where are the points that matter? The multi-person pose model (``pose_centernet``)
finds every person and groups its joints; the two single-object models (``keypoint_heatmap``,
``keypoint_regression``) find the points of a picture's one main object, two ways. All three
train on any dataset with keypoints (people, landmarks, a COCO keypoint folder) and are scored
by the same COCO keypoint AP (the monitored ``val_kp_ap``) and PCK@0.2, so Compare runs puts
heatmaps against regression, or either against the pose model, in one table.

The model's output width is the skeleton's number of joints: ``num_classes`` is K (one heatmap
channel per joint) and ``class_names`` the joint names, so the size caches and the run summary
know them. Registered in :data:`cv_core.runs.tasks.TASKS` on import; importing it does not
import TensorFlow.
"""

from __future__ import annotations

from collections.abc import Mapping

from cv_core.i18n import N_, _
from cv_core.runs.labels import dataset_id_label, variant_label
from cv_core.runs.scoring import json_number, score_each_split, score_row, scored_splits
from cv_core.runs.spec import TrainSpec
from cv_core.runs.tasks import Architecture, Task, build_in_spec_words, first_scored_images, register_task

__all__ = ["KEYPOINT_ARCHITECTURES", "KEYPOINT_EPOCH_IMAGES", "KEYPOINT_STRIDE", "TASK", "keypoint_model_arguments"]

#: Input pixels per output cell of the heatmap models (CenterNet's 4).
KEYPOINT_STRIDE = 4
#: The kind of model (:data:`cv_core.keypoints.models.KEYPOINT_KINDS`) per architecture name.
KEYPOINT_ARCHITECTURES = {"pose_centernet": "pose", "keypoint_heatmap": "heatmap", "keypoint_regression": "regression"}
#: Validation pictures scored after every epoch (the first of the split, the same every epoch):
#: enough for a curve, few enough that scoring costs a few percent of an epoch.
KEYPOINT_EPOCH_IMAGES = 64

_LABELS = {
    "pose_centernet": N_("Multi-person pose, CenterNet-style (centres, joint offsets, joint heatmaps)"),
    "keypoint_heatmap": N_("One object: a heatmap per joint (argmax, refined within its cell)"),
    "keypoint_regression": N_("One object: coordinates regressed by a dense layer"),
}
_SHORT = {"pose_centernet": "pose", "keypoint_heatmap": "heatmaps", "keypoint_regression": "regression"}
_SLUGS = {"pose_centernet": "pose", "keypoint_heatmap": "kphm", "keypoint_regression": "kpreg"}


def keypoint_model_arguments(spec: TrainSpec, num_joints: int) -> dict:
    """The keyword arguments of the spec's builder in :mod:`cv_core.keypoints.models`.

    ``filters`` is the backbone (the stem's width, then one block each); each head is twice as
    wide as the stem, at most 64 (the detector's rule).
    """
    arguments = {"img_size": (spec.image_size, spec.image_size), "num_joints": num_joints,
                 "backbone_filters": tuple(spec.filters), "conv_type": spec.conv_type,
                 "head_width": min(64, 2 * spec.filters[0])}
    if KEYPOINT_ARCHITECTURES[spec.model] != "regression":
        arguments["output_stride"] = KEYPOINT_STRIDE
    return arguments


def _build(spec: TrainSpec, num_joints: int):
    from cv_core.keypoints import models

    builder = {"pose": models.build_pose_model, "heatmap": models.build_keypoint_heatmap_model,
               "regression": models.build_keypoint_regression_model}[KEYPOINT_ARCHITECTURES[spec.model]]
    return build_in_spec_words(builder, keypoint_model_arguments(spec, num_joints))


def _compile(model, num_joints, learning_rate, optimizer):
    from cv_core.keypoints.models import compile_keypoint_model

    return compile_keypoint_model(model, num_joints, learning_rate, optimizer)


def _num_joints(dataset) -> int:
    return dataset.skeleton.num_joints


def _joint_names(dataset) -> list[str]:
    return list(dataset.skeleton.joints)


def _targets(dataset, split: str, spec: TrainSpec, training: bool):
    from cv_core.keypoints.targets import keypoint_batches

    return keypoint_batches(dataset, split, KEYPOINT_ARCHITECTURES[spec.model], (spec.image_size, spec.image_size),
                            batch_size=spec.batch_size, shuffle=training, seed=spec.seed,
                            augment=training and spec.augmentation, output_stride=KEYPOINT_STRIDE)


def _callbacks(dataset, spec: TrainSpec, run_dir) -> list:
    from cv_core.keypoints.evaluate import KeypointScoresCallback

    return [KeypointScoresCallback(dataset, "validation", limit=KEYPOINT_EPOCH_IMAGES, batch_size=spec.batch_size)]



def _scores(model, dataset, spec: TrainSpec) -> dict:
    """Keypoint AP, AP50, AP75, PCK@0.2, and each joint's PCK and mean error of the best model, per split."""
    from cv_core.keypoints.evaluate import evaluate_keypoint_model, keypoint_samples

    def score(images, truths) -> dict:
        result = evaluate_keypoint_model(model, images, truths, dataset.skeleton, batch_size=spec.batch_size)
        return {
            "kp_ap": json_number(result.ap), "kp_ap50": json_number(result.ap50), "kp_ap75": json_number(result.ap75),
            "pck": json_number(result.pck), "joint_pck": [json_number(v) for v in result.joint_pck],
            "joint_error": [json_number(v) for v in result.joint_error], "joint_names": _joint_names(dataset),
            "images": len(images),
        }

    return {**score_each_split(dataset, spec.image_size, keypoint_samples, score),
            "skeleton": dataset.skeleton.to_dict()}


def _score_rows(scores: Mapping) -> list[dict]:
    """AP, AP50, AP75 and PCK@0.2 over all joints, then each joint's PCK@0.2 and mean error: a column per split."""
    splits = scored_splits(scores)
    if not splits:
        return []

    from cv_core.keypoints.skeletons import joint_label

    def row(label: str, value, digits: int = 3) -> dict:
        return score_row(label, scores, splits, value, digits)

    def joint(key: str, index: int):
        return lambda s: (s.get(key) or [])[index] if index < len(s.get(key) or []) else None

    rows = [row(_("Keypoint AP (OKS 0.50:0.95)"), lambda s: s.get("kp_ap")),
            row(_("Keypoint AP at OKS 0.50"), lambda s: s.get("kp_ap50")),
            row(_("Keypoint AP at OKS 0.75"), lambda s: s.get("kp_ap75")),
            row(_("PCK@0.2, all joints"), lambda s: s.get("pck"))]
    names = scores[splits[0]].get("joint_names") or []
    rows += [row(_("PCK@0.2, {joint}").format(joint=joint_label(name)), joint("joint_pck", i))
             for i, name in enumerate(names)]
    rows += [row(_("Mean error in pixels, {joint}").format(joint=joint_label(name)), joint("joint_error", i), 2)
             for i, name in enumerate(names)]
    return rows


def _anatomy(spec: TrainSpec, joints) -> tuple[str, str]:
    kind = KEYPOINT_ARCHITECTURES[spec.model]
    cells = spec.image_size // KEYPOINT_STRIDE
    fields = {"variant": variant_label(spec.variant), "size": spec.image_size, "cells": cells, "joints": joints,
              "dataset": dataset_id_label(spec.dataset)}
    if kind == "pose":
        return (_("{variant}: backbone, neck, six heads").format(**fields),
                _("Exactly the model **Train** builds: {size} × {size} px in; out, per cell of a grid {cells} cells "
                  "wide: a person-centre heatmap, a box size and offset, {joints} joint offsets from the centre, "
                  "{joints} joint heatmaps and their in-cell offsets ({dataset}).").format(**fields))
    if kind == "heatmap":
        return (_("{variant}: backbone, neck, two heads").format(**fields),
                _("Exactly the model **Train** builds: {size} × {size} px in; out, per cell of a grid {cells} cells "
                  "wide: {joints} joint heatmaps and each joint's offset within its cell ({dataset}).").format(**fields))
    return (_("{variant}: backbone, dense coordinates").format(**fields),
            _("Exactly the model **Train** builds: {size} × {size} px in; out: {joints} joints' (x, y) as fractions "
              "of the picture, from a dense layer on the last block's features ({dataset}).").format(**fields))


TASK = register_task(Task(
    name="keypoints",
    label="Keypoints and pose",
    description="The joints of every person, or the landmarks of one object.",
    architectures={
        name: Architecture(
            name=name, label=_LABELS[name], build=_build,
            minimum_size=lambda spec: 2 ** len(spec.filters), size_multiple=lambda spec: 2 ** len(spec.filters),
            options=("conv_type",), continue_fields=("filters", "conv_type"), default_filters=(16, 32, 64, 128),
            variant=lambda spec: f"{_SHORT[spec.model]} / {spec.conv_type}",
            slug=lambda spec: _SLUGS[spec.model] + ("-sep" if spec.conv_type == "separable" else ""),
        )
        for name in KEYPOINT_ARCHITECTURES
    },
    compile=_compile,
    requires=("has_keypoints",),
    missing_data=N_("The {dataset!r} dataset has no keypoints, which keypoints and pose needs. "
                    "Choose one of {choices}."),
    num_classes=_num_joints,
    class_names=_joint_names,
    targets=_targets,
    monitor="val_kp_ap",
    mode="max",
    metric_label="keypoint AP",
    score_format=".3f",
    curves=(("kp_ap", N_("Keypoint AP (OKS 0.50:0.95)")), ("kp_ap50", N_("Keypoint AP at OKS 0.50")),
            ("pck", N_("PCK@0.2 (joints within 0.2 of the torso or eye distance)")),
            ("loss", N_("Loss (every head, weighted)"))),
    test_metric="kp_ap",
    augmentation=N_("Random horizontal flips that swap left and right joints, and shifts of up to a tenth of the "
                    "picture (in the data pipeline)."),
    filters_label=N_("Filters (the stem's width, then one block each; the map halves at every block)"),
    callbacks=_callbacks,
    epoch_scored_images=first_scored_images(KEYPOINT_EPOCH_IMAGES),
    seconds_per_scored_image=2.0e-3,
    seconds_per_training_image=1.5e-3,
    startup_seconds=6.0,
    final_scores=_scores,
    score_rows=_score_rows,
    defaults={"dataset": "people", "model": "pose_centernet", "conv_type": "separable", "dropout_rate": 0.0,
              "optimizer": "adam", "learning_rate": 2e-3, "augmentation": True},
    preset_captions={"tiny": N_("32 px people, a few seconds: for tests"),
                     "quick": N_("96 px people, about five minutes on a quiet 2-core CPU: the recommended start"),
                     "book": N_("128 px people with a wider backbone and 40 epochs: meant for a GPU")},
    presets={
        "tiny": {"dataset": "people", "filters": (8, 16), "image_size": 32, "epochs": 2, "augmentation": False,
                 "dataset_options": {"image_size": 32, "train_size": 64, "validation_size": 32, "test_size": 32,
                                     "difficulty": "easy"}},
        "quick": {"dataset": "people", "filters": (16, 32, 64, 128), "image_size": 96, "epochs": 10,
                  "batch_size": 16, "augmentation": True, "learning_rate": 3e-3, "lr_schedule": "cosine",
                  "dataset_options": {"image_size": 96, "train_size": 2500, "validation_size": 200,
                                      "test_size": 200, "difficulty": "easy"}},
        "book": {"dataset": "people", "filters": (32, 64, 128, 256), "image_size": 128, "batch_size": 32,
                 "epochs": 40, "augmentation": True, "lr_schedule": "cosine",
                 "dataset_options": {"image_size": 128, "train_size": 10000, "validation_size": 500,
                                     "test_size": 500, "difficulty": "hard"}},
    },
    anatomy=_anatomy,
))
