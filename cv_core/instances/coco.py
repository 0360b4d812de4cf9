"""COCO instance files (``instances_*.json``): read each object's mask, write masks back.

The format (https://cocodataset.org/#format-data): ``images`` (id, file_name, width, height),
``categories`` (id, name) and ``annotations``, one object each: ``image_id``, ``category_id``,
``segmentation`` (polygons ``[[x1, y1, x2, y2, ...], ...]`` in pixel coordinates, or run-length
encoding ``{"size": [height, width], "counts": ...}``), ``area`` (pixels), ``bbox`` ``[x, y, width,
height]`` and ``iscrowd`` (0). Masks are decoded and encoded by pycocotools (``pycocotools.mask``),
COCO's own code, so a file written here reads back bit-exact (RLE) and what COCO's evaluation sees
is what the lab sees.

**Overlapping objects.** COCO lets two objects claim the same pixel; an instance map (one owner per
pixel, what the lab trains on) cannot. Reading keeps every mask as the file gives it (nothing is
lost, and :func:`cv_core.instances.mask_average_precision` scores overlapping masks as COCO does);
:meth:`CocoInstances.instance_map` **refuses** a picture whose objects overlap
(:class:`CocoOverlapError`, naming the annotations and the shared pixels) unless asked to resolve
it with ``overlap="later_in_front"`` (the later annotation in the file takes the shared pixels, as
if painted last; the result says which annotations lost pixels).

Every problem in a file raises a :class:`CocoFormatError` (a :class:`~cv_core.instances.data.
InstanceDataError`) naming the annotation and the picture: a missing field, RLE whose size is not
the picture's, a polygon with fewer than three points, an unknown picture or category, ``iscrowd``
other than 0.

>>> data = read_coco_instances("annotations/instances_val.json")
>>> objects = data.objects[data.images[0].id]           # [{"mask", "class", "category_id", "box", "area", "id"}]
>>> class_mask, instances, lost = data.instance_map(data.images[0].id)
>>> write_coco_instances("mine.json", [("0001.png", objects)], data.class_names)
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cv_core.coco_files import CocoImage
from cv_core.instances.data import InstanceDataError
from cv_core.i18n import N_

__all__ = ["CocoFormatError", "CocoImage", "CocoInstances", "CocoOverlapError", "coco_instances_dict",
           "mask_to_polygons", "mask_to_rle", "read_coco_instances", "write_coco_instances"]

_REQUIRED = {
    "images": ("id", "file_name", "width", "height"),
    "annotations": ("id", "image_id", "category_id", "segmentation", "area", "bbox"),
    "categories": ("id", "name"),
}


class CocoFormatError(InstanceDataError):
    """A COCO instance file that cannot be read as given; the message names the field and the object."""


class CocoOverlapError(CocoFormatError):
    """Objects of one picture claim the same pixels, and an instance map was asked for without resolving."""


@dataclass
class CocoInstances:
    """A COCO instance file, read.

    Attributes:
        images: the pictures, in file order.
        class_names: ``["background", <category names in id order>]``: mask class ``c`` is
            ``class_names[c]``; category ``category_ids[c - 1]``.
        category_ids: the COCO category id of each class after the background.
        objects: per image id, its objects in file order: ``{"id", "mask": (H, W) bool, "class": int
            (mask class, 1..), "category_id", "box": (x0, y0, x1, y1) exclusive, "area": int}``.
    """

    images: list[CocoImage]
    class_names: list[str]
    category_ids: list[int]
    objects: dict[int, list[dict]] = field(default_factory=dict)

    def instance_map(self, image_id: int, overlap: str = "refuse") -> tuple[np.ndarray, np.ndarray, list[int]]:
        """One picture's class mask and instance map (ids 1..N in file order).

        Args:
            image_id: a picture of the file.
            overlap: ``"refuse"`` (the default) or ``"later_in_front"`` (see the module docstring).

        Returns:
            ``(class_mask (H, W) uint8, instances (H, W) uint16, lost)``, ``lost`` the annotation ids
            that gave pixels to a later one (empty when nothing overlapped).

        Raises:
            CocoOverlapError: objects overlap and ``overlap`` is ``"refuse"``.
            ValueError: an unknown ``overlap``.
        """
        if overlap not in ("refuse", "later_in_front"):
            raise ValueError(f"Expected `overlap` to be 'refuse' or 'later_in_front'. Received: overlap={overlap!r}")
        image = next(i for i in self.images if i.id == image_id)
        class_mask = np.zeros((image.height, image.width), np.uint8)
        instances = np.zeros((image.height, image.width), np.uint16)
        owner = np.full((image.height, image.width), -1, np.int64)
        objects = self.objects.get(image_id, [])
        lost = set()
        for k, obj in enumerate(objects):
            shared = obj["mask"] & (owner >= 0)
            if shared.any():
                earlier = sorted({objects[j]["id"] for j in np.unique(owner[shared])})
                if overlap == "refuse":
                    raise CocoOverlapError(
                        N_("Annotation {id} of picture {file_name} overlaps annotation(s) {earlier} on {int} "
                           "pixels: an instance map gives every pixel to one object. Fix the file, or read it with "
                           "overlap='later_in_front' (the later annotation takes the shared pixels)."), id=obj['id'], file_name=repr(image.file_name), earlier=earlier, int=int(shared.sum()))
                lost.update(earlier)
            owner[obj["mask"]] = k
            class_mask[obj["mask"]] = obj["class"]
            instances[obj["mask"]] = k + 1
        return class_mask, instances, sorted(lost)


def _fail(message: str) -> None:
    raise CocoFormatError(message)


def _check_fields(entry, section: str, where: str) -> None:
    if not isinstance(entry, Mapping):
        _fail(f"Expected each entry of `{section}` to be an object. Received {type(entry).__name__} ({where}).")
    missing = [key for key in _REQUIRED[section] if key not in entry]
    if missing:
        _fail(f"The {section[:-1]} {where} has no {', '.join(repr(m) for m in missing)}: COCO needs "
              f"{', '.join(_REQUIRED[section])}.")


def _decode(segmentation, image: CocoImage, where: str) -> np.ndarray:
    """(H, W) bool from polygons or RLE, checked against the picture's size."""
    from pycocotools import mask as mask_utils

    h, w = image.height, image.width
    if isinstance(segmentation, list):
        if not segmentation:
            _fail(f"The annotation {where} has an empty `segmentation`: give at least one polygon.")
        for polygon in segmentation:
            if not isinstance(polygon, list) or len(polygon) % 2 or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) for v in polygon):
                _fail(f"Expected each polygon of annotation {where} to be a flat list of numbers x1, y1, x2, y2, ... "
                      f"Received {str(polygon)[:60]}.")
            if len(polygon) < 6:
                _fail(f"A polygon of annotation {where} has {len(polygon) // 2} point(s): a polygon needs at least "
                      f"three.")
        rles = mask_utils.frPyObjects(segmentation, h, w)
        return mask_utils.decode(mask_utils.merge(rles)).astype(bool)
    if isinstance(segmentation, Mapping):
        if "size" not in segmentation or "counts" not in segmentation:
            _fail(f"Expected the RLE of annotation {where} to have 'size' and 'counts'.")
        size = list(segmentation["size"]) if isinstance(segmentation["size"], (list, tuple)) else None
        if size != [h, w]:
            _fail(f"The RLE of annotation {where} is for a {size} picture ([height, width]) but the picture is "
                  f"[{h}, {w}].")
        counts = segmentation["counts"]
        if isinstance(counts, list):
            if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts) or sum(counts) != h * w:
                _fail(f"The RLE counts of annotation {where} add up to {sum(c for c in counts if isinstance(c, int))} "
                      f"pixels but the picture has {h} × {w} = {h * w}.")
            rle = mask_utils.frPyObjects(dict(segmentation), h, w)
        elif isinstance(counts, (str, bytes)):
            rle = {"size": [h, w], "counts": counts.encode("ascii") if isinstance(counts, str) else counts}
        else:
            _fail(f"Expected the RLE counts of annotation {where} to be a list or a string.")
        try:
            mask = mask_utils.decode(rle).astype(bool)
        except Exception as exc:  # noqa: BLE001 - a corrupt compressed string
            raise CocoFormatError(N_("The RLE of annotation {where} could not be decoded: {exc}"), where=where, exc=exc) from None
        if isinstance(counts, (str, bytes)) and int(mask_utils.area(rle)) != int(mask.sum()):
            _fail(f"The RLE of annotation {where} does not fit a [{h}, {w}] picture.")
        return mask
    _fail(f"Expected the `segmentation` of annotation {where} to be polygons or RLE. Received "
          f"{type(segmentation).__name__}.")
    raise AssertionError  # pragma: no cover


