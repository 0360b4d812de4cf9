"""COCO instance files in and out of user mask datasets: bring a real annotated set, take yours out.

**In** (:meth:`CocoMixin.import_coco`, :meth:`CocoMixin.import_zip`): a COCO instance file
(``images``, ``categories``, ``annotations`` with ``segmentation`` as polygons or RLE,
``iscrowd`` 0) and the pictures it names become items of a user mask dataset: each picture with
its class mask (the category of each object's pixels, in the dataset's classes) and its instance
map (one id per annotation). A new dataset takes the file's categories (``background`` first);
an existing one must have every category among its classes (matched by name). Everything is
checked before anything is written, so a refused import writes nothing:

- the file itself (:func:`cv_core.instances.read_coco_instances`): RLE of another size than its
  picture, a polygon with fewer than three points, an object with no pixels, a missing field,
  an unknown picture or category, a crowd, bad JSON: the whole file is refused, the message
  names the annotation;
- a picture that is missing, cannot be decoded, or whose size differs from the size the file
  gives it (its masks would not fit): refused, named;
- objects of one picture that overlap: refused, naming the annotations and the shared pixels,
  unless ``overlap="later_in_front"`` (the later annotation takes the shared pixels; the report
  lists who lost pixels).

With ``skip_bad=True`` the pictures that can be imported are, and the others are listed in the
report (the file's own problems still refuse it all).

**Out** (:meth:`CocoMixin.export_coco`, :meth:`CocoMixin.export_zip`): every item's objects as
COCO annotations (RLE: exact; or polygon outlines), category id = class index. Items saved
without an instance map give one object per connected region of each class (as the dataset's
boxes). The zip holds ``<name>/annotations/instances_<name>.json`` and ``<name>/images/<id>.png``
and imports back bit-exact.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from cv_core.datasets.base import DatasetError
from cv_core.datasets.user_masks.files import (MAX_IMPORT_BYTES, MAX_NAME_LENGTH, _PLAIN_NAME, check_plain_name,
                                               dataset_lock, unpacked_zip)
from cv_core.images import ImageInputError, decode_image
from cv_core.i18n import N_

#: A zip that unpacks to more than this is refused.

__all__ = ["MAX_IMPORT_BYTES", "CocoImportReport", "CocoMixin"]


@dataclass
class CocoImportReport:
    """What an import did.

    Attributes:
        dataset: the dataset the pictures went into.
        created: whether the import created it.
        items: ``(file name in the COCO file, item id)`` of each picture saved.
        objects: how many objects (instances) were saved in all.
        skipped: one sentence per picture left out (``skip_bad=True``), saying why.
        overlaps: one sentence per picture whose overlapping objects were resolved (later in front).
        shrunk: file names of pictures stored smaller (long side over the store's limit).
    """

    dataset: str
    created: bool = False
    items: list[tuple[str, str]] = field(default_factory=list)
    objects: int = 0
    skipped: list[str] = field(default_factory=list)
    overlaps: list[str] = field(default_factory=list)
    shrunk: list[str] = field(default_factory=list)


def _item_id(file_name: str, taken: set[str]) -> str:
    """A plain, unused item id from a picture's file name (``dog 1.jpg`` -> ``dog_1``)."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", PurePosixPath(file_name).stem).strip("_-")[:MAX_NAME_LENGTH - 6]
    stem = stem if stem and _PLAIN_NAME.fullmatch(stem) else "item"
    candidate, n = stem, 1
    while candidate in taken:
        n += 1
        candidate = f"{stem}-{n}"
    taken.add(candidate)
    return candidate


def _find_picture(folder: Path, file_name: str) -> Path | None:
    """The picture a COCO ``file_name`` names: under ``folder`` as given, else by its base name."""
    relative = PurePosixPath(str(file_name).replace("\\", "/"))
    if relative.is_absolute() or ".." in relative.parts:
        return None
    for candidate in (folder / Path(*relative.parts), folder / "images" / Path(*relative.parts),
                      folder / relative.name, folder / "images" / relative.name):
        if candidate.is_file():
            return candidate
    return None


class CocoMixin:
    """COCO import and export for :class:`~cv_core.datasets.UserMaskStore` (see the module docstring)."""

    def import_coco(self, name: str, annotations, images_folder: str | os.PathLike, overlap: str = "refuse",
                    skip_bad: bool = False) -> CocoImportReport:
        """Add the pictures of a COCO instance file, with class masks and instance maps.

        Args:
            name: the dataset (created, with the file's categories, when it does not exist).
            annotations: the ``.json`` path, its bytes, or its parsed content.
            images_folder: where the pictures are (``file_name`` relative to it, or to its
                ``images/``; else found by base name).
            overlap: ``"refuse"`` or ``"later_in_front"``.
            skip_bad: import the pictures that can be and list the others, instead of refusing all.

        Returns:
            A :class:`CocoImportReport`.

        Raises:
            DatasetError: a bad dataset name; the file's problems
                (:class:`~cv_core.instances.coco.CocoFormatError`, a DatasetError); categories the
                existing dataset lacks; without ``skip_bad``, the first picture that cannot be used
                (missing, undecodable, another size than the file says, overlapping objects);
                a file with no usable picture. Nothing is written then.
            OSError: the disk refused while saving (items saved before stay, each whole).
        """
        from cv_core.instances.coco import CocoOverlapError, read_coco_instances
        from cv_core.mask_drawing import prepare_for_storage, resize_labels

        check_plain_name(name)
        if overlap not in ("refuse", "later_in_front"):
            raise DatasetError(N_("Expected `overlap` to be 'refuse' or 'later_in_front'. Received: overlap={overlap}"), overlap=repr(overlap))
        if isinstance(annotations, (bytes, bytearray)):
            try:
                annotations = json.loads(bytes(annotations).decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise DatasetError(N_("The COCO file could not be read as JSON: {exc}"), exc=exc) from None
        data = read_coco_instances(annotations)
        exists = name in self.list_datasets()
        if exists:
            info = self.dataset_info(name)
            names, background = info["class_names"], info["background"]
            by_name = {n.strip().casefold(): i for i, n in enumerate(names) if i != background}
            missing = [n for n in data.class_names[1:] if n.strip().casefold() not in by_name]
            if missing:
                raise DatasetError(
                    N_("The file's categories {items} are not classes of the dataset {name} ({items2}): import "
                       "it into a new dataset, or add these classes."), items=', '.join(repr(m) for m in missing), name=repr(name), items2=', '.join(names))
            table = np.array([background, *(by_name[n.strip().casefold()] for n in data.class_names[1:])], np.uint8)
            taken = set(self.list_items(name))
        else:
            names, background = list(data.class_names), 0
            table = np.arange(len(names), dtype=np.uint8)
            taken = set()
        report = CocoImportReport(dataset=name, created=not exists)
        folder = Path(images_folder)
        prepared = []
        for image in data.images:
            try:
                path = _find_picture(folder, image.file_name)
                if path is None:
                    raise DatasetError(N_("The picture {file_name} is not among the pictures given."), file_name=repr(image.file_name))
                try:
                    picture = decode_image(path.read_bytes())
                except (OSError, ImageInputError) as exc:
                    raise DatasetError(N_("The picture {file_name} cannot be used: {exc}"), file_name=repr(image.file_name), exc=exc) from None
                if picture.shape[:2] != (image.height, image.width):
                    raise DatasetError(
                        N_("The picture {file_name} is {shape} × {shape2} pixels but the COCO file says {width} × "
                           "{height}: its masks would not fit. Give the picture the file describes, or correct its "
                           "width and height."), file_name=repr(image.file_name), shape=picture.shape[1], shape2=picture.shape[0], width=image.width, height=image.height)
                try:
                    classes, instances, lost = data.instance_map(image.id, overlap=overlap)
                except CocoOverlapError as exc:
                    raise DatasetError(exc.message, exc.fields) from None  # (its words, translated when read)
            except DatasetError as exc:
                if not skip_bad:
                    raise
                report.skipped.append(str(exc))
                continue
            if lost:
                report.overlaps.append(
                    f"In {image.file_name!r}, annotation(s) {lost} gave their shared pixels to later annotations.")
            stored, classes = prepare_for_storage(picture, table[classes])
            if stored.shape[:2] != picture.shape[:2]:
                instances = resize_labels(instances, stored.shape[:2])
                report.shrunk.append(image.file_name)
            prepared.append((image.file_name, stored, classes, instances))
        if not prepared:
            raise DatasetError("None of the file's pictures could be imported. " + " ".join(report.skipped[:3]))
        if not exists:
            self.create(name, names, background=background)
        for file_name, stored, classes, instances in prepared:
            item = _item_id(file_name, taken)
            self.save_mask(name, stored, classes, item_id=item, instances=instances if instances.any() else None)
            report.items.append((file_name, item))
            report.objects += len(np.unique(instances[instances > 0]))
        return report

    def import_zip(self, name: str, data: bytes, overlap: str = "refuse", skip_bad: bool = False) -> CocoImportReport:
        """Import a zip holding pictures and one COCO instance ``*.json`` (see :meth:`import_coco`).

        The JSON's ``file_name`` entries are read relative to the JSON's folder, an ``images/``
        folder beside it or above it (the layout :meth:`export_zip` writes), or by base name.

        Raises:
            DatasetError: not a zip, unsafe member names, too large once unpacked, no or several
                JSON files, and everything :meth:`import_coco` refuses.
        """
        check_plain_name(name)
        with unpacked_zip(data, "mask-import-") as tmp:
            found = sorted(Path(tmp).rglob("*.json"))
            if len(found) != 1:
                raise DatasetError(N_("Expected one COCO instance file (*.json) in the zip; found {n}."), n=len(found))
            annotations = found[0]
            candidates = [annotations.parent, annotations.parent.parent]
            folder = next((c for c in candidates if (c / "images").is_dir()), annotations.parent)
            return self.import_coco(name, annotations, folder, overlap=overlap, skip_bad=skip_bad)

    def export_coco(self, name: str, encoding: str = "rle") -> dict:
        """The dataset as a COCO instance file (a dict): ``file_name`` ``<id>.png``, one annotation per object.

        Args:
            name: the dataset.
            encoding: ``"rle"`` (exact) or ``"polygon"`` (outlines; holes and some border pixels lost).

        Raises:
            DatasetError: no such dataset; an item that cannot be read (named).
        """
        from cv_core.instances.coco import coco_instances_dict
        from cv_core.instances.data import instance_list, instances_from_maps
        from cv_core.segmentation import mask_to_objects

        info = self.dataset_info(name)
        background = info["background"]
        items = []
        for item in self.list_items(name):
            try:
                image, mask = self.load_item(name, item)
                found = self.load_instances(name, item)
                if found is not None:
                    checked = instances_from_maps(mask, found, image.shape, background=background,
                                                  source=f"instances/{item}.png")
                    objects = instance_list(checked.instances, checked.boxes)
                else:
                    objects = [{"mask": o["mask"], "class": o["class_index"]}
                               for o in mask_to_objects(mask, background=background, min_area=1)]
            except (DatasetError, ImageInputError) as exc:
                raise DatasetError(N_("Item {item} of {name} cannot be exported: {exc}"), item=repr(item), name=repr(name), exc=exc) from None
            items.append((f"{item}.png", objects, image.shape[:2]))
        return coco_instances_dict(items, info["class_names"], encoding=encoding, background=background)

    def export_zip(self, name: str, encoding: str = "rle") -> bytes:
        """The dataset as a zip: ``<name>/annotations/instances_<name>.json`` and ``<name>/images/<id>.png``.

        Imports back with :meth:`import_zip`; pycocotools reads the JSON as it is.
        """
        folder = self._existing(name)
        with dataset_lock(folder):
            coco = self.export_coco(name, encoding=encoding)
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(f"{name}/annotations/instances_{name}.json", json.dumps(coco))
                for image in coco["images"]:
                    archive.write(folder / "images" / image["file_name"], f"{name}/images/{image['file_name']}")
        return buffer.getvalue()
