"""COCO keypoint files (``person_keypoints_*.json``): read them into the lab's structures, write them back.

The format (https://cocodataset.org/#format-data): ``images`` (id, file_name, width, height),
``categories`` (a keypoint category has ``keypoints``, its joint names, and ``skeleton``, its
edges as pairs of joint numbers **counted from 1**) and ``annotations`` (one object each:
``keypoints`` as ``[x, y, v] * K``, ``num_keypoints`` (how many have v > 0), ``bbox`` as
``[x, y, width, height]``, ``area``, ``iscrowd``). Exports of Label Studio and CVAT in COCO
keypoint format read the same way.

Coordinates: COCO's keypoints are pixel indices (a point on pixel column 10 is x = 10); the lab
works in continuous pixels (that pixel's centre is 10.5), so reading adds 0.5 to x and y of each
labelled point and writing takes it off, as Detectron2 does (``detectron2/data/datasets/coco.py``).
A point may lie up to half a pixel outside the picture in the file (a tool that writes continuous
pixels puts a point on the far edge at x = W); it is then moved onto the edge. Further out is an
error. Boxes and areas are continuous in both and pass unchanged.

Every problem in a file raises :class:`CocoFormatError` with a message that names the field, the
annotation and the picture; fields COCO does not define are listed in ``warnings`` and ignored
(``strict=True`` refuses them).

>>> data = read_coco_keypoints("annotations/person_keypoints_val.json", images_folder="val2017")
>>> data.skeleton.joints[:2], len(data.images)
(('nose', 'left_eye'), 5000)
>>> write_coco_keypoints("mine.json", data.items(), data.skeleton)
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cv_core.coco_files import CocoImage
from cv_core.i18n import N_, LazyText, TranslatedError
from cv_core.keypoints.instance import KeypointInstance, check_keypoints
from cv_core.keypoints.skeletons import Skeleton, custom_skeleton

__all__ = ["COCO_PIXEL_OFFSET", "CocoFormatError", "CocoImage", "CocoKeypoints", "coco_keypoints_dict",
           "read_coco_keypoints", "write_coco_keypoints"]

#: Added to COCO's x and y on reading (pixel indices -> continuous pixels), taken off on writing.
COCO_PIXEL_OFFSET = 0.5
_FIELDS = {
    "top": {"info", "licenses", "images", "annotations", "categories"},
    "images": {"id", "file_name", "width", "height", "license", "flickr_url", "coco_url", "date_captured"},
    "annotations": {"id", "image_id", "category_id", "keypoints", "num_keypoints", "bbox", "area", "iscrowd",
                    "segmentation"},
    "categories": {"id", "name", "supercategory", "keypoints", "skeleton"},
}
_REQUIRED = {
    "images": ("id", "file_name", "width", "height"),
    "annotations": ("id", "image_id", "category_id", "keypoints", "num_keypoints", "bbox", "area"),
    "categories": ("id", "name", "keypoints", "skeleton"),
}


class CocoFormatError(TranslatedError, ValueError):
    """A COCO keypoint file that cannot be read as one; the message says what and where."""


@dataclass
class CocoKeypoints:
    """A COCO keypoint file read into the lab's structures.

    Attributes:
        skeleton: the keypoint category as a :class:`~cv_core.keypoints.Skeleton` (0-based edges,
            left/right pairs found from the names, COCO's sigmas for COCO's joints).
        category_id, category_name: the keypoint category that was read.
        images: every picture, in the file's order.
        instances: image id -> its objects as :class:`~cv_core.keypoints.KeypointInstance`.
        warnings: fields COCO does not define, and what was skipped, one sentence each.
        folder: the pictures' folder, when one was given.
    """

    skeleton: Skeleton
    category_id: int
    category_name: str
    images: list[CocoImage]
    instances: dict[int, list[KeypointInstance]]
    warnings: list[str] = field(default_factory=list)
    folder: Path | None = None

    def items(self) -> list[tuple[CocoImage, list[KeypointInstance]]]:
        """``(image, its instances)`` for every picture, in the file's order."""
        return [(image, self.instances.get(image.id, [])) for image in self.images]


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_fields(entry, section: str, where: str, unknown: dict) -> None:
    if not isinstance(entry, Mapping):
        raise CocoFormatError(N_("{where} should be an object with fields {fields}; it is {type}."), where=where,
                              fields=", ".join(_REQUIRED[section]), type=type(entry).__name__)
    missing = [name for name in _REQUIRED[section] if name not in entry]
    if missing:
        message = (N_("{where} has no {fields} fields, which COCO's keypoint format requires.") if len(missing) > 1
                   else N_("{where} has no {fields} field, which COCO's keypoint format requires."))
        raise CocoFormatError(message, where=where, fields=", ".join(repr(m) for m in missing))
    for name in set(entry) - _FIELDS[section]:
        unknown.setdefault((section, name), 0)
        unknown[(section, name)] += 1


