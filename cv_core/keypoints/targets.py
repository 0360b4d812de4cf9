"""What the keypoint models learn to predict: each picture's objects turned into heatmaps and offsets.

Coordinates are the continuous pixels of :mod:`cv_core.keypoints.instance`; on a grid of
``s = output_stride`` pixels per cell, a point ``p`` lies at ``p / s`` cells, in cell
``floor(p / s)``. For each object (a person, a face) with at least one labelled joint:

**Pose** (:func:`encode_pose_targets`, several objects a picture, CenterNet's multi-person pose):

1. ``centre``: a Gaussian bump, exactly 1 at the cell of the box's centre, with the detector's
   radius (:func:`cv_core.detection.gaussian_radius`); ``size`` (the box in cells) and ``offset``
   (the centre within its cell) at that cell, with a mask channel.
2. ``joint_offsets``: at the centre's cell, every labelled joint's ``p / s - cell`` (the joint
   seen from its person's centre: this is what groups joints into people), a mask per joint.
3. ``joint_heatmap``: for every labelled joint, a bump on its own channel, 1 at its cell (the
   person's radius, as CenterNet); ``joint_refine``: the joint within its cell, a mask per joint.

**One object** (:func:`encode_heatmap_targets`, :func:`encode_regression_targets`): the picture's
*main* object, the one with the largest area (the tallest, front-most person of the people set;
the face of the landmarks set), as ``joint_heatmap`` + ``joint_refine``, or as ``joints``:
``(x / W, y / H)`` per joint with a mask per joint.

Decoding (:mod:`cv_core.keypoints.decode`) inverts each exactly: a perfect prediction gives the
joints back to float32 precision. Only labelled joints (visibility 1 or 2) are encoded; a joint
outside the picture (0) has no target and its mask stays 0.

:func:`keypoint_batches` feeds a model through the one pipeline (:func:`cv_core.pipeline.batches`):
keypoints scaled with the picture, then per batch a random horizontal flip that **swaps left and
right joints** (the skeleton's flip pairs: the mirrored left wrist is the original right wrist)
and a shift of up to a tenth of the picture, then the targets above.
"""

from __future__ import annotations

import numpy as np

from cv_core.datasets.base import Dataset, DatasetError
from cv_core.i18n import N_
from cv_core.detection.targets import draw_gaussian, gaussian_radius
from cv_core.pipeline import TargetEncoding, batches

__all__ = [
    "MAX_INSTANCES", "MAX_SHIFT", "augment_batch", "check_keypoint_dataset", "encode_heatmap_targets",
    "encode_keypoint_targets", "encode_pose_targets", "encode_regression_targets", "instance_arrays",
    "keypoint_batches", "target_shapes", "targets_as_outputs",
]

#: Objects kept per picture (COCO scores at most 20 predictions a picture).
MAX_INSTANCES = 20
#: The largest shift of the training augmentation, as a fraction of the picture's side.
MAX_SHIFT = 0.1


def check_keypoint_dataset(dataset: Dataset) -> Dataset:
    """Refuse a dataset without keypoints before anything trains.

    Raises:
        DatasetError: ``dataset.has_keypoints`` is false, with a message that says what to choose.
    """
    if not getattr(dataset, "has_keypoints", False) or getattr(dataset, "skeleton", None) is None:
        raise DatasetError(N_("The {name!r} dataset has no keypoints, so it cannot train a keypoint model. Choose "
                              "'people', 'landmarks' or a folder with a COCO keypoint file ('coco_keypoints')."),
                           name=getattr(dataset, "name", "?"))
    return dataset


def instance_arrays(instances, num_joints: int, max_instances: int = MAX_INSTANCES):
    """One picture's objects as fixed-size arrays, the largest area first (the main object).

    Crowds and objects without a labelled joint are left out; beyond ``max_instances`` the
    smallest are dropped.

    Returns:
        ``(points, visibility, boxes)``: float32 (N, K, 2) pixels (0 where not labelled),
        int32 (N, K) COCO visibility (rows of padding are all 0), float32 (N, 4) ``x0, y0, x1, y1``.
    """
    points = np.zeros((max_instances, num_joints, 2), np.float32)
    visibility = np.zeros((max_instances, num_joints), np.int32)
    boxes = np.zeros((max_instances, 4), np.float32)
    kept = [item for item in instances if not item.crowd and np.any(np.asarray(item.visibility) > 0)]
    kept = sorted(kept, key=lambda item: -float(item.area))[:max_instances]
    for n, item in enumerate(kept):
        labelled = np.asarray(item.visibility) > 0
        points[n] = np.where(labelled[:, None], np.asarray(item.points, np.float32), 0.0)
        visibility[n] = np.asarray(item.visibility, np.int32)
        boxes[n] = np.asarray(item.box, np.float32)
    return points, visibility, boxes


