"""A picture's instances: one mask, one class and one box per object, from a dataset or from files.

A dataset with instances gives each :class:`~cv_core.datasets.Sample` an **instance map**
(``Sample.instances``, (H, W) integers): 0 where no object is, ``i`` on every visible pixel of
the object whose box is ``boxes[i - 1]`` (and whose class is that box's). An object cut in two by
an occluder is one id on two regions; that is what a semantic mask cannot say.

Beside a class mask, an instance map may also come from a file (the Mask studio's
``instances/<id>.png``, or any tool's): :func:`instances_from_maps` checks it against its class
mask and picture and turns it into the same instance map and boxes. Its ids need not be 1, 2,
3...: ids that skip numbers are renumbered in increasing order (and the renumbering returned).

>>> from cv_core.datasets import open_dataset
>>> sample = open_dataset("shapes", difficulty="crowded", image_size=64).sample("train", 0)
>>> [(o["class"], o["box"]) for o in sample_instances(sample)]

Pure numpy (and Pillow to read a file): importing this does not load TensorFlow.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cv_core.datasets.base import DatasetError, Sample
from cv_core.i18n import N_

__all__ = ["InstanceDataError", "InstanceMap", "instance_list", "instances_from_maps", "read_instance_map",
           "sample_instances", "touching_pairs"]


class InstanceDataError(DatasetError):
    """An instance map, or a COCO file's instances, cannot be used as given; the message says why."""


@dataclass(frozen=True)
class InstanceMap:
    """An instance map checked against its class mask.

    Attributes:
        instances: (H, W) uint16, 0 = no object, 1..N the objects in the order of ``boxes``.
        boxes: ``(class_index, x0, y0, x1, y1)`` per object (x1/y1 exclusive), the box around its pixels.
        renumbered: ``{id in the file: id here}``; the identity when the file's ids were 1..N.
        mixed: ids in the file whose pixels covered several classes of the mask (each took its most
            frequent class; the class mask is not changed).
    """

    instances: np.ndarray
    boxes: list
    renumbered: dict
    mixed: tuple[int, ...] = ()


def _box(ys: np.ndarray, xs: np.ndarray) -> tuple[int, int, int, int]:
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def instance_list(instances: np.ndarray, boxes) -> list[dict]:
    """The objects of an instance map: ``{"mask": (H, W) bool, "class": int, "box": (x0, y0, x1, y1)}`` each.

    ``boxes[i - 1]`` gives id ``i``'s class; an id of the map beyond ``boxes`` is refused.

    Raises:
        InstanceDataError: an id with no box.
    """
    instances = np.asarray(instances)
    ids = np.unique(instances[instances > 0])
    if len(ids) and int(ids.max()) > len(boxes):
        raise InstanceDataError(N_("The instance map has id {int} but only {n} boxes."), int=int(ids.max()), n=len(boxes))
    out = []
    for i, box in enumerate(boxes, start=1):
        mask = instances == i
        if mask.any():
            out.append({"mask": mask, "class": int(box[0]), "box": tuple(int(v) for v in box[1:])})
    return out


def sample_instances(sample: Sample) -> list[dict]:
    """A sample's objects (see :func:`instance_list`); empty for a sample without an instance map."""
    if sample.instances is None:
        return []
    return instance_list(sample.instances, sample.boxes)


def read_instance_map(source) -> np.ndarray:
    """Read an instance map from a single-channel PNG (8 or 16 bits a pixel): (H, W) int64 ids.

    Args:
        source: a path or the file's bytes.

    Raises:
        InstanceDataError: not a readable PNG, or a PNG with colour channels.
    """
    from PIL import Image

    try:
        data = Path(source).read_bytes() if not isinstance(source, (bytes, bytearray)) else bytes(source)
        with Image.open(io.BytesIO(data), formats=("PNG",)) as image:
            if image.mode not in ("L", "I", "I;16", "P", "1"):
                raise InstanceDataError(
                    N_("Expected an instance map to be a single-channel PNG of ids (8 or 16 bits). Received a "
                       "{mode} picture."), mode=image.mode)
            array = np.asarray(image if image.mode != "P" else image.convert("L")).astype(np.int64)
    except InstanceDataError:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoder error becomes one message
        raise InstanceDataError(N_("The instance map could not be read as a PNG: {exc}"), exc=exc) from None
    return array