def _category(categories: list, category, unknown: dict) -> tuple[dict, Skeleton]:
    keypoint_categories = []
    for i, cat in enumerate(categories):
        if isinstance(cat, Mapping) and "keypoints" in cat:
            keypoint_categories.append((i, cat))
    if not keypoint_categories:
        raise CocoFormatError(N_("No category has a 'keypoints' list: this is not a COCO keypoint file."))
    if category is not None:
        chosen = [(i, c) for i, c in keypoint_categories if category in (c.get("id"), c.get("name"))]
        if not chosen:
            names = [c.get("name") for _, c in keypoint_categories]
            raise CocoFormatError(N_("No keypoint category is named or numbered {category!r}; the file has {names}."),
                                  category=category, names=names)
    elif len(keypoint_categories) > 1:
        names = [c.get("name") for _, c in keypoint_categories]
        raise CocoFormatError(N_("The file has {count} keypoint categories ({names}); choose one with `category`."),
                              count=len(names), names=names)
    else:
        chosen = keypoint_categories
    i, cat = chosen[0]
    where = f"categories[{i}] ({cat.get('name')!r})"
    _check_fields(cat, "categories", where, unknown)
    names = cat["keypoints"]
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise CocoFormatError(N_("{where}: 'keypoints' should be a non-empty list of joint names."), where=where)
    if len(set(names)) != len(names):
        raise CocoFormatError(N_("{where}: 'keypoints' names a joint more than once."), where=where)
    edges = []
    if not isinstance(cat["skeleton"], list):
        raise CocoFormatError(N_("{where}: 'skeleton' should be a list of [a, b] joint numbers."), where=where)
    for edge in cat["skeleton"]:
        if not (isinstance(edge, list) and len(edge) == 2 and all(_whole(v) for v in edge)):
            raise CocoFormatError(N_("{where}: skeleton edge {edge!r} should be two whole joint numbers."), where=where,
                                  edge=edge)
        for v in edge:
            if not 1 <= v <= len(names):
                raise CocoFormatError(N_("{where}: skeleton edge {edge} names joint {joint}, but the category has "
                                         "{count} keypoints, numbered from 1 to {count} as COCO counts them."),
                                      where=where, edge=edge, joint=v, count=len(names))
        edges.append((edge[0] - 1, edge[1] - 1))
    reference = ("left_shoulder", "right_hip") if {"left_shoulder", "right_hip"} <= set(names) else None
    try:
        skeleton = custom_skeleton(names, edges, name=str(cat["name"]), reference=reference,
                                   description=f"Read from a COCO file's category {cat['name']!r}.")
    except ValueError as exc:
        raise CocoFormatError(N_("{where}: {error}"), where=where, error=exc) from None
    return cat, skeleton


