"""One picture's objects, as a page or a notebook shows and exports them (pure numpy).

After :func:`cv_core.instances.predict_instances` (or :func:`~cv_core.instances.decode_instances`)
has found a picture's objects:

- :func:`match_instances` pairs them with the true objects at mask IoU >= 0.5, COCO's way (best
  score first, each true object at most once, same class): hits, false positives and misses;
- :func:`resize_objects` moves them to another picture size (the picture's own pixels, say, for an
  export), :func:`instance_map` paints them into one map of ids, :func:`instance_map_png` writes
  that map as a PNG :func:`cv_core.instances.read_instance_map` reads back;
- :func:`coco_json` writes them as a COCO instance file (one picture).

>>> found = predict_instances(model, view[None])[0]
>>> outcome = match_instances(filter_instances(found, 0.3), truths)
>>> outcome.hits, outcome.false_positives, outcome.misses
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cv_core.instances.metrics import mask_iou_matrix

__all__ = ["InstanceOutcomes", "coco_json", "instance_map", "instance_map_png", "match_instances", "resize_objects"]


@dataclass(frozen=True)
class InstanceOutcomes:
    """How found objects pair with the true ones.

    Attributes:
        hit: per found object, True when it is matched to a true object of its class.
        truth_of: per found object, the index of its true object, or None.
        found: per true object, True when a found object is matched to it.
        iou: per found object, the mask IoU with its true object (0.0 when unmatched).
    """

    hit: tuple[bool, ...]
    truth_of: tuple[int | None, ...]
    found: tuple[bool, ...]
    iou: tuple[float, ...]

    @property
    def hits(self) -> int:
        return int(sum(self.hit))

    @property
    def false_positives(self) -> int:
        return len(self.hit) - self.hits

    @property
    def misses(self) -> int:
        return len(self.found) - int(sum(self.found))


def match_instances(found: Sequence[dict], truths: Sequence[dict], iou_threshold: float = 0.5) -> InstanceOutcomes:
    """Pair found objects with true ones as COCO's evaluation does at one IoU threshold.

    Found objects are taken by score, best first; each takes the unmatched true object of its class
    with the highest mask IoU, if that IoU reaches ``iou_threshold``.

    Args:
        found: ``{"mask": (H, W) bool, "class": int, "score": float}`` each (``score`` optional: the
            given order is kept for ties and missing scores).
        truths: ``{"mask": (H, W) bool, "class": int}`` each, the same size.
        iou_threshold: the least mask IoU of a hit.

    Returns:
        :class:`InstanceOutcomes`, in the order of ``found`` and ``truths``.

    Raises:
        ValueError: masks of different sizes.
    """
    found, truths = list(found), list(truths)
    if not found or not truths:
        return InstanceOutcomes((False,) * len(found), (None,) * len(found), (False,) * len(truths),
                                (0.0,) * len(found))
    ious = mask_iou_matrix([f["mask"] for f in found], [t["mask"] for t in truths])
    order = sorted(range(len(found)), key=lambda i: -float(found[i].get("score", 0.0)))
    taken = [False] * len(truths)
    truth_of: list[int | None] = [None] * len(found)
    for i in order:
        best, best_iou = None, float(iou_threshold)
        for j, truth in enumerate(truths):
            if taken[j] or int(truth["class"]) != int(found[i]["class"]):
                continue
            if ious[i, j] >= best_iou:
                best, best_iou = j, float(ious[i, j])
        if best is not None:
            taken[best] = True
            truth_of[i] = best
    return InstanceOutcomes(tuple(t is not None for t in truth_of), tuple(truth_of), tuple(taken),
                            tuple(float(ious[i, t]) if t is not None else 0.0 for i, t in enumerate(truth_of)))


def _box(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def resize_objects(objects: Sequence[dict], size: tuple[int, int]) -> list[dict]:
    """The objects at another picture size: masks resized by nearest neighbour, areas and boxes recounted.

    Every other key is kept. An object left with no pixel (a sliver at a smaller size) is dropped.

    Args:
        objects: ``{"mask": (H, W) bool, ...}`` each.
        size: ``(height, width)`` wanted.
    """
    height, width = int(size[0]), int(size[1])
    out = []
    for obj in objects:
        mask = np.asarray(obj["mask"], bool)
        h, w = mask.shape
        if (h, w) != (height, width):
            rows = np.minimum((np.arange(height) + 0.5) * h / height, h - 1).astype(np.int64)
            cols = np.minimum((np.arange(width) + 0.5) * w / width, w - 1).astype(np.int64)
            mask = mask[rows][:, cols]
        if not mask.any():
            continue
        moved = {**obj, "mask": mask, "area": int(mask.sum()), "box": _box(mask)}
        if "centre" in obj:
            x, y = obj["centre"]
            moved["centre"] = (int((x + 0.5) * width / w), int((y + 0.5) * height / h))
        out.append(moved)
    return out


def instance_map(objects: Sequence[dict], shape: tuple[int, int]) -> np.ndarray:
    """(H, W) uint16: 0 where no object, ``i + 1`` on the pixels of ``objects[i]``.

    Where objects overlap, the earlier one keeps the pixel (the decoders list the best-scored first).

    Raises:
        ValueError: a mask of another shape, or more than 65,535 objects.
    """
    if len(objects) > np.iinfo(np.uint16).max:
        raise ValueError(f"An instance map holds at most 65535 objects. Received {len(objects)}.")
    out = np.zeros(tuple(int(s) for s in shape[:2]), np.uint16)
    for number in range(len(objects), 0, -1):  # the earlier objects painted last, on top
        mask = np.asarray(objects[number - 1]["mask"], bool)
        if mask.shape != out.shape:
            raise ValueError(f"Expected every mask to be {out.shape}. Received {mask.shape}.")
        out[mask] = number
    return out


def instance_map_png(objects: Sequence[dict], shape: tuple[int, int]) -> bytes:
    """The objects' :func:`instance_map` as a PNG of ids: 8 bits a pixel up to 255 objects, else 16.

    The file is a map, not a picture (id 1 is almost black): read it with
    :func:`cv_core.instances.read_instance_map`, or train on it beside a class mask.
    """
    from PIL import Image

    ids = instance_map(objects, shape)
    image = Image.fromarray(ids.astype(np.uint8) if len(objects) <= 255 else ids)  # mode L, or I;16
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def coco_json(file_name: str, objects: Sequence[dict], class_names: Sequence[str], size: tuple[int, int],
              background: int = 0, encoding: str = "rle") -> str:
    """One picture's objects as a COCO instance file (JSON text), each with its score when it has one.

    Args:
        file_name: the picture's file name in the file's ``images``.
        objects: ``{"mask": (H, W) bool, "class": int (a mask class), "score": float (optional)}`` each.
        class_names: the mask classes, background included (the file's categories are the others).
        size: the picture's ``(height, width)`` (the masks' size).
        background: the class that is no category.
        encoding: ``"rle"`` (exact) or ``"polygon"`` (outlines).

    Raises:
        InstanceDataError: as :func:`cv_core.instances.coco_instances_dict`.
    """
    from cv_core.instances.coco import coco_instances_dict

    data = coco_instances_dict([(file_name, list(objects), tuple(size[:2]))], class_names, encoding=encoding,
                               background=background)
    return json.dumps(data)
