"""Your own segmentation data: named datasets of pictures and the masks you drew on them.

A user mask dataset lives in a folder under the data root (``./data`` by default; set
``CONVNET_LAB_DATA`` to move it)::

    data/user_masks/<name>/
      dataset.json      class names, background index, created / updated times
      images/<id>.png   the picture, RGB
      masks/<id>.png    single-channel PNG whose pixel values are class indices
                        (the chapter's mask format: any tool can read it)
      instances/<id>.png  optional instance map beside the mask: 0 = no object, one id per
                        object (8- or 16-bit single-channel PNG; see ``save_mask(instances=...)``)
      drafts/<id>.npz   unsaved drawings of the Mask studio (not items: never trained on),
                        kept so a reload loses nothing; removed on save or clear

:class:`UserMaskStore` creates, saves, lists, reloads and deletes them;
``open_dataset("user:<name>")`` opens one as a :class:`UserMaskDataset` for training.

**Names.** Dataset names and item ids are plain names: 1 to 64 ASCII letters, digits,
``-`` and ``_``, starting with a letter or digit. Anything else (``..``, ``/``, a leading
dot, spaces, other alphabets) is refused, so a name can never point outside its folder and
means the same on every file system.

**Saving is atomic.** Image and mask are written to temporary files and moved into place
with ``os.replace``; the mask goes last and records the SHA-256 of its image in a PNG text
chunk, so the mask is the commit point. While the image of an existing item is being
replaced, the previous image is kept as a hidden ``images/.<id>.prev.png`` until the new
mask is in place. A reader that finds a mask whose image does not match takes that previous
image instead, so it never sees a new mask with an old image or the reverse, and a crash
at any moment leaves the previous version readable (the next save of the item tidies up).
An instance map saved with the mask records the SHA-256 of its mask file and waits as a
hidden ``instances/.<id>.next.png`` until the mask is in place, then takes its name; a
reader (:meth:`UserMaskStore.load_instances`) uses only the instance map of the mask it
reads, so class mask and instances never disagree either.
Writers of one dataset take turns through a lock file (``fcntl``; Linux and macOS).

Modules: :mod:`~cv_core.datasets.user_masks.files` (names, paths, atomic writes),
:mod:`~cv_core.datasets.user_masks.store` (datasets and items),
:mod:`~cv_core.datasets.user_masks.drafts` (unsaved drawings),
:mod:`~cv_core.datasets.user_masks.coco` (COCO instance files in and out: ``import_zip``,
``import_coco``, ``export_zip``, ``export_coco``) and
:mod:`~cv_core.datasets.user_masks.dataset` (the dataset for training, its splits).
"""

from __future__ import annotations

from cv_core.datasets.user_masks.coco import CocoImportReport
from cv_core.datasets.user_masks.dataset import UserMaskDataset, split_items
from cv_core.datasets.user_masks.files import (
    DATA_ROOT_ENV,
    DRAFT_MAX_AGE_DAYS,
    IMAGE_HASH_KEY,
    USER_PREFIX,
    check_plain_name,
    default_data_root,
    mask_label,
)
from cv_core.datasets.user_masks.store import UserMaskStore

__all__ = [
    "CocoImportReport",
    "DATA_ROOT_ENV",
    "DRAFT_MAX_AGE_DAYS",
    "IMAGE_HASH_KEY",
    "USER_PREFIX",
    "UserMaskDataset",
    "UserMaskStore",
    "check_plain_name",
    "default_data_root",
    "mask_label",
    "split_items",
]