def _images(images: list, unknown: dict) -> dict[int, CocoImage]:
    out = {}
    for i, image in enumerate(images):
        where = f"images[{i}]"
        _check_fields(image, "images", where, unknown)
        if not _whole(image["id"]) or image["id"] in out:
            raise CocoFormatError(N_("{where}: 'id' should be a whole number used once; it is {id!r}."), where=where,
                                  id=image["id"])
        if not isinstance(image["file_name"], str) or not image["file_name"]:
            raise CocoFormatError(N_("{where}: 'file_name' should be a file name; it is {file_name!r}."), where=where,
                                  file_name=image["file_name"])
        for name in ("width", "height"):
            if not _whole(image[name]) or image[name] <= 0:
                raise CocoFormatError(N_("{where} ({file_name!r}): '{name}' should be a whole number of pixels "
                                         "above 0; it is {value!r}."), where=where, file_name=image["file_name"],
                                      name=name, value=image[name])
        out[image["id"]] = CocoImage(image["id"], image["file_name"], image["width"], image["height"])
    return out


def _annotation(ann: Mapping, where: str, image: CocoImage, k: int, names) -> KeypointInstance:
    raw = ann["keypoints"]
    if not isinstance(raw, list) or len(raw) != 3 * k:
        count = len(raw) if isinstance(raw, list) else type(raw).__name__
        raise CocoFormatError(N_("{where}: 'keypoints' holds {count} numbers; the category has {k} keypoints, so it "
                                 "should hold {needed} (x, y, v for each)."), where=where, count=count, k=k,
                              needed=3 * k)
    for j in range(k):
        x, y, v = raw[3 * j: 3 * j + 3]
        joint = LazyText(N_("joint {number} ({name!r})"), number=j + 1, name=names[j])
        if not all(_is_number(q) for q in (x, y, v)) or not all(math.isfinite(q) for q in (x, y, v)):
            raise CocoFormatError(N_("{where}: {joint} is [{x}, {y}, {v}]; x, y and v should be finite numbers "
                                     "(no NaN)."), where=where, joint=joint, x=x, y=y, v=v)
        if v not in (0, 1, 2):
            raise CocoFormatError(N_("{where}: {joint} has v = {v}; COCO's v is 0 (not labelled), 1 (hidden) or "
                                     "2 (visible)."), where=where, joint=joint, v=v)
        half = COCO_PIXEL_OFFSET  # a tool that writes continuous pixels may put a point on the far edge
        if v > 0 and not (-half <= x <= image.width + half and -half <= y <= image.height + half):
            raise CocoFormatError(N_("{where}: {joint} is at ({x}, {y}), outside the {width}×{height} picture."),
                                  where=where, joint=joint, x=x, y=y, width=image.width, height=image.height)
    values = np.asarray(raw, dtype=np.float64).reshape(k, 3)
    visibility = values[:, 2].astype(np.uint8)
    if ann["num_keypoints"] != int((visibility > 0).sum()):
        raise CocoFormatError(N_("{where}: 'num_keypoints' is {stated!r} but {count} keypoints have v > 0."),
                              where=where, stated=ann["num_keypoints"], count=int((visibility > 0).sum()))
    box = ann["bbox"]
    if not (isinstance(box, list) and len(box) == 4 and all(_is_number(b) and math.isfinite(b) for b in box)) \
            or box[2] < 0 or box[3] < 0:
        raise CocoFormatError(N_("{where}: 'bbox' should be [x, y, width, height], four finite numbers with a width "
                                 "and height of at least 0; it is {box!r}."), where=where, box=box)
    if not _is_number(ann["area"]) or not math.isfinite(ann["area"]) or ann["area"] < 0:
        raise CocoFormatError(N_("{where}: 'area' should be a finite number of pixels² of at least 0; it is "
                                 "{area!r}."), where=where, area=ann["area"])
    shifted = np.clip(values[:, :2] + COCO_PIXEL_OFFSET, 0, [image.width, image.height])
    points = np.where(visibility[:, None] > 0, shifted, 0.0)
    return KeypointInstance(points=points.astype(np.float32), visibility=visibility,
                            box=(float(box[0]), float(box[1]), float(box[0] + box[2]), float(box[1] + box[3])),
                            area=float(ann["area"]), crowd=bool(ann.get("iscrowd", 0)))