def read_coco_instances(annotations, min_area: int = 1) -> CocoInstances:
    """Read a COCO instance file (a path, or the parsed dict).

    Args:
        annotations: a ``.json`` path or the dict it holds.
        min_area: objects with fewer pixels are refused (an instance with no pixels says nothing).

    Returns:
        A :class:`CocoInstances`.

    Raises:
        CocoFormatError: unreadable JSON or any problem listed in the module docstring, including an
            object whose mask has fewer than ``min_area`` pixels.
    """
    if isinstance(annotations, Mapping):
        data = annotations
    else:
        try:
            data = json.loads(Path(annotations).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CocoFormatError(N_("The COCO file {str} could not be read as JSON: {exc}"), str=repr(str(annotations)), exc=exc) from None
    if not isinstance(data, Mapping):
        _fail("Expected a COCO file to hold an object with 'images', 'annotations' and 'categories'.")
    for section in ("images", "annotations", "categories"):
        if not isinstance(data.get(section), list):
            _fail(f"The COCO file has no list `{section}`: an instance file needs images, annotations and categories.")
    images = {}
    for n, entry in enumerate(data["images"]):
        _check_fields(entry, "images", f"#{n}")
        if not all(isinstance(entry[k], int) and entry[k] > 0 for k in ("width", "height")):
            _fail(f"Expected whole positive `width` and `height` for picture {entry.get('file_name')!r}.")
        images[entry["id"]] = CocoImage(entry["id"], str(entry["file_name"]), int(entry["width"]), int(entry["height"]))
    categories = []
    for n, entry in enumerate(data["categories"]):
        _check_fields(entry, "categories", f"#{n}")
        categories.append((entry["id"], str(entry["name"])))
    categories.sort()
    class_of = {cid: c + 1 for c, (cid, _) in enumerate(categories)}
    objects: dict[int, list[dict]] = {i: [] for i in images}
    for n, ann in enumerate(data["annotations"]):
        _check_fields(ann, "annotations", f"#{n}")
        image = images.get(ann["image_id"])
        if image is None:
            _fail(f"Annotation {ann['id']} names picture id {ann['image_id']!r}, which `images` does not list.")
        where = f"{ann['id']} (picture {image.file_name!r})"
        if ann["category_id"] not in class_of:
            _fail(f"Annotation {where} names category id {ann['category_id']!r}, which `categories` does not list.")
        if ann.get("iscrowd", 0) not in (0, False):
            _fail(f"Annotation {where} is a crowd (iscrowd 1): the lab reads single objects only (iscrowd 0).")
        mask = _decode(ann["segmentation"], image, where)
        area = int(mask.sum())
        if area < max(1, min_area):
            _fail(f"Annotation {where} has no pixels: its segmentation covers {area} pixel(s) of the picture.")
        ys, xs = np.nonzero(mask)
        objects[image.id].append({"id": ann["id"], "mask": mask, "class": class_of[ann["category_id"]],
                                  "category_id": ann["category_id"], "area": area,
                                  "box": (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)})
    return CocoInstances(images=list(images.values()), class_names=["background", *(n for _, n in categories)],
                         category_ids=[cid for cid, _ in categories], objects=objects)


def mask_to_rle(mask: np.ndarray) -> dict:
    """COCO's compressed RLE of an (H, W) bool mask (``counts`` as text, JSON-ready)."""
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(np.asarray(mask, np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def mask_to_polygons(mask: np.ndarray) -> list[list[float]]:
    """The outlines of a mask's regions as COCO polygons (pixel corners, so a square's outline is its edge).

    A polygon is an outline: holes are not kept, and decoding it back may differ from the mask on
    border pixels. Use RLE to keep a mask exact.
    """
    from skimage import measure

    padded = np.pad(np.asarray(mask, bool), 1)
    polygons = []
    for contour in measure.find_contours(padded.astype(np.float32), 0.5):
        contour = measure.approximate_polygon(contour, tolerance=0.0) - 1  # (row, col), back to unpadded
        if len(contour) >= 4:  # closed: the first point repeats
            # the 0.5 level runs through pixel edges' midpoints; pixel (r, c) covers [c, c+1) x [r, r+1)
            points = [(float(c) + 0.5, float(r) + 0.5) for r, c in contour[:-1]]
            polygons.append([v for point in points for v in point])
    return polygons


def coco_instances_dict(items: Iterable, class_names, encoding: str = "rle", background: int = 0) -> dict:
    """A COCO instance file as a dict.

    Args:
        items: ``(file_name, objects)`` per picture, or ``(file_name, objects, (height, width))``;
            objects as :func:`cv_core.instances.instance_list` or the decoders give them (``"mask"``,
            ``"class"``: a mask class, ``"score"`` optional and kept).
        class_names: the mask classes' names, background included.
        encoding: ``"rle"`` (exact) or ``"polygon"`` (outlines).
        background: the background class (no category).

    Raises:
        InstanceDataError: an unknown encoding, an object with no pixels, or masks of different sizes in one picture.
    """
    if encoding not in ("rle", "polygon"):
        raise InstanceDataError(N_("Expected `encoding` to be 'rle' or 'polygon'. Received: encoding={encoding}"), encoding=repr(encoding))
    classes = [c for c in range(len(class_names)) if c != background]
    categories = [{"id": c, "name": str(class_names[c]), "supercategory": "object"} for c in classes]
    images, annotations = [], []
    for n, item in enumerate(items, start=1):
        file_name, objects = item[0], list(item[1])
        size = tuple(item[2]) if len(item) > 2 else (np.asarray(objects[0]["mask"]).shape if objects else None)
        if size is None:
            raise InstanceDataError(N_("Picture {file_name} has no objects: give its (height, width)."), file_name=repr(file_name))
        images.append({"id": n, "file_name": str(file_name), "height": int(size[0]), "width": int(size[1])})
        for obj in objects:
            mask = np.asarray(obj["mask"], bool)
            if mask.shape != tuple(size[:2]):
                raise InstanceDataError(N_("An object of picture {file_name} has a {shape} mask; the picture is {tuple}."), file_name=repr(file_name), shape=mask.shape, tuple=tuple(size[:2]))
            if not mask.any():
                raise InstanceDataError(N_("An object of picture {file_name} has no pixels: COCO cannot store it."), file_name=repr(file_name))
            if int(obj["class"]) not in classes:
                raise InstanceDataError(N_("An object of picture {file_name} has class {class_}, which is not one of the classes "
                                           "{classes}."), file_name=repr(file_name), class_=repr(obj['class']), classes=classes)
            ys, xs = np.nonzero(mask)
            annotation = {
                "id": len(annotations) + 1, "image_id": n, "category_id": int(obj["class"]),
                "segmentation": mask_to_rle(mask) if encoding == "rle" else mask_to_polygons(mask),
                "area": int(mask.sum()), "iscrowd": 0,
                "bbox": [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)]}
            if "score" in obj:
                annotation["score"] = float(obj["score"])
            annotations.append(annotation)
    return {"images": images, "annotations": annotations, "categories": categories}


def write_coco_instances(path: str | os.PathLike, items: Iterable, class_names, **options) -> Path:
    """Write :func:`coco_instances_dict` to ``path`` (UTF-8 JSON) and return the path."""
    path = Path(path)
    path.write_text(json.dumps(coco_instances_dict(items, class_names, **options)), encoding="utf-8")
    return path
