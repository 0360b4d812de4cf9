"""Your own keypoint data: named datasets of pictures and the points you placed on them.

A user keypoint dataset is a folder of pictures and one COCO keypoint file, so any tool that
reads COCO reads it, under the data root (``./data`` by default; ``$CONVNET_LAB_DATA`` moves it)::

    data/user_keypoints/<name>/
      dataset.json            the skeleton (joints, edges, left/right pairs, sigmas), times
      person_keypoints.json   COCO keypoints: images, annotations, the category and its skeleton
      images/<id>-<hash>.png  the pictures, RGB, named by their number and the start of their SHA-256

:class:`UserKeypointStore` creates, lists and deletes datasets; saves, replaces, loads and deletes
one picture's annotations; imports a folder (or a zip) with a COCO keypoint file someone brings
(a COCO subset, a Label Studio or CVAT export) and exports a dataset as a zip that
``open_dataset("coco_keypoints", folder)`` and pycocotools read. ``open_dataset("userkp:<name>")``
opens one as a :class:`UserKeypointDataset`, which the ``keypoints`` task trains on.
:class:`KeypointAnnotation` is the state of one picture being annotated (place, move, hide, skip,
delete, undo), for the Keypoint studio and for notebooks.

**Saving is atomic.** A picture is written under a new file name (temporary file, then
``os.replace``); the COCO file is then rewritten the same way and is the commit point; a
picture it no longer names is removed last. A crash at any moment leaves the previous COCO file
and every picture it names in place. Writers of one dataset take turns through a lock file.

>>> store = UserKeypointStore()
>>> store.create("my-dogs", custom_skeleton(["nose", "tail"], [("nose", "tail")]))
>>> item = store.save_item("my-dogs", image, [KeypointInstance(points, visibility)])   # -> 1
>>> ds = open_dataset("userkp:my-dogs")             # trains the keypoints task
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import uuid
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image

from cv_core.datasets.base import Dataset, DatasetError, Sample
from cv_core.datasets.user_masks.dataset import split_items
from cv_core.datasets.user_masks.files import (_fsync_dir, _now, _write_temp, check_plain_name, create_dataset_folder,
                                               dataset_lock, dataset_names, default_data_root, unpacked_zip)
from cv_core.i18n import TranslatedError, _
from cv_core.images import ImageInputError, decode_image
from cv_core.keypoints.instance import KeypointInstance, check_keypoints
from cv_core.keypoints.skeletons import Skeleton

__all__ = [
    "ANNOTATIONS_FILE", "KEYPOINTS_PREFIX", "MAX_STORED_SIDE", "KeypointAnnotation", "UserKeypointDataset",
    "UserKeypointStore", "instance_from_points", "parse_skeleton_text",
]

#: ``open_dataset("userkp:<name>")`` opens a user keypoint dataset.
KEYPOINTS_PREFIX = "userkp:"
ANNOTATIONS_FILE = "person_keypoints.json"
DATASET_FILE = "dataset.json"
#: Longest side of a stored picture; larger ones are shrunk once (their points scaled with them).
MAX_STORED_SIDE = 1024
#: A zip to import may unpack to at most this many bytes (a zip bomb is refused before unpacking).
#: The share of an object's point spread added on each side of its box when no box is given.
BOX_MARGIN = 0.1


def instance_from_points(points, visibility, image_size: tuple[int, int], num_joints: int | None = None,
                         what: str | None = None) -> KeypointInstance:
    """One object from placed points, with a box and area made from them.

    The box is the labelled points' bounding box grown by :data:`BOX_MARGIN` of its larger side
    on each side (at least 2 px), clipped to the picture; the area (OKS's scale) is the box's.

    Args:
        points: (K, 2) ``(x, y)`` in continuous pixels.
        visibility: (K,) COCO's 0 (not labelled), 1 (hidden), 2 (visible).
        image_size: the picture's ``(height, width)``.
        num_joints: the skeleton's K, when known.
        what: how messages name the object.

    Raises:
        DatasetError: a wrong number of joints, NaN, a point outside the picture, no point labelled.
    """
    what = _("the object") if what is None else what
    try:
        points, visibility = check_keypoints(points, visibility, num_joints, image_size, what)
    except ValueError as exc:  # a KeypointError: its words, translated when read
        raise DatasetError(*((exc.message, exc.fields) if isinstance(exc, TranslatedError) else (str(exc),))) from None
    labelled = visibility > 0
    if not labelled.any():
        raise DatasetError(_("No point of {what} is placed: place at least one point (visible or hidden) first.").format(
            what=what))
    height, width = image_size
    placed = points[labelled].astype(np.float64)
    x0, y0 = placed.min(axis=0)
    x1, y1 = placed.max(axis=0)
    margin = max(2.0, BOX_MARGIN * max(x1 - x0, y1 - y0))
    box = (max(0.0, x0 - margin), max(0.0, y0 - margin),
           min(float(width), x1 + margin), min(float(height), y1 + margin))
    area = (box[2] - box[0]) * (box[3] - box[1])
    return KeypointInstance(points=points, visibility=visibility, box=tuple(float(round(b, 2)) for b in box),
                            area=float(round(area, 2)))


def _edge_parts(line: str) -> tuple[str, str] | None:
    for separator in (",", "->", " - ", "–", "—", "-", " "):
        parts = [p.strip() for p in line.split(separator)]
        if len(parts) == 2 and all(parts):
            return parts[0], parts[1]
    return None


def parse_skeleton_text(joints_text: str, edges_text: str = "", name: str = "custom") -> Skeleton:
    """A skeleton from typed text: point names one per line, edges one per line as ``a - b`` (or ``a, b``).

    Left/right pairs are found from the names (``left_eye`` with ``right_eye``); sigmas are COCO's
    for COCO's joint names and :data:`~cv_core.keypoints.DEFAULT_SIGMA` for the others.

    Raises:
        ValueError: no point name, a name given twice, an edge line that is not two names, an edge
            naming an unknown joint (the message names it and lists the joints).
    """
    from cv_core.keypoints.skeletons import custom_skeleton

    joints = [line.strip() for line in str(joints_text).splitlines() if line.strip()]
    if not joints:
        raise ValueError(_("Type at least one point name, one per line."))
    edges = []
    for line in str(edges_text).splitlines():
        if not line.strip():
            continue
        parts = _edge_parts(line.strip())
        if parts is None:
            raise ValueError(_("The edge line {line!r} should name two points, like 'nose - tail'.").format(
                line=line.strip()))
        edges.append(parts)
    return custom_skeleton(joints, edges, name=name)


# --------------------------------------------------------------------------------------
# One picture being annotated
# --------------------------------------------------------------------------------------


@dataclass
class KeypointAnnotation:
    """The points of one object on one picture while a person places them.

    A click places the *current* joint (visible, or hidden: labelled but not seen) and moves on
    to the next joint that is neither placed nor marked "not labelled"; selecting a placed joint
    and clicking again moves it. Every change can be undone.

    Attributes:
        skeleton: the joints to place, in order.
        points: (K, 2) float64 ``(x, y)`` in the picture's pixels.
        visibility: (K,) int, COCO's 0 / 1 / 2.
        skipped: (K,) bool, joints marked "not labelled" on purpose (v = 0: not in the picture).
        current: the joint the next click places.
    """

    skeleton: Skeleton
    points: np.ndarray = None
    visibility: np.ndarray = None
    skipped: np.ndarray = None
    current: int = 0
    history: list = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        k = self.skeleton.num_joints
        self.points = np.zeros((k, 2)) if self.points is None else np.asarray(self.points, np.float64).reshape(k, 2)
        self.visibility = np.zeros(k, int) if self.visibility is None else np.asarray(self.visibility, int).reshape(k)
        self.skipped = np.zeros(k, bool) if self.skipped is None else np.asarray(self.skipped, bool).reshape(k)

    @classmethod
    def from_instance(cls, skeleton: Skeleton, instance: KeypointInstance) -> KeypointAnnotation:
        """An annotation holding a saved object's points, to correct them; the first unlabelled joint is next."""
        made = cls(skeleton, np.asarray(instance.points, np.float64), np.asarray(instance.visibility, int))
        made.current = made._next_open(-1) or 0
        return made

    # -- reading ---------------------------------------------------------------------------
    @property
    def done(self) -> np.ndarray:
        """(K,) bool: joints placed or marked "not labelled"."""
        return (self.visibility > 0) | self.skipped

    @property
    def num_placed(self) -> int:
        return int((self.visibility > 0).sum())

    @property
    def complete(self) -> bool:
        """Every joint is placed or marked "not labelled"."""
        return bool(self.done.all())

    @property
    def current_name(self) -> str:
        return self.skeleton.joints[self.current]

    def _next_open(self, after: int) -> int | None:
        k = self.skeleton.num_joints
        for step in range(1, k + 1):
            j = (after + step) % k
            if not self.done[j]:
                return j
        return None

    def instance(self, image_size: tuple[int, int]) -> KeypointInstance:
        """The object as :class:`KeypointInstance` (see :func:`instance_from_points`)."""
        return instance_from_points(self.points, self.visibility, image_size, self.skeleton.num_joints)

    # -- changing --------------------------------------------------------------------------
    def _remember(self) -> None:
        self.history.append((self.points.copy(), self.visibility.copy(), self.skipped.copy(), self.current))

    def _advance(self) -> None:
        following = self._next_open(self.current)
        if following is not None:
            self.current = following

    def select(self, joint: int | str) -> None:
        """Make ``joint`` (index or name) the one the next click places or moves."""
        index = self.skeleton.index(joint) if isinstance(joint, str) else int(joint)
        if not 0 <= index < self.skeleton.num_joints:
            raise ValueError(f"Expected a joint index in [0, {self.skeleton.num_joints}). Received: {joint!r}")
        self.current = index

    def place(self, x: float, y: float, hidden: bool = False) -> None:
        """Put the current joint at ``(x, y)`` (visible, or ``hidden``), then move on if it was new.

        Raises:
            ValueError: a coordinate that is not a finite number.
        """
        if not (np.isfinite(x) and np.isfinite(y)):
            raise ValueError(f"Expected finite coordinates. Received: ({x}, {y})")
        was_placed = self.visibility[self.current] > 0
        self._remember()
        self.points[self.current] = (float(x), float(y))
        self.visibility[self.current] = 1 if hidden else 2
        self.skipped[self.current] = False
        if not was_placed:
            self._advance()

    def toggle_hidden(self) -> None:
        """Switch the current joint between visible (2) and hidden (1); nothing for an unplaced joint."""
        if self.visibility[self.current] == 0:
            return
        self._remember()
        self.visibility[self.current] = 1 if self.visibility[self.current] == 2 else 2

    def skip(self) -> None:
        """Mark the current joint "not labelled" (v = 0: not in the picture) and move on."""
        self._remember()
        self.visibility[self.current] = 0
        self.skipped[self.current] = True
        self._advance()

    def delete(self) -> None:
        """Remove the current joint's point; it waits to be placed again."""
        self._remember()
        self.visibility[self.current] = 0
        self.skipped[self.current] = False

    def clear(self) -> None:
        """Remove every point (undoable)."""
        self._remember()
        self.visibility[:] = 0
        self.skipped[:] = False
        self.current = 0

    def undo(self) -> bool:
        """Go back one change; False when there is nothing to undo."""
        if not self.history:
            return False
        self.points, self.visibility, self.skipped, self.current = self.history.pop()
        return True


# --------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def _check_image(image) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise DatasetError("Expected the picture as an (H, W, 3) uint8 RGB array. Received: "
                           f"{getattr(image, 'shape', type(image).__name__)} {getattr(image, 'dtype', '')}".strip())
    if min(image.shape[:2]) < 8:
        raise DatasetError(_("The picture is {width}×{height} pixels; it needs at least 8 a side.").format(
            width=image.shape[1], height=image.shape[0]))
    return image