def read_coco_keypoints(annotations, images_folder: str | os.PathLike | None = None, category=None,
                        strict: bool = False, check_images: bool = True) -> CocoKeypoints:
    """Read a COCO keypoint file (and check its pictures) into the lab's structures.

    Args:
        annotations: the JSON file's path, or its already-parsed content (a dict).
        images_folder: the pictures' folder; each image's ``file_name`` must be there and, with
            ``check_images``, have the width and height the file says.
        category: the keypoint category to read (its name or id); needed when there are several.
        strict: refuse fields that COCO does not define instead of listing them in ``warnings``.
        check_images: open each picture's header to compare its size (with ``images_folder``).

    Returns:
        A :class:`CocoKeypoints`.

    Raises:
        CocoFormatError: unreadable JSON, a missing field, a wrong number of keypoints, NaN, a
            point outside its picture, a skeleton edge naming an unknown joint, an annotation of
            an unknown picture, a missing picture, a picture of another size.
    """
    if isinstance(annotations, Mapping):
        data = annotations
    else:
        try:
            data = json.loads(Path(annotations).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise CocoFormatError(N_("The file {file} cannot be read: {error}."), file=annotations,
                                  error=exc) from None
        except json.JSONDecodeError as exc:
            raise CocoFormatError(N_("The file {file} is not valid JSON: {error} at line {line}, column {column}."),
                                  file=annotations, error=exc.msg, line=exc.lineno, column=exc.colno) from None
    if not isinstance(data, Mapping):
        raise CocoFormatError(N_("A COCO file is a JSON object with 'images', 'annotations' and 'categories'."))
    for name in ("images", "annotations", "categories"):
        if not isinstance(data.get(name), list):
            raise CocoFormatError(N_("The file has no {name!r} list; a COCO keypoint file needs 'images', "
                                     "'annotations' and 'categories'."), name=name)
    unknown: dict = {(("top", name)): 1 for name in set(data) - _FIELDS["top"]}
    cat, skeleton = _category(data["categories"], category, unknown)
    images = _images(data["images"], unknown)
    instances: dict[int, list[KeypointInstance]] = {}
    skipped = 0
    for i, ann in enumerate(data["annotations"]):
        _check_fields(ann, "annotations", f"annotations[{i}]", unknown)
        if ann["category_id"] != cat["id"]:
            skipped += 1
            continue
        image = images.get(ann["image_id"])
        if image is None:
            raise CocoFormatError(N_("annotations[{index}] (id {id!r}) belongs to image {image!r}, which 'images' "
                                     "does not list."), index=i, id=ann["id"], image=ann["image_id"])
        where = LazyText(N_("annotations[{index}] (id {id!r}, picture {file_name!r})"), index=i, id=ann["id"],
                         file_name=image.file_name)
        instances.setdefault(image.id, []).append(_annotation(ann, where, image, skeleton.num_joints, skeleton.joints))
    warnings = [LazyText(N_("The file has a field {name!r} that COCO's keypoint format does not define ({count} "
                            "times); it was ignored.") if section == "top" else
                         N_("{section} have a field {name!r} that COCO's keypoint format does not define ({count} "
                            "times); it was ignored."), section=section.capitalize(), name=name, count=count)
                for (section, name), count in sorted(unknown.items())]
    if strict and unknown:
        (section, name), count = min(unknown.items())
        raise CocoFormatError(N_("The file has a field {name!r} that COCO's keypoint format does not define ({count} "
                                 "times).") if section == "top" else
                              N_("{section} have a field {name!r} that COCO's keypoint format does not define "
                                 "({count} times)."), section=section.capitalize(), name=name, count=count)
    if skipped:
        warnings.append(LazyText(N_("{count} annotations of other categories than {name!r} were skipped."),
                                 count=skipped, name=cat["name"]))
    folder = Path(images_folder) if images_folder is not None else None
    if folder is not None:
        _check_pictures(folder, list(images.values()), check_images)
    return CocoKeypoints(skeleton, cat["id"], str(cat["name"]), list(images.values()), instances, warnings, folder)


def _check_pictures(folder: Path, images: list[CocoImage], check_sizes: bool) -> None:
    if not folder.is_dir():
        raise CocoFormatError(N_("The pictures' folder {folder} does not exist."), folder=folder)
    missing = [image.file_name for image in images if not (folder / image.file_name).is_file()]
    if missing:
        raise CocoFormatError(N_("{count} of the {total} pictures the file names are not in {folder}: {names}."),
                              count=len(missing), total=len(images), folder=folder,
                              names=", ".join(missing[:3]) + (" …" if len(missing) > 3 else ""))
    if not check_sizes:
        return
    from PIL import Image, UnidentifiedImageError

    for image in images:
        try:
            with Image.open(folder / image.file_name) as picture:
                size = picture.size
        except (OSError, UnidentifiedImageError):
            raise CocoFormatError(N_("The picture {file} cannot be read as an image."), file=image.file_name) from None
        if size != (image.width, image.height):
            raise CocoFormatError(N_("The picture {file} is {width}×{height} pixels, but the file says "
                                     "{file_width}×{file_height}."), file=image.file_name, width=size[0],
                                  height=size[1], file_width=image.width, file_height=image.height)


def coco_keypoints_dict(items: Iterable, skeleton: Skeleton, category_name: str | None = None,
                        category_id: int = 1) -> dict:
    """The COCO keypoint JSON (as a dict) of some pictures and their keypoint instances.

    Args:
        items: ``(image, instances)`` pairs; ``image`` a :class:`CocoImage` or ``(file_name,
            width, height)`` (numbered from 1 in order).
        skeleton: the instances' skeleton; its edges are written counted from 1, as COCO does.
        category_name: the category's name (default: the skeleton's name).
        category_id: the category's id.

    Raises:
        ValueError: an instance with a wrong number of joints, NaN, or a point outside its picture.
    """
    images, annotations = [], []
    for number, (image, instances) in enumerate(items, start=1):
        if not isinstance(image, CocoImage):
            image = CocoImage(number, *image)
        images.append({"id": image.id, "file_name": image.file_name, "width": image.width, "height": image.height})
        for item in instances:
            points, visibility = check_keypoints(item.points, item.visibility, skeleton.num_joints,
                                                 (image.height, image.width),
                                                 LazyText(N_("a person of {file}"), file=image.file_name))
            values = []
            for (x, y), v in zip(points.astype(np.float64), visibility):
                values += [round(x - COCO_PIXEL_OFFSET, 2), round(y - COCO_PIXEL_OFFSET, 2), int(v)] if v else [0, 0, 0]
            x0, y0, x1, y1 = (float(b) for b in item.box)
            annotations.append({
                "id": len(annotations) + 1, "image_id": image.id, "category_id": category_id, "keypoints": values,
                "num_keypoints": int((visibility > 0).sum()), "bbox": [round(x0, 2), round(y0, 2),
                                                                      round(x1 - x0, 2), round(y1 - y0, 2)],
                "area": round(float(item.area), 2), "iscrowd": int(bool(item.crowd))})
    name = category_name or skeleton.name
    category = {"id": category_id, "name": name, "supercategory": name, "keypoints": list(skeleton.joints),
                "skeleton": [[a + 1, b + 1] for a, b in skeleton.edges]}
    return {"images": images, "annotations": annotations, "categories": [category]}


def write_coco_keypoints(path: str | os.PathLike, items: Iterable, skeleton: Skeleton, **options) -> Path:
    """Write :func:`coco_keypoints_dict` to ``path`` as JSON; returns the path."""
    data = coco_keypoints_dict(items, skeleton, **options)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path