def _grid(image_size, output_stride: int) -> tuple[int, int]:
    height, width = image_size
    if height % output_stride or width % output_stride:
        raise ValueError(f"Expected `image_size` to be a multiple of `output_stride` ({output_stride}). "
                         f"Received: image_size={tuple(image_size)!r}")
    return height // output_stride, width // output_stride


def _cell(value: np.float32, cells: int) -> int:
    return int(min(max(np.floor(value), 0), cells - 1))


def _radius(box, output_stride: int) -> int:
    width, height = (float(box[2]) - float(box[0])) / output_stride, (float(box[3]) - float(box[1])) / output_stride
    return max(0, int(gaussian_radius(max(height, 0.0), max(width, 0.0))))


def _draw_joints(points, visibility, radius: int, stride: np.float32, heatmap, refine) -> None:
    """Each labelled joint's bump on its channel of ``heatmap`` and its in-cell offset in ``refine``."""
    grid_h, grid_w, k = heatmap.shape
    for j in np.flatnonzero(visibility > 0):
        px, py = points[j, 0] / stride, points[j, 1] / stride
        jx, jy = _cell(px, grid_w), _cell(py, grid_h)
        draw_gaussian(heatmap[:, :, j], (jx, jy), radius)
        refine[jy, jx, 2 * j:2 * j + 2] = (px - np.float32(jx), py - np.float32(jy))
        refine[jy, jx, 2 * k + j] = 1.0


def encode_pose_targets(points, visibility, boxes, image_size, output_stride: int = 4) -> dict[str, np.ndarray]:
    """The pose model's targets for one picture (see the module docstring).

    Args:
        points: (N, K, 2) ``(x, y)`` pixels; visibility: (N, K) COCO 0/1/2; boxes: (N, 4)
            ``x0, y0, x1, y1`` pixels. Rows without a labelled joint or a box are skipped.
        image_size: ``(height, width)``, multiples of ``output_stride``.
        output_stride: input pixels per output cell.

    Returns:
        float32 arrays: ``centre`` (h, w, 1), ``size`` (h, w, 3) = (w, h, mask), ``offset``
        (h, w, 3) = (dx, dy, mask), ``joint_offsets`` (h, w, 3K) = (2K values, K masks),
        ``joint_heatmap`` (h, w, K), ``joint_refine`` (h, w, 3K). Two people whose centres
        fall in one cell share its values (the later, smaller one wins).
    """
    points, visibility, boxes = (np.asarray(points, np.float32), np.asarray(visibility),
                                 np.asarray(boxes, np.float32))
    grid_h, grid_w = _grid(image_size, output_stride)
    k = points.shape[1]
    stride = np.float32(output_stride)
    out = {"centre": np.zeros((grid_h, grid_w, 1), np.float32), "size": np.zeros((grid_h, grid_w, 3), np.float32),
           "offset": np.zeros((grid_h, grid_w, 3), np.float32),
           "joint_offsets": np.zeros((grid_h, grid_w, 3 * k), np.float32),
           "joint_heatmap": np.zeros((grid_h, grid_w, k), np.float32),
           "joint_refine": np.zeros((grid_h, grid_w, 3 * k), np.float32)}
    for person, visible, box in zip(points, visibility, boxes):
        x0, y0, x1, y1 = (np.float32(v) / stride for v in box)
        if not (np.any(visible > 0) and x1 > x0 and y1 > y0):
            continue
        cx, cy = (x0 + x1) / np.float32(2), (y0 + y1) / np.float32(2)
        ix, iy = _cell(cx, grid_w), _cell(cy, grid_h)
        radius = _radius(box, output_stride)
        draw_gaussian(out["centre"][:, :, 0], (ix, iy), radius)
        out["size"][iy, ix] = (x1 - x0, y1 - y0, 1.0)
        out["offset"][iy, ix] = (cx - np.float32(ix), cy - np.float32(iy), 1.0)
        labelled = visible > 0
        relative = person / stride - np.array([ix, iy], np.float32)
        out["joint_offsets"][iy, ix, :2 * k] = np.where(labelled[:, None], relative, 0.0).reshape(-1)
        out["joint_offsets"][iy, ix, 2 * k:] = labelled
        _draw_joints(person, visible, radius, stride, out["joint_heatmap"], out["joint_refine"])
    return out