def _shrink(image: np.ndarray, instances: list[KeypointInstance]) -> tuple[np.ndarray, list[KeypointInstance]]:
    """A picture longer than :data:`MAX_STORED_SIDE` shrunk once, its objects scaled with it."""
    from cv_core.keypoints.pose import scale_instances

    height, width = image.shape[:2]
    if max(height, width) <= MAX_STORED_SIDE:
        return image, instances
    scale = MAX_STORED_SIDE / max(height, width)
    size = (max(8, round(height * scale)), max(8, round(width * scale)))
    small = np.asarray(Image.fromarray(image).resize((size[1], size[0]), Image.Resampling.LANCZOS))
    scaled = scale_instances(instances, (height, width), size)
    clipped = [replace(item, points=np.clip(item.points, 0, [size[1], size[0]]).astype(np.float32)) for item in scaled]
    return small, clipped


class UserKeypointStore:
    """Named user keypoint datasets in one folder (see the module docstring).

    Args:
        root: the folder that holds the datasets; defaults to ``<data root>/user_keypoints``.
    """

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = default_data_root() / "user_keypoints" if root is None else \
            Path(os.path.expanduser(str(root))).absolute()

    # -- paths, metadata, locks -------------------------------------------------------------
    def _folder(self, name: str) -> Path:
        return self.root / check_plain_name(name)

    def _existing(self, name: str) -> Path:
        folder = self._folder(name)
        if not (folder / DATASET_FILE).is_file():
            raise DatasetError(_("There is no keypoint dataset called {name!r}. Create it first.").format(name=name))
        return folder

    def _write_json(self, folder: Path, file: str, data: dict) -> None:
        tmp = _write_temp(folder, file, json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8"))
        os.replace(tmp, folder / file)
        _fsync_dir(folder)

    def skeleton(self, name: str) -> Skeleton:
        """The dataset's skeleton (with its sigmas and PCK reference, which COCO files do not keep)."""
        folder = self._existing(name)
        try:
            info = json.loads((folder / DATASET_FILE).read_text(encoding="utf-8"))
            return Skeleton.from_dict(info["skeleton"])
        except (OSError, ValueError, KeyError, TypeError):
            raise DatasetError(_("The description of keypoint dataset {name!r} ({file}) is unreadable.").format(
                name=name, file=DATASET_FILE)) from None

    def dataset_info(self, name: str) -> dict:
        """``name``, ``skeleton``, ``pictures`` (how many are annotated), ``objects``, ``created``, ``updated``."""
        folder = self._existing(name)
        skeleton = self.skeleton(name)
        coco = self._coco(folder)
        info = json.loads((folder / DATASET_FILE).read_text(encoding="utf-8"))
        return {"name": name, "skeleton": skeleton, "pictures": len(coco["images"]),
                "objects": len(coco["annotations"]), "created": info.get("created"), "updated": info.get("updated")}

    def version(self, name: str) -> tuple:
        """What changes whenever the dataset's annotations change (for caches' keys)."""
        try:
            stat = os.stat(self._folder(name) / ANNOTATIONS_FILE)
            return (stat.st_mtime_ns, stat.st_size)
        except (OSError, DatasetError):
            return (-1, -1)

    # -- datasets ---------------------------------------------------------------------------
    def create(self, name: str, skeleton: Skeleton) -> Path:
        """Create an empty dataset for ``skeleton``'s joints.

        Raises:
            DatasetError: a bad name, not a :class:`Skeleton`, or the dataset exists; nothing is written.
        """
        check_plain_name(name)
        if not isinstance(skeleton, Skeleton):
            raise DatasetError(f"Expected a Skeleton (see cv_core.keypoints.custom_skeleton). Received: {skeleton!r}")
        self._folder(name)

        def fill(staging: Path) -> None:
            (staging / "images").mkdir()
            now = _now()
            self._write_json(staging, DATASET_FILE, {"format": 1, "name": name, "skeleton": skeleton.to_dict(),
                                                     "created": now, "updated": now})
            self._write_json(staging, ANNOTATIONS_FILE, self._coco_dict([], skeleton))

        return create_dataset_folder(self.root, name, fill, lambda: DatasetError(
            _("A keypoint dataset called {name!r} already exists. Choose another name.").format(name=name)))

    def list_datasets(self) -> list[str]:
        """Names of the datasets in the store, sorted."""
        return dataset_names(self.root)

    def delete_dataset(self, name: str) -> None:
        """Delete a dataset and its pictures (it disappears at once, then is removed)."""
        folder = self._existing(name)
        doomed = self.root / f".deleted-{name}-{uuid.uuid4().hex[:8]}"
        os.rename(folder, doomed)
        shutil.rmtree(doomed, ignore_errors=True)

    # -- the COCO file --------------------------------------------------------------------
    @staticmethod
    def _coco_dict(entries: list[dict], skeleton: Skeleton) -> dict:
        """The COCO file of ``entries`` (``{"id", "file_name", "width", "height", "instances"}``)."""
        from cv_core.keypoints.coco import CocoImage, coco_keypoints_dict

        items = [(CocoImage(e["id"], e["file_name"], e["width"], e["height"]), e["instances"]) for e in entries]
        return coco_keypoints_dict(items, skeleton, category_name=skeleton.name)

    def _coco(self, folder: Path) -> dict:
        try:
            return json.loads((folder / ANNOTATIONS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise DatasetError(_("The annotations of keypoint dataset {name!r} ({file}) are unreadable.").format(
                name=folder.name, file=ANNOTATIONS_FILE)) from None

    def _entries(self, name: str) -> tuple[Path, Skeleton, list[dict]]:
        """The dataset's pictures and their objects, in the file's order, read through the COCO reader."""
        from cv_core.keypoints.coco import CocoFormatError, read_coco_keypoints

        folder = self._existing(name)
        skeleton = self.skeleton(name)
        try:
            data = read_coco_keypoints(self._coco(folder), check_images=False)
        except CocoFormatError as exc:
            raise DatasetError(_("The annotations of keypoint dataset {name!r} are damaged: {error}").format(
                name=name, error=exc)) from None
        if tuple(data.skeleton.joints) != tuple(skeleton.joints):
            raise DatasetError(_("The annotations of keypoint dataset {name!r} name other joints than its "
                                 "skeleton.").format(name=name))
        entries = [{"id": image.id, "file_name": image.file_name, "width": image.width, "height": image.height,
                    "instances": instances} for image, instances in data.items()]
        return folder, skeleton, entries

    def _commit(self, folder: Path, skeleton: Skeleton, entries: list[dict]) -> None:
        """Write the COCO file (the commit point), then remove pictures it no longer names."""
        self._write_json(folder, ANNOTATIONS_FILE, self._coco_dict(entries, skeleton))
        info = json.loads((folder / DATASET_FILE).read_text(encoding="utf-8"))
        info["updated"] = _now()
        self._write_json(folder, DATASET_FILE, info)
        named = {e["file_name"] for e in entries}
        for path in (folder / "images").iterdir():
            if path.name not in named:
                with contextlib.suppress(OSError):
                    path.unlink()

    # -- items ----------------------------------------------------------------------------
    def list_items(self, name: str) -> list[int]:
        """The numbers of the annotated pictures, in the order they were first saved."""
        return [e["id"] for e in self._entries(name)[2]]

    def load_item(self, name: str, item: int) -> tuple[np.ndarray, list[KeypointInstance]]:
        """Picture ``item`` (``(H, W, 3)`` uint8) and its objects.

        Raises:
            DatasetError: no such dataset or picture, or its file cannot be read.
        """
        folder, _skeleton, entries = self._entries(name)
        entry = next((e for e in entries if e["id"] == item), None)
        if entry is None:
            raise DatasetError(_("Keypoint dataset {name!r} has no picture number {item!r}.").format(name=name,
                                                                                                    item=item))
        try:
            image = decode_image((folder / "images" / entry["file_name"]).read_bytes())
        except (OSError, ImageInputError) as exc:
            raise DatasetError(_("Picture {item} of keypoint dataset {name!r} cannot be read: {error}").format(
                item=item, name=name, error=exc)) from None
        return image, list(entry["instances"])

    def _prepare(self, image, instances, skeleton: Skeleton, what: str) -> tuple[np.ndarray, list[KeypointInstance]]:
        image = _check_image(image)
        if isinstance(instances, KeypointInstance):
            instances = [instances]
        instances = list(instances or [])
        if not instances:
            raise DatasetError(_("There is nothing to save for {what}: place at least one point first.").format(
                what=what))
        checked = []
        height, width = image.shape[:2]
        for number, item in enumerate(instances, start=1):
            label = f"object {number} of {what}"
            made = instance_from_points(getattr(item, "points", None), getattr(item, "visibility", None),
                                        (height, width), skeleton.num_joints, label)
            if any(item.box) and item.area > 0:  # a box and area given with it (an import) are kept
                made = replace(made, box=tuple(float(b) for b in item.box), area=float(item.area))
            checked.append(replace(made, crowd=bool(getattr(item, "crowd", False))))
        return _shrink(image, checked)

    def _write_picture(self, folder: Path, number: int, image: np.ndarray) -> str:
        data = _png(image)
        file_name = f"{number:04d}-{_sha(data)[:12]}.png"
        target = folder / "images" / file_name
        if not target.is_file():
            tmp = _write_temp(folder / "images", file_name, data)
            os.replace(tmp, target)
        return file_name

    def save_item(self, name: str, image: np.ndarray, instances, item: int | None = None) -> int:
        """Save a picture and its objects as a new item, or replace item ``item``'s.

        Args:
            name: the dataset.
            image: (H, W, 3) uint8 RGB; shrunk to :data:`MAX_STORED_SIDE` on its long side if larger
                (its points with it).
            instances: one :class:`KeypointInstance` per object (or one), in the dataset's joint
                order; a box and area of zero are made from the points (:func:`instance_from_points`).
            item: the number of the picture to replace; None adds a new one.

        Returns:
            The item's number.

        Raises:
            DatasetError: no object, an object with no point placed, a wrong number of joints, NaN,
                a point outside the picture, a bad picture, an unknown item. Nothing is written then.
        """
        folder = self._existing(name)
        with dataset_lock(folder):
            folder, skeleton, entries = self._entries(name)
            image, checked = self._prepare(image, instances, skeleton, _("this picture"))
            if item is None:
                number = max((e["id"] for e in entries), default=0) + 1
            else:
                number = item
                if not any(e["id"] == item for e in entries):
                    raise DatasetError(_("Keypoint dataset {name!r} has no picture number {item!r} to replace.").format(
                        name=name, item=item))
            entry = {"id": number, "file_name": self._write_picture(folder, number, image),
                     "width": int(image.shape[1]), "height": int(image.shape[0]), "instances": checked}
            entries = [entry if e["id"] == number else e for e in entries]
            if item is None:
                entries.append(entry)
            self._commit(folder, skeleton, entries)
        return number

    def delete_item(self, name: str, item: int) -> None:
        """Remove picture ``item`` and its objects."""
        folder = self._existing(name)
        with dataset_lock(folder):
            folder, skeleton, entries = self._entries(name)
            if not any(e["id"] == item for e in entries):
                raise DatasetError(_("Keypoint dataset {name!r} has no picture number {item!r}.").format(name=name,
                                                                                                        item=item))
            self._commit(folder, skeleton, [e for e in entries if e["id"] != item])

    # -- import and export ----------------------------------------------------------------
    def import_coco(self, name: str, annotations, images_folder: str | os.PathLike,
                    category=None) -> tuple[int, list[str]]:
        """Add the pictures of a COCO keypoint file (a COCO subset, a Label Studio or CVAT export).

        A new dataset ``name`` takes the file's skeleton; an existing one must have the same joints.
        Pictures are decoded safely and stored as PNG (shrunk past :data:`MAX_STORED_SIDE`); those
        without any object with a labelled point are left out, and said so.

        Args:
            name: the dataset to add to (created when it does not exist).
            annotations: the JSON file or its parsed content.
            images_folder: the folder of the pictures the file names.
            category: the keypoint category to read when the file has several.

        Returns:
            How many pictures were added, and the reader's warnings plus what was left out.

        Raises:
            DatasetError: the file's problem (see :func:`~cv_core.keypoints.read_coco_keypoints`), other
                joints than the dataset's, a picture that cannot be decoded. Nothing is added then.
        """
        from cv_core.keypoints.coco import CocoFormatError, read_coco_keypoints
        from cv_core.keypoints.pose import scale_instances

        check_plain_name(name)
        try:
            data = read_coco_keypoints(annotations, images_folder=images_folder, category=category)
        except CocoFormatError as exc:
            raise DatasetError(exc.message, exc.fields) from None  # (its words, translated when read)
        if name in self.list_datasets():
            skeleton = self.skeleton(name)
            if tuple(skeleton.joints) != tuple(data.skeleton.joints):
                raise DatasetError(_("The file's joints ({joints}) are not those of dataset {name!r} ({theirs}): "
                                     "import it into a new dataset.").format(
                    joints=", ".join(data.skeleton.joints), name=name, theirs=", ".join(skeleton.joints)))
        else:
            skeleton = data.skeleton
        warnings = list(data.warnings)
        prepared = []
        for image_info, instances in data.items():
            labelled = [item for item in instances if item.num_labelled > 0 and not item.crowd]
            if not labelled:
                warnings.append(_("The picture {file} has no object with a labelled point; it was left out.").format(
                    file=image_info.file_name))
                continue
            try:
                image = decode_image((Path(images_folder) / image_info.file_name).read_bytes())
            except (OSError, ImageInputError) as exc:
                raise DatasetError(_("The picture {file} cannot be used: {error}").format(file=image_info.file_name,
                                                                                          error=exc)) from None
            if image.shape[:2] != (image_info.height, image_info.width):
                labelled = scale_instances(labelled, (image_info.height, image_info.width), image.shape[:2])
            prepared.append(self._prepare(image, labelled, skeleton,
                                          _("the picture {file}").format(file=image_info.file_name)))
        if name not in self.list_datasets():
            self.create(name, skeleton)
        folder = self._existing(name)
        with dataset_lock(folder):
            folder, skeleton, entries = self._entries(name)
            number = max((e["id"] for e in entries), default=0)
            for image, instances in prepared:
                number += 1
                entries.append({"id": number, "file_name": self._write_picture(folder, number, image),
                                "width": int(image.shape[1]), "height": int(image.shape[0]), "instances": instances})
            self._commit(folder, skeleton, entries)
        return len(prepared), warnings

    def import_zip(self, name: str, data: bytes) -> tuple[int, list[str]]:
        """Import a zip holding pictures and one COCO keypoint ``*.json`` (see :meth:`import_coco`).

        The JSON's ``file_name`` entries are read relative to the JSON's folder, or to an ``images/``
        folder beside it or above it (the layout :meth:`export_zip` writes).

        Raises:
            DatasetError: not a zip, unsafe member names, too large once unpacked, no or several JSON
                files, and everything :meth:`import_coco` refuses.
        """
        with unpacked_zip(data, "kp-import-") as tmp:
            found = sorted(Path(tmp).rglob("*.json"))
            if len(found) != 1:
                raise DatasetError(_("Expected one COCO keypoint file (*.json) in the zip; found {count}.").format(
                    count=len(found)))
            annotations = found[0]
            try:
                names = [i.get("file_name", "") for i in json.loads(annotations.read_text("utf-8")).get("images", [])]
            except (ValueError, AttributeError, UnicodeDecodeError):
                names = []
            candidates = [annotations.parent, annotations.parent / "images", annotations.parent.parent / "images"]
            folder = next((c for c in candidates if names and all((c / n).is_file() for n in names if n)),
                          annotations.parent)
            return self.import_coco(name, annotations, folder)

    def export_zip(self, name: str) -> bytes:
        """The dataset as a zip: ``<name>/images/*.png`` and ``<name>/annotations/person_keypoints_<name>.json``.

        Unzipped, the folder opens with ``open_dataset("coco_keypoints", "<name>")`` and in pycocotools.
        """
        folder = self._existing(name)
        with dataset_lock(folder):
            coco = self._coco(folder)
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(f"{name}/annotations/person_keypoints_{name}.json", json.dumps(coco, indent=1))
                for image in coco["images"]:
                    archive.write(folder / "images" / image["file_name"], f"{name}/images/{image['file_name']}")
        return buffer.getvalue()


# --------------------------------------------------------------------------------------
# The dataset the keypoints task trains on
# --------------------------------------------------------------------------------------


class UserKeypointDataset(Dataset):
    """A user keypoint dataset, as opened by ``open_dataset("userkp:<name>")``.

    Samples carry ``keypoints`` in the dataset's ``skeleton``, one box per object, and the label 0
    (one class, named after the skeleton). Splits are :func:`~cv_core.datasets.user_masks.split_items`'s
    70 / 15 / 15 by a seeded hash of each picture's number: saving more pictures never moves one
    into another split, and from two pictures on at least one validates.

    Args:
        name: the dataset's name in the store (without ``userkp:``).
        root: the store's folder (see :class:`UserKeypointStore`); None for the default.
        seed: the split seed.

    Raises:
        DatasetError: a bad name, no such dataset, or no annotated picture yet.
    """

    has_keypoints = True
    has_boxes = True
    has_masks = False

    def __init__(self, name: str, root: str | os.PathLike | None = None, seed: int = 1337) -> None:
        super().__init__()
        self.store = UserKeypointStore(root)
        folder, skeleton, entries = self.store._entries(name)
        if not entries:
            raise DatasetError(_("The keypoint dataset {name!r} has no annotated picture yet. Place points on at "
                                 "least one picture and save it first.").format(name=name))
        self.folder = folder
        self.dataset_name = name
        self.name = KEYPOINTS_PREFIX + name
        self.skeleton = skeleton
        self.class_names = [skeleton.name]
        self.default_image_size = (128, 128)
        self.entries = {f"{e['id']:04d}": e for e in entries}
        self.items = split_items(list(self.entries), seed)
        self.description = (f"Your keypoints in {name!r}: {len(entries)} pictures, {skeleton.num_joints} joints "
                            f"({', '.join(skeleton.joints)}).")

    def _count(self, split: str) -> int:
        return len(self.items[split])

    def _labels(self, split: str) -> np.ndarray:
        return np.zeros(self._count(split), dtype=np.int64)

    def _source(self, split: str, index: int) -> str:
        return self.entries[self.items[split][index]]["file_name"]

    def _load(self, split: str, index: int) -> Sample:
        entry = self.entries[self.items[split][index]]
        path = self.folder / "images" / entry["file_name"]
        try:
            image = decode_image(path.read_bytes())
        except OSError as exc:
            raise ImageInputError(f"Could not read {path.name}: {exc.strerror or exc}.") from None
        instances = list(entry["instances"])
        boxes = [(0, int(np.floor(i.box[0])), int(np.floor(i.box[1])), int(np.ceil(i.box[2])), int(np.ceil(i.box[3])))
                 for i in instances]
        return Sample(image=image, label=0, boxes=boxes, source=path.name, keypoints=instances)
