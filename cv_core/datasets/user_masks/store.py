"""The store of user mask datasets: create, list and delete datasets; save, load and delete items."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import uuid
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from cv_core.datasets.base import DatasetError
from cv_core.datasets.user_masks.coco import CocoMixin
from cv_core.datasets.user_masks.drafts import DraftsMixin
from cv_core.datasets.user_masks.files import (DATASET_FILE, IMAGE_HASH_KEY, INSTANCES_DIR, MASK_HASH_KEY,
                                               MAX_CLASSES, MAX_NAME_LENGTH, _PLAIN_NAME, _fsync_dir,
                                               _mask_image_hash, _now, _png_text, _read, _sha256, _write_temp,
                                               check_plain_name, create_dataset_folder, dataset_lock, dataset_names,
                                               default_data_root)
from cv_core.images import MAX_SIDE, MIN_SIDE, decode_image, decode_label_map
from cv_core.i18n import N_


def _instance_png(instance_map: np.ndarray, mask_bytes: bytes) -> bytes:
    """An instance map as a single-channel PNG (8-bit up to 255 ids, else 16-bit) that records
    the SHA-256 of the mask file it belongs to."""
    text = PngImagePlugin.PngInfo()
    text.add_text(MASK_HASH_KEY, _sha256(mask_bytes))
    ids = np.asarray(instance_map)
    picture = Image.fromarray(ids.astype(np.uint8)) if int(ids.max(initial=0)) <= 255 \
        else Image.fromarray(ids.astype(np.uint16))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", pnginfo=text)
    return buffer.getvalue()


def _instance_mask_hash(data: bytes) -> str | None:
    """The mask hash an instance map PNG records, or None."""
    return _png_text(data, MASK_HASH_KEY)


class UserMaskStore(CocoMixin, DraftsMixin):
    """Named user mask datasets in one folder (see the module docstring).

    Args:
        root: the folder that holds the datasets; defaults to ``<data root>/user_masks``
            (``$CONVNET_LAB_DATA/user_masks``, else ``./data/user_masks``).
    """

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        if root is None:
            self.root = default_data_root() / "user_masks"
        else:
            self.root = Path(os.path.expanduser(str(root))).absolute()

    # -- paths and metadata ---------------------------------------------------------------
    def _folder(self, name: str) -> Path:
        return self.root / check_plain_name(name)

    def _existing(self, name: str) -> Path:
        folder = self._folder(name)
        if not (folder / DATASET_FILE).is_file():
            raise DatasetError(N_("There is no user dataset called {name}. Create it first."), name=repr(name))
        return folder

    def dataset_info(self, name: str) -> dict:
        """The dataset's metadata: ``name``, ``class_names``, ``background``, ``created``,
        ``updated`` and ``items`` (how many saved masks).

        Raises:
            DatasetError: not a plain name, no such dataset, unreadable ``dataset.json``.
        """
        folder = self._existing(name)
        try:
            info = json.loads((folder / DATASET_FILE).read_text(encoding="utf-8"))
            class_names = [str(c) for c in info["class_names"]]
            background = int(info.get("background", 0))
        except (OSError, ValueError, KeyError, TypeError):
            raise DatasetError(N_("The description of user dataset {name} ({DATASET_FILE}) is unreadable."), name=repr(name), DATASET_FILE=DATASET_FILE) from None
        if not 2 <= len(class_names) <= MAX_CLASSES or not 0 <= background < len(class_names):
            raise DatasetError(N_("The description of user dataset {name} ({DATASET_FILE}) is invalid."), name=repr(name), DATASET_FILE=DATASET_FILE)
        return {
            "name": name,
            "class_names": class_names,
            "background": background,
            "created": info.get("created"),
            "updated": info.get("updated"),
            "items": len(self.list_items(name)),
        }

    def _write_info(self, folder: Path, info: dict) -> None:
        tmp = _write_temp(folder, DATASET_FILE, json.dumps(info, indent=1, ensure_ascii=False).encode("utf-8"))
        os.replace(tmp, folder / DATASET_FILE)

    # -- datasets -------------------------------------------------------------------------
    def create(self, name: str, class_names, background: int = 0) -> Path:
        """Create an empty dataset.

        Args:
            name: a plain name (see the module docstring).
            class_names: the names of mask values 0, 1, ...: 2 to 256 distinct, non-empty
                names of at most 64 characters, e.g. ``["background", "cat", "dog"]``.
            background: the value that means "no object" (not coloured, no boxes).

        Returns:
            The dataset's folder.

        Raises:
            DatasetError: a bad name, class names or background, or the dataset exists.
                Nothing is written then.
        """
        check_plain_name(name)
        if isinstance(class_names, str) or not isinstance(class_names, (list, tuple)):
            raise DatasetError(N_("Expected a list of class names. Received: {class_names}"), class_names=repr(class_names))
        names = [c.strip() if isinstance(c, str) else c for c in class_names]
        if not all(isinstance(c, str) and 0 < len(c) <= MAX_NAME_LENGTH and c.isprintable() for c in names):
            raise DatasetError(
                N_("Expected class names that are non-empty printable text of at most {MAX_NAME_LENGTH} "
                   "characters. Received: {class_names}"), MAX_NAME_LENGTH=MAX_NAME_LENGTH, class_names=repr(class_names)
            )
        if not 2 <= len(names) <= MAX_CLASSES:
            raise DatasetError(
                N_("Expected 2 to {MAX_CLASSES} classes (the background counts as one). Received: {n}"), MAX_CLASSES=MAX_CLASSES, n=len(names)
            )
        if len(set(names)) != len(names):
            raise DatasetError(N_("Expected distinct class names. Received: {names}"), names=repr(names))
        if isinstance(background, bool) or not isinstance(background, (int, np.integer)) or not 0 <= background < len(names):
            raise DatasetError(
                N_("Expected `background` to be a class index in [0, {n}). Received: background={background}"), n=len(names), background=repr(background)
            )
        self._folder(name)

        def fill(staging: Path) -> None:
            (staging / "images").mkdir()
            (staging / "masks").mkdir()
            now = _now()
            self._write_info(staging, {
                "format": 1, "name": name, "class_names": names, "background": int(background),
                "created": now, "updated": now,
            })

        return create_dataset_folder(self.root, name, fill, lambda: DatasetError(
            N_("A user dataset called {name} already exists. Choose another name."), name=repr(name)))

    def list_datasets(self) -> list[str]:
        """Names of the datasets in the store, sorted."""
        return dataset_names(self.root)

    def delete_dataset(self, name: str) -> None:
        """Delete a dataset and every mask in it (it disappears at once, then is removed).

        Raises:
            DatasetError: not a plain name, or no such dataset.
        """
        folder = self._existing(name)
        doomed = self.root / f".deleted-{name}-{uuid.uuid4().hex[:8]}"
        os.rename(folder, doomed)
        shutil.rmtree(doomed, ignore_errors=True)

    # -- items ----------------------------------------------------------------------------
    def list_items(self, name: str) -> list[str]:
        """Ids of the saved items (an image and its mask), sorted.

        Raises:
            DatasetError: not a plain name, or no such dataset.
        """
        folder = self._existing(name)
        masks = {p.stem for p in (folder / "masks").glob("*.png") if _PLAIN_NAME.fullmatch(p.stem)}
        images = {p.stem for p in (folder / "images").glob("*.png") if _PLAIN_NAME.fullmatch(p.stem)}
        return sorted(masks & images)

    def _check_pair(self, info: dict, image, mask) -> tuple[np.ndarray, np.ndarray]:
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise DatasetError(
                "Expected the image as an (H, W, 3) uint8 RGB array. Received: "
                + (f"shape {image.shape}, {image.dtype}" if isinstance(image, np.ndarray) else type(image).__name__)
            )
        height, width = image.shape[:2]
        if min(height, width) < MIN_SIDE or max(height, width) > MAX_SIDE:
            raise DatasetError(
                N_("The image is {width} x {height} pixels. Expected sides between {MIN_SIDE} and "
                   "{MAX_SIDE} pixels."), width=width, height=height, MIN_SIDE=MIN_SIDE, MAX_SIDE=MAX_SIDE
            )
        if (
            not isinstance(mask, np.ndarray)
            or mask.ndim != 2
            or not np.issubdtype(mask.dtype, np.integer)
        ):
            raise DatasetError(
                "Expected the mask as a 2-D (H, W) array of integer class indices. Received: "
                + (f"shape {mask.shape}, {mask.dtype}" if isinstance(mask, np.ndarray) else type(mask).__name__)
            )
        if mask.shape != (height, width):
            raise DatasetError(
                N_("The mask is {shape} x {shape2} pixels but the image is {width} x {height}: they must be "
                   "the same size."), shape=mask.shape[1], shape2=mask.shape[0], width=width, height=height
            )
        classes = len(info["class_names"])
        low, high = int(mask.min()), int(mask.max())
        if low < 0 or high >= classes:
            bad = low if low < 0 else high
            raise DatasetError(
                N_("The mask has the value {bad} but the dataset {name} has {classes} classes (values 0 to "
                   "{value})."), bad=bad, name=repr(info['name']), classes=classes, value=classes - 1
            )
        return image, mask.astype(np.uint8)

    def _next_id(self, folder: Path) -> str:
        numbers = [
            int(p.stem) for sub in ("images", "masks") for p in (folder / sub).glob("*.png") if p.stem.isdigit()
        ]
        return f"{max(numbers, default=0) + 1:04d}"

    def _tidy(self, folder: Path, item_id: str) -> None:
        """Finish or undo an interrupted save of ``item_id`` (called under the lock).

        A hidden previous image means a save replaced the image; the save committed only
        if the mask now records the hash of the current image. Otherwise the previous
        image goes back, matching the mask that is still there.
        """
        image_path = folder / "images" / f"{item_id}.png"
        prev_path = folder / "images" / f".{item_id}.prev.png"
        for sub in ("images", "masks", INSTANCES_DIR):
            for stale in (folder / sub).glob(f".{item_id}.png.*.tmp"):
                with contextlib.suppress(OSError):
                    stale.unlink()
        mask_bytes = _read(folder / "masks" / f"{item_id}.png")
        if mask_bytes is not None:
            self._finish_instances(folder, item_id, mask_bytes)
        if not prev_path.exists():
            return
        mask = _read(folder / "masks" / f"{item_id}.png")
        wanted = _mask_image_hash(mask) if mask is not None else None
        current = _read(image_path)
        if wanted is not None and current is not None and _sha256(current) == wanted:
            with contextlib.suppress(OSError):
                prev_path.unlink()  # committed: the previous image is no longer needed
        else:
            os.replace(prev_path, image_path)  # never committed: roll back

    def save_mask(self, name: str, image: np.ndarray, mask: np.ndarray, item_id: str | None = None,
                  instances: np.ndarray | None = None) -> str:
        """Save an image and its mask (and its instance map) as one item, atomically (see the
        module docstring).

        Args:
            name: the dataset.
            image: (H, W, 3) uint8 RGB, sides 8 to 4096 pixels.
            mask: (H, W) integer class indices in [0, number of classes).
            item_id: the item to replace, or a new plain id; None picks the next number
                (``"0001"``, ``"0002"``...).
            instances: optional (H, W) instance map beside the mask: 0 = no object, one id per
                object (ids may skip numbers; they are saved renumbered 1..N, 8-bit PNG up to
                255 objects, else 16-bit). Checked by
                :func:`cv_core.instances.data.instances_from_maps` (the picture's size, no id
                with no pixels on an object, ...). None (or a map with no object) saves the
                item without one, removing an instance map saved before.

        Returns:
            The item's id.

        Raises:
            DatasetError: a bad name or id, no such dataset, an image that is not RGB uint8
                or of an unusable size, a mask that is not 2-D integer, of another size than
                the image, or with a value outside the class range; an instance map that
                :func:`~cv_core.instances.data.instances_from_maps` refuses
                (:class:`~cv_core.instances.data.InstanceDataError`). Nothing is written then.
            OSError: the disk refused; the previous version of the item is left intact.
        """
        info = self.dataset_info(name)
        folder = self._folder(name)
        if item_id is not None:
            check_plain_name(item_id, N_("item id"))
        image, mask = self._check_pair(info, image, mask)
        instance_map = None
        if instances is not None:
            from cv_core.instances.data import instances_from_maps

            checked = instances_from_maps(mask, np.asarray(instances), image.shape, background=info["background"])
            if checked.boxes:
                instance_map = checked.instances

        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, "PNG")
        image_bytes = buffer.getvalue()
        text = PngImagePlugin.PngInfo()
        text.add_text(IMAGE_HASH_KEY, _sha256(image_bytes))
        buffer = io.BytesIO()
        Image.fromarray(mask).save(buffer, "PNG", pnginfo=text)
        mask_bytes = buffer.getvalue()
        instance_bytes = _instance_png(instance_map, mask_bytes) if instance_map is not None else None

        with dataset_lock(folder):
            item_id = item_id or self._next_id(folder)
            self._tidy(folder, item_id)
            image_path = folder / "images" / f"{item_id}.png"
            mask_path = folder / "masks" / f"{item_id}.png"
            prev_path = folder / "images" / f".{item_id}.prev.png"
            next_path = folder / INSTANCES_DIR / f".{item_id}.next.png"
            image_tmp = mask_tmp = None
            kept_previous = False
            try:
                if instance_bytes is not None:  # ready beside the mask, moved into place after the commit
                    (folder / INSTANCES_DIR).mkdir(exist_ok=True)
                    os.replace(_write_temp(folder / INSTANCES_DIR, f"{item_id}.png", instance_bytes), next_path)
                mask_tmp = _write_temp(folder / "masks", f"{item_id}.png", mask_bytes)
                if _read(image_path) != image_bytes:
                    image_tmp = _write_temp(folder / "images", f"{item_id}.png", image_bytes)
                    if image_path.exists():
                        os.link(image_path, prev_path)
                        kept_previous = True
                    os.replace(image_tmp, image_path)
                    image_tmp = None
                    _fsync_dir(folder / "images")
                os.replace(mask_tmp, mask_path)  # the commit point
                mask_tmp = None
                _fsync_dir(folder / "masks")
            except BaseException:
                for tmp in (image_tmp, mask_tmp):
                    if tmp is not None:
                        with contextlib.suppress(OSError):
                            tmp.unlink()
                with contextlib.suppress(OSError):
                    next_path.unlink()  # the new instance map was never committed
                with contextlib.suppress(OSError):
                    self._tidy(folder, item_id)  # puts the previous image back
                raise
            if kept_previous:
                with contextlib.suppress(OSError):
                    prev_path.unlink()
            # After the commit: the new instance map takes its place (a crash before this is
            # finished by _tidy, and readers take the .next file meanwhile), or an old one goes.
            if instance_bytes is not None:
                self._finish_instances(folder, item_id, mask_bytes)
            else:
                with contextlib.suppress(FileNotFoundError):
                    (folder / INSTANCES_DIR / f"{item_id}.png").unlink()
            stored = json.loads((folder / DATASET_FILE).read_text(encoding="utf-8"))
            stored["updated"] = _now()
            self._write_info(folder, stored)
        return item_id

    def _finish_instances(self, folder: Path, item_id: str, mask_bytes: bytes) -> None:
        """Put the instance map that belongs to ``mask_bytes`` in place (under the lock).

        A hidden ``instances/.<id>.next.png`` whose recorded mask hash is this mask's was
        committed with it: it replaces ``instances/<id>.png``. One that records another mask
        was never committed: removed.
        """
        wanted = _sha256(mask_bytes)
        final = folder / INSTANCES_DIR / f"{item_id}.png"
        pending = folder / INSTANCES_DIR / f".{item_id}.next.png"
        data = _read(pending)
        if data is not None:
            if _instance_mask_hash(data) == wanted:
                os.replace(pending, final)
                _fsync_dir(folder / INSTANCES_DIR)
                return
            with contextlib.suppress(OSError):
                pending.unlink()

    def load_instances(self, name: str, item_id: str) -> np.ndarray | None:
        """The instance map saved beside an item's mask, as in the file, or None without one.

        ``instances/<id>.png``: an instance map saved by :meth:`save_mask` records the SHA-256
        of its mask file and is used only with that mask (while a save is under way, the one
        about to replace it is taken when it matches); one written by another tool (no record)
        is taken as it is. The ids are not checked here: see
        :func:`cv_core.instances.data.instances_from_maps`.

        Returns:
            (H, W) int64 ids (0 = no object), or None.

        Raises:
            DatasetError: a bad name or id, no such dataset or item.
            cv_core.instances.data.InstanceDataError: the file is not a single-channel PNG.
        """
        from cv_core.instances.data import read_instance_map

        folder = self._existing(name)
        check_plain_name(item_id, N_("item id"))
        mask_bytes = _read(folder / "masks" / f"{item_id}.png")
        if mask_bytes is None:
            raise DatasetError(N_("The user dataset {name} has no item {item_id}."), name=repr(name), item_id=repr(item_id))
        wanted = _sha256(mask_bytes)
        for path in (folder / INSTANCES_DIR / f"{item_id}.png", folder / INSTANCES_DIR / f".{item_id}.next.png"):
            data = _read(path)
            if data is None:
                continue
            recorded = _instance_mask_hash(data)
            if recorded is None and not path.name.startswith("."):
                return read_instance_map(data)  # written by another tool
            if recorded == wanted:
                return read_instance_map(data)
        return None

    def load_item(self, name: str, item_id: str) -> tuple[np.ndarray, np.ndarray]:
        """Load one item as saved.

        Returns:
            ``(image, mask)``: (H, W, 3) uint8 RGB and (H, W) uint8 class indices.

        Raises:
            DatasetError: a bad name or id, no such dataset or item, or an image and mask
                that do not belong together (another program changed one of them).
            cv_core.images.ImageInputError: a file that cannot be decoded.
        """
        folder = self._existing(name)
        check_plain_name(item_id, N_("item id"))
        image_path = folder / "images" / f"{item_id}.png"
        mask_path = folder / "masks" / f"{item_id}.png"
        for _ in range(3):  # a save may finish between our reads: look again
            mask_bytes = _read(mask_path)
            image_bytes = _read(image_path)
            if mask_bytes is None or image_bytes is None:
                raise DatasetError(N_("The user dataset {name} has no item {item_id}."), name=repr(name), item_id=repr(item_id))
            wanted = _mask_image_hash(mask_bytes)
            previous = _read(folder / "images" / f".{item_id}.prev.png")
            if wanted is None:
                # A mask written elsewhere (no hash). Masks saved here always carry one, so
                # with a previous image present, a save over it has not committed yet.
                image_bytes = previous if previous is not None else image_bytes
                break
            if _sha256(image_bytes) == wanted:
                break
            if previous is not None and _sha256(previous) == wanted:
                image_bytes = previous  # a save of this item is under way or was interrupted
                break
        else:
            raise DatasetError(
                N_("The image and the mask of item {item_id} in {name} do not belong together (one of them "
                   "was changed outside the lab)."), item_id=repr(item_id), name=repr(name)
            )
        image = decode_image(image_bytes)
        mask = decode_label_map(mask_bytes)
        if mask.shape != image.shape[:2]:
            raise DatasetError(
                N_("The mask of item {item_id} in {name} is {shape} x {shape2} pixels but its image is "
                   "{shape3} x {shape4}."), item_id=repr(item_id), name=repr(name), shape=mask.shape[1], shape2=mask.shape[0], shape3=image.shape[1], shape4=image.shape[0]
            )
        return image, mask

    def load_mask(self, name: str, item_id: str) -> np.ndarray:
        """Only the mask of an item, (H, W) uint8 (cheaper than :meth:`load_item`)."""
        folder = self._existing(name)
        check_plain_name(item_id, N_("item id"))
        data = _read(folder / "masks" / f"{item_id}.png")
        if data is None:
            raise DatasetError(N_("The user dataset {name} has no item {item_id}."), name=repr(name), item_id=repr(item_id))
        return decode_label_map(data)

    def delete_item(self, name: str, item_id: str) -> None:
        """Delete one item (its mask first, so it leaves the list at once).

        Raises:
            DatasetError: a bad name or id, no such dataset or item.
        """
        folder = self._existing(name)
        check_plain_name(item_id, N_("item id"))
        with dataset_lock(folder):
            self._tidy(folder, item_id)
            mask_path = folder / "masks" / f"{item_id}.png"
            if not mask_path.exists():
                raise DatasetError(N_("The user dataset {name} has no item {item_id}."), name=repr(name), item_id=repr(item_id))
            mask_path.unlink()
            with contextlib.suppress(FileNotFoundError):
                (folder / "images" / f"{item_id}.png").unlink()
            for path in (folder / INSTANCES_DIR / f"{item_id}.png", folder / INSTANCES_DIR / f".{item_id}.next.png"):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            stored = json.loads((folder / DATASET_FILE).read_text(encoding="utf-8"))
            stored["updated"] = _now()
            self._write_info(folder, stored)