def encode_heatmap_targets(points, visibility, boxes, image_size, output_stride: int = 4) -> dict[str, np.ndarray]:
    """The single-object heatmap model's targets: the main object's (row 0) joints.

    Returns:
        float32 ``joint_heatmap`` (h, w, K) and ``joint_refine`` (h, w, 3K) (all 0 without an object).
    """
    points, visibility, boxes = (np.asarray(points, np.float32), np.asarray(visibility),
                                 np.asarray(boxes, np.float32))
    grid_h, grid_w = _grid(image_size, output_stride)
    k = points.shape[1]
    heatmap = np.zeros((grid_h, grid_w, k), np.float32)
    refine = np.zeros((grid_h, grid_w, 3 * k), np.float32)
    if len(points):
        _draw_joints(points[0], visibility[0], _radius(boxes[0], output_stride), np.float32(output_stride),
                     heatmap, refine)
    return {"joint_heatmap": heatmap, "joint_refine": refine}


def encode_regression_targets(points, visibility, boxes, image_size) -> dict[str, np.ndarray]:
    """The regression model's target: the main object's (row 0) joints as fractions of the picture.

    Returns:
        float32 ``joints`` (3K,): ``x / W, y / H`` per joint, then a mask per joint.
    """
    points, visibility = np.asarray(points, np.float32), np.asarray(visibility)
    height, width = image_size
    k = points.shape[1]
    joints = np.zeros(3 * k, np.float32)
    if len(points):
        labelled = visibility[0] > 0
        scaled = points[0] / np.array([width, height], np.float32)
        joints[:2 * k] = np.where(labelled[:, None], scaled, 0.0).reshape(-1)
        joints[2 * k:] = labelled
    return {"joints": joints}


def encode_keypoint_targets(kind: str, points, visibility, boxes, image_size, output_stride: int | None = 4) -> dict:
    """The targets of a model of ``kind`` ("pose", "heatmap" or "regression") for one picture."""
    if kind == "pose":
        return encode_pose_targets(points, visibility, boxes, image_size, output_stride)
    if kind == "heatmap":
        return encode_heatmap_targets(points, visibility, boxes, image_size, output_stride)
    if kind == "regression":
        return encode_regression_targets(points, visibility, boxes, image_size)
    raise ValueError(f"Expected `kind` to be one of ('pose', 'heatmap', 'regression'). Received: kind={kind!r}")


def target_shapes(kind: str, image_size, output_stride: int | None, num_joints: int) -> dict[str, tuple]:
    """Each target's shape for one picture (without the batch axis), by output name."""
    if kind == "regression":
        return {"joints": (3 * num_joints,)}
    grid = _grid(image_size, output_stride)
    k = num_joints
    shapes = {"centre": (*grid, 1), "size": (*grid, 3), "offset": (*grid, 3), "joint_offsets": (*grid, 3 * k),
              "joint_heatmap": (*grid, k), "joint_refine": (*grid, 3 * k)}
    from cv_core.keypoints.models import KEYPOINT_KINDS

    return {name: shapes[name] for name in KEYPOINT_KINDS[kind]}


def targets_as_outputs(targets: dict) -> dict:
    """The outputs a perfect model would give for these targets (masks dropped); one picture or a batch."""
    out = {}
    for name, value in targets.items():
        value = np.asarray(value)
        if name in ("centre", "joint_heatmap"):
            out[name] = value
        else:
            points = value.shape[-1] // 3
            out[name] = value[..., :2 * points]
    return out


def augment_batch(images, points, visibility, boxes, seed: int, permutation, max_shift: float = MAX_SHIFT,
                  flip_probability: float = 0.5):
    """A random horizontal flip (left and right joints swapped) and shift per picture, in numpy.

    Args:
        images: float32 (B, H, W, 3); points (B, N, K, 2), visibility (B, N, K), boxes (B, N, 4) in pixels.
        seed: the batch's random draw.
        permutation: (K,) the skeleton's ``flip_permutation()``.
        max_shift: the largest shift, as a fraction of each side (filled with black).
        flip_probability: the chance that a picture is mirrored.

    Returns:
        New ``(images, points, visibility, boxes)``: a joint pushed out of the picture becomes
        unlabelled (0), boxes are clipped to the picture.
    """
    rng = np.random.default_rng(int(seed) & 0x7FFFFFFFFFFFFFFF)
    images = np.array(images, np.float32, copy=True)
    points = np.array(points, np.float32, copy=True)
    visibility = np.array(visibility, copy=True)
    boxes = np.array(boxes, np.float32, copy=True)
    height, width = images.shape[1:3]
    limit_x, limit_y = int(max_shift * width), int(max_shift * height)
    for b in range(len(images)):
        if rng.random() < flip_probability:
            images[b] = images[b, :, ::-1]
            points[b, ..., 0] = width - points[b, ..., 0]
            points[b], visibility[b] = points[b][:, permutation], visibility[b][:, permutation]
            x0, y0, x1, y1 = boxes[b].T
            boxes[b] = np.stack([width - x1, y0, width - x0, y1], axis=-1)
        dx, dy = int(rng.integers(-limit_x, limit_x + 1)), int(rng.integers(-limit_y, limit_y + 1))
        if dx or dy:
            shifted = np.zeros_like(images[b])
            shifted[max(dy, 0):height + min(dy, 0), max(dx, 0):width + min(dx, 0)] = \
                images[b, max(-dy, 0):height - max(dy, 0), max(-dx, 0):width - max(dx, 0)]
            images[b] = shifted
            points[b] += np.array([dx, dy], np.float32)
            boxes[b] += np.array([dx, dy, dx, dy], np.float32)
        x, y = points[b, ..., 0], points[b, ..., 1]
        visibility[b] = np.where((x < 0) | (x > width) | (y < 0) | (y > height), 0, visibility[b])
        points[b] = np.where(visibility[b][..., None] > 0, points[b], 0.0)
        boxes[b] = np.clip(boxes[b], 0, [width, height, width, height])
    return images, points, visibility, boxes


