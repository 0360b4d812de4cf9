"""Keypoints and pose: skeletons, COCO's keypoint scores, COCO files, and a pose's geometry.

- ``skeletons``: :class:`Skeleton` (joints, edges, left/right pairs, OKS sigmas, PCK's
  reference), COCO's person, the generated people's and faces' skeletons, your own.
- ``instance``: :class:`KeypointInstance`, one object's keypoints as datasets and files give them.
- ``metrics``: OKS, COCO keypoint AP (AP, AP50, AP75, exactly as pycocotools), PCK, pixel errors.
- ``coco``: read and write COCO keypoint annotations (``person_keypoints_*.json``).
- ``pose``: mirror keypoints (left and right swapped), orientation and posture from the joints.
- ``models``: the multi-person pose model (CenterNet-style) and the single-object heatmap and
  regression models, on the detector's backbone; ``losses`` their focal and masked L1 losses.
- ``targets``: what the models learn (heatmaps, offsets, coordinates) and the training batches,
  flips swapping left and right joints.
- ``decode``: from outputs to people and their joints (centre peaks, joint offsets, snapped to
  each joint heatmap's peaks); ``evaluate``: keypoint AP, PCK and errors, and the epoch callback.
- ``reading``: each found object's orientation, posture and arrow, and its OKS, PCK and joint hits
  against the truth.
- ``task``: the keypoints task's entry in the run pipeline's table.
- ``video``: pose in video: read and write short clips (GIF, MP4, WebM), a generated clip of people
  walking with their true joints, the people of every frame followed by identity, skeletons drawn.

>>> from cv_core.keypoints import PEOPLE, object_keypoint_similarity, pck
>>> object_keypoint_similarity(predicted, true, visible, area=900.0, sigmas=PEOPLE.sigmas)

The generated datasets are ``open_dataset("people")`` and ``open_dataset("landmarks")``.
Importing the package loads nothing heavy: each name loads its module on first use (the models,
decoding and evaluation import TensorFlow then).
"""

from __future__ import annotations

from cv_core._lazy import lazy_exports

_EXPORTS = {
    **{name: "cv_core.keypoints.skeletons" for name in (
        "COCO_JOINTS", "COCO_PERSON", "COCO_SIGMAS", "DEFAULT_SIGMA", "FACE_LANDMARKS", "JOINT_LABELS", "KNOWN_SIGMAS",
        "PEOPLE", "SKELETONS", "Skeleton", "custom_skeleton", "get_skeleton", "joint_label")},
    **{name: "cv_core.keypoints.instance" for name in ("KeypointError", "KeypointInstance", "check_keypoints")},
    **{name: "cv_core.keypoints.metrics" for name in (
        "MAX_DETECTIONS", "OKS_THRESHOLDS", "RECALL_THRESHOLDS", "keypoint_average_precision", "match_instances",
        "mean_joint_error", "object_keypoint_similarity", "oks_matrix", "pck", "reference_length")},
    **{name: "cv_core.keypoints.pose" for name in (
        "LYING_TILT", "SITTING_HIP_ANGLE", "face_orientation", "flip_instances", "flip_keypoints",
        "person_orientation", "posture", "scale_instances", "up_vector_angle")},
    **{name: "cv_core.keypoints.coco" for name in (
        "COCO_PIXEL_OFFSET", "CocoFormatError", "CocoImage", "CocoKeypoints", "coco_keypoints_dict",
        "read_coco_keypoints", "write_coco_keypoints")},
    **{name: "cv_core.keypoints.models" for name in (
        "KEYPOINT_KINDS", "KeypointGeometry", "build_keypoint_heatmap_model", "build_keypoint_regression_model",
        "build_pose_model", "compile_keypoint_model", "keypoint_model_geometry", "load_keypoint_model")},
    **{name: "cv_core.keypoints.targets" for name in (
        "augment_batch", "check_keypoint_dataset", "encode_keypoint_targets", "encode_pose_targets",
        "instance_arrays", "keypoint_batches", "targets_as_outputs")},
    **{name: "cv_core.keypoints.decode" for name in (
        "RawKeypoints", "decode_keypoints", "filter_keypoints", "predict_keypoint_outputs", "predict_keypoints",
        "predict_raw_keypoints", "raw_keypoints", "snap_joints")},
    **{name: "cv_core.keypoints.reading" for name in (
        "PoseReading", "TruthComparison", "TruthMatch", "compare_with_truth", "pose_kind", "read_pose")},
    **{name: "cv_core.keypoints.evaluate" for name in (
        "KeypointEvaluation", "KeypointScoresCallback", "evaluate_keypoint_model", "keypoint_samples",
        "score_keypoints")},
    **{name: "cv_core.keypoints.video" for name in (
        "Clip", "ClipLimits", "CorruptVideoError", "EmptyVideoError", "PoseTracker", "UnsupportedVideoError",
        "VideoInputError", "VideoPoseFinder", "VideoPoses", "VideoTooLargeError", "WalkingClip", "annotate_clip",
        "draw_poses", "find_poses", "identity_switches", "joint_tracks", "read_clip", "track_people", "walking_clip", "write_clip")},
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