def instances_from_maps(class_mask: np.ndarray, instance_map: np.ndarray, image_shape: tuple[int, ...] | None = None,
                        background: int = 0, declared: dict | None = None, source: str = "") -> InstanceMap:
    """Check an instance map against its class mask (and picture), and number its objects 1..N.

    Each nonzero id is one object; its class is the class mask's value on its pixels (the most
    frequent, when a painted object strays over two classes: listed in ``mixed``). Pixels of an id
    that lie on the class mask's background are not the object's (the class mask decides what
    is an object).

    Args:
        class_mask: (H, W) class indices.
        instance_map: (H, W) non-negative ids, 0 = no object; ids may skip numbers (1, 2, 5).
        image_shape: the picture's shape; the maps must have its height and width.
        background: the class mask's background value.
        declared: optional ``{id: class}`` that a file lists beside the map: every declared id must
            have pixels, with that class.
        source: the file's name, for messages.

    Returns:
        An :class:`InstanceMap`.

    Raises:
        InstanceDataError: maps of different sizes or not the picture's, a negative id, a declared
            instance with no pixels (or another class), an id all on background.
    """
    where = f" ({source})" if source else ""
    class_mask, instance_map = np.asarray(class_mask), np.asarray(instance_map)
    if instance_map.ndim != 2 or class_mask.ndim != 2:
        raise InstanceDataError(N_("Expected the class mask and the instance map to be (H, W) arrays{where}. Received "
                                   "shapes {shape} and {shape2}."), where=where, shape=class_mask.shape, shape2=instance_map.shape)
    if image_shape is not None and tuple(instance_map.shape) != tuple(image_shape[:2]):
        raise InstanceDataError(
            N_("The instance map{where} is {shape} × {shape2} pixels but its picture is {image_shape} × "
               "{image_shape2}: a mask must have its picture's size."), where=where, shape=instance_map.shape[1], shape2=instance_map.shape[0], image_shape=image_shape[1], image_shape2=image_shape[0])
    if instance_map.shape != class_mask.shape:
        raise InstanceDataError(
            N_("The instance map{where} is {shape} × {shape2} pixels but its class mask is {shape3} × "
               "{shape4}: they must have the same size."), where=where, shape=instance_map.shape[1], shape2=instance_map.shape[0], shape3=class_mask.shape[1], shape4=class_mask.shape[0])
    if instance_map.size and int(instance_map.min()) < 0:
        raise InstanceDataError(N_("Expected instance ids >= 0 (0 = no object){where}. Received {int}."), where=where, int=int(instance_map.min()))
    on_object = class_mask != background
    ids = [int(i) for i in np.unique(instance_map[instance_map > 0])]
    if declared:
        for key, cls in declared.items():
            pixels = (instance_map == int(key)) & on_object
            if not pixels.any():
                raise InstanceDataError(
                    N_("Instance {int}{where} has no pixels: paint it, or delete it from the list."), int=int(key), where=where)
            if int(np.bincount(class_mask[pixels].astype(np.int64)).argmax()) != int(cls):
                raise InstanceDataError(N_("Instance {int}{where} is listed as class {int2} but its pixels are mostly class {int3}."), int=int(key), where=where, int2=int(cls), int3=int(np.bincount(class_mask[pixels].astype(np.int64)).argmax()))
    out = np.zeros(instance_map.shape, np.uint16)
    boxes, renumbered, mixed = [], {}, []
    for original in ids:
        pixels = (instance_map == original) & on_object
        if not pixels.any():
            raise InstanceDataError(
                N_("Instance {original}{where} has no pixels on an object of the class mask (all its pixels "
                   "are background): paint its class too, or remove it from the instance map."), original=original, where=where)
        counts = np.bincount(class_mask[pixels].astype(np.int64))
        if np.count_nonzero(counts) > 1:
            mixed.append(original)
        new = len(boxes) + 1
        ys, xs = np.nonzero(pixels)
        out[ys, xs] = new
        boxes.append((int(counts.argmax()), *_box(ys, xs)))
        renumbered[original] = new
    return InstanceMap(instances=out, boxes=boxes, renumbered=renumbered, mixed=tuple(mixed))


def touching_pairs(objects: list[dict]) -> list[tuple[int, int]]:
    """Pairs ``(i, j)``, i < j, of objects of one class whose masks overlap or touch (share an edge).

    Args:
        objects: ``{"mask": (H, W) bool, "class": int}`` each (a picture's true instances).
    """
    pairs = []
    grown = []
    for o in objects:
        m = np.asarray(o["mask"], bool)
        g = m.copy()
        g[1:] |= m[:-1]
        g[:-1] |= m[1:]
        g[:, 1:] |= m[:, :-1]
        g[:, :-1] |= m[:, 1:]
        grown.append(g)
    for i in range(len(objects)):
        for j in range(i + 1, len(objects)):
            if int(objects[i]["class"]) == int(objects[j]["class"]) and (grown[i] & np.asarray(objects[j]["mask"],
                                                                                              bool)).any():
                pairs.append((i, j))
    return pairs
