"""Drafts: the Mask studio's unsaved drawings, kept so that a reload loses nothing (never trained on)."""

from __future__ import annotations

import contextlib
import io
import json
import os
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from PIL import Image

from cv_core.datasets.base import DatasetError
from cv_core.datasets.user_masks.files import (
    DRAFTS_DIR,
    DRAFT_MAX_AGE_DAYS,
    _PLAIN_NAME,
    _now,
    _read,
    _write_temp,
    check_plain_name,
)
from cv_core.images import decode_image
from cv_core.i18n import N_


class DraftsMixin:
    """The drafts of :class:`~cv_core.datasets.user_masks.store.UserMaskStore` (uses its
    ``dataset_info`` and ``_existing``)."""

    def _draft_paths(self, name: str, draft_id: str) -> tuple[Path, Path]:
        folder = self._existing(name) / DRAFTS_DIR
        check_plain_name(draft_id, N_("draft id"))
        return folder / f"{draft_id}.npz", folder / f"{draft_id}.png"

    def save_draft(self, name: str, draft_id: str, labels: np.ndarray, meta: dict | None = None,
                   image: np.ndarray | None = None) -> None:
        """Keep an unsaved drawing of ``name`` under ``draft_id``, replacing the previous one.

        A draft is not an item: training, :meth:`list_items` and the dataset's counts never see
        it. It is written atomically, so a reader finds the previous draft or this one.

        Args:
            name: the dataset the drawing is for.
            draft_id: a plain name (e.g. a hash of who draws and on which picture).
            labels: (h, w) integers, the painted class (or object, see
                :mod:`cv_core.mask_drawing.objects`: up to ``MAX_EXTRA_OBJECTS`` indices after
                the classes) of each pixel and ``NOT_DRAWN`` (-1)
                where nothing was painted (``cv_core.mask_drawing.canvas_to_labels``).
            meta: JSON-serialisable facts to restore the drawing (the canvas's objects, what the
                picture was); ``saved`` (the time, UTC ISO 8601) is added.
            image: (H, W, 3) uint8, the picture when it cannot be found again (an upload);
                written once per draft.

        Raises:
            DatasetError: a bad name or id, no such dataset, labels that are not 2-D integers
                in [-1, number of classes), an image that is not RGB uint8, or a ``meta`` that
                is not JSON.
        """
        info = self.dataset_info(name)
        data_path, image_path = self._draft_paths(name, draft_id)
        labels = np.asarray(labels)
        if labels.ndim != 2 or not np.issubdtype(labels.dtype, np.integer) or labels.size == 0:
            raise DatasetError(N_("Expected the draft's labels as a 2-D integer array. Received: shape {shape}, {dtype}"), shape=labels.shape, dtype=labels.dtype)
        # A class index, or an extra object's index after the classes (Mask studio's objects).
        from cv_core.mask_drawing.objects import MAX_EXTRA_OBJECTS

        classes = len(info["class_names"]) + MAX_EXTRA_OBJECTS
        if int(labels.min()) < -1 or int(labels.max()) >= classes:
            raise DatasetError(N_("Expected draft labels from -1 (not drawn) to {value}. Received: {int} to {int2}"), value=classes - 1, int=int(labels.min()), int2=int(labels.max()))
        try:
            text = json.dumps({**(meta or {}), "saved": _now()}, ensure_ascii=False).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise DatasetError(N_("The draft's description cannot be written as JSON: {exc}"), exc=exc) from None
        if image is not None:
            image = np.asarray(image)
            if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
                raise DatasetError(N_("Expected the draft's picture as an (H, W, 3) uint8 RGB array. Received: shape {shape}, "
                                      "{dtype}"), shape=image.shape, dtype=image.dtype)
        data_path.parent.mkdir(exist_ok=True)
        if image is not None and not image_path.exists():
            buffer = io.BytesIO()
            Image.fromarray(image).save(buffer, "PNG")
            os.replace(_write_temp(data_path.parent, image_path.name, buffer.getvalue()), image_path)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, labels=labels.astype(np.int16), meta=np.frombuffer(text, dtype=np.uint8))
        os.replace(_write_temp(data_path.parent, data_path.name, buffer.getvalue()), data_path)
        self._prune_drafts(data_path.parent)

    def load_draft(self, name: str, draft_id: str) -> dict | None:
        """The draft kept under ``draft_id``, or None (none, or unreadable: it is then removed).

        Returns:
            ``{"labels": (h, w) int16, "meta": dict, "image": (H, W, 3) uint8 or None}``.
        """
        data_path, image_path = self._draft_paths(name, draft_id)
        data = _read(data_path)
        if data is None:
            return None
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as archive:
                labels = np.asarray(archive["labels"])
                meta = json.loads(bytes(archive["meta"]).decode("utf-8"))
            if labels.ndim != 2 or not isinstance(meta, dict):
                raise ValueError("not a draft")
            picture = _read(image_path)
            image = decode_image(picture) if picture is not None else None
        except Exception:  # a torn or foreign file: a draft is a convenience, never an error
            self.delete_draft(name, draft_id)
            return None
        return {"labels": labels, "meta": meta, "image": image}

    def delete_draft(self, name: str, draft_id: str) -> bool:
        """Remove a draft; returns whether there was one."""
        found = False
        for path in self._draft_paths(name, draft_id):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                found = True
        return found

    def list_drafts(self, name: str) -> list[str]:
        """Ids of the drafts kept for ``name``, newest first."""
        folder = self._existing(name) / DRAFTS_DIR
        drafts = []
        for path in folder.glob("*.npz") if folder.is_dir() else []:
            if _PLAIN_NAME.fullmatch(path.stem):
                with contextlib.suppress(OSError):
                    drafts.append((path.stat().st_mtime_ns, path.stem))
        return [draft for _, draft in sorted(drafts, reverse=True)]

    def _prune_drafts(self, folder: Path) -> None:
        """Forget drafts nobody came back to in ``DRAFT_MAX_AGE_DAYS`` days."""
        limit = datetime.now(timezone.utc).timestamp() - DRAFT_MAX_AGE_DAYS * 86400
        for path in folder.iterdir():
            with contextlib.suppress(OSError):
                if path.suffix in (".npz", ".png") and path.stat().st_mtime < limit:
                    path.unlink()