def keypoint_batches(dataset: Dataset, split: str, kind: str, image_size: tuple[int, int] | None = None,
                     batch_size: int = 32, shuffle: bool = False, seed: int = 0, augment: bool = False,
                     output_stride: int | None = 4, cache: bool = True, max_instances: int = MAX_INSTANCES):
    """A batched ``tf.data.Dataset`` of one split for training or evaluating a keypoint model of ``kind``.

    Args:
        dataset: a dataset with keypoints (``has_keypoints`` and a ``skeleton``).
        split: "train", "validation" or "test".
        kind: "pose", "heatmap" or "regression" (:data:`cv_core.keypoints.KEYPOINT_KINDS`).
        image_size: (height, width), multiples of ``output_stride``; the dataset's default if None.
        batch_size, shuffle, seed, cache: as :func:`cv_core.pipeline.batches`.
        augment: flip (left and right swapped) and shift each picture with its keypoints.
        output_stride: the model's output stride (ignored for "regression").
        max_instances: objects kept per picture (the largest).

    Returns:
        ``tf.data.Dataset`` of ``(float32 images (B, H, W, 3) in [0, 255], {output: target})``,
        the targets of :func:`encode_keypoint_targets` batched.

    Raises:
        DatasetError: no keypoints, an empty split, bad sizes.
    """
    check_keypoint_dataset(dataset)
    from cv_core.keypoints.models import KEYPOINT_KINDS
    from cv_core.keypoints.pose import scale_instances

    if kind not in KEYPOINT_KINDS:
        raise ValueError(f"Expected `kind` to be one of {tuple(KEYPOINT_KINDS)}. Received: kind={kind!r}")
    skeleton = dataset.skeleton
    k = skeleton.num_joints
    permutation = skeleton.flip_permutation()
    stride = None if kind == "regression" else output_stride
    height, width = image_size or dataset.default_image_size
    heads = KEYPOINT_KINDS[kind]

    def encode(sample, size):
        if sample is None:
            return instance_arrays([], k, max_instances)
        instances = scale_instances(sample.keypoints, sample.image.shape[:2], size)
        return instance_arrays(instances, k, max_instances)

    def augment_and_encode(images, points, visibility, boxes, draw):
        if augment:
            images, points, visibility, boxes = augment_batch(images, points, visibility, boxes, draw, permutation)
        encoded = [encode_keypoint_targets(kind, *parts, (height, width), stride)
                   for parts in zip(points, visibility, boxes)]
        shapes = target_shapes(kind, (height, width), stride, k)
        return (np.asarray(images, np.float32),
                *(np.stack([e[h] for e in encoded]) if encoded else np.zeros((0, *shapes[h]), np.float32)
                  for h in heads))

    def per_batch(tf, images, parts, draw):
        results = tf.numpy_function(augment_and_encode, [images, *parts, draw], (tf.float32,) * (1 + len(heads)))
        shapes = target_shapes(kind, (height, width), stride, k)
        targets = {h: tf.ensure_shape(t, (None, *shapes[h])) for h, t in zip(heads, results[1:])}
        return tf.ensure_shape(results[0], (None, height, width, 3)), targets

    encoding = TargetEncoding(
        encode=encode, dtypes=("float32", "int32", "float32"),
        shapes=lambda h, w: ((max_instances, k, 2), (max_instances, k), (max_instances, 4)),
        check=check_keypoint_dataset, per_batch=per_batch,
    )
    return batches(dataset, split, encoding, image_size=image_size, batch_size=batch_size, shuffle=shuffle,
                   seed=seed, cache=cache, size_multiple=stride or 1)
