"""Masks as data: the mask error, a blank mask, checks, re-labelling and class-name parsing."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from cv_core.i18n import N_, TranslatedError

#: One byte per mask pixel.
MAX_CLASSES = 256
MAX_CLASS_NAME = 64


class MaskError(TranslatedError, ValueError):
    """A mask, a palette or a picture that cannot be used; the message says what to change."""


def _check_num_classes(num_classes) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
            or not 2 <= num_classes <= MAX_CLASSES:
        raise MaskError(N_("Expected `num_classes` to be a whole number from 2 to {MAX_CLASSES}. Received: "
                           "num_classes={num_classes}"), MAX_CLASSES=MAX_CLASSES, num_classes=repr(num_classes))
    return int(num_classes)


def blank_mask(shape: tuple[int, int], background: int = 0) -> np.ndarray:
    """An (H, W) uint8 mask that is all ``background``."""
    return np.full(tuple(int(s) for s in shape[:2]), background, dtype=np.uint8)


def validate_mask(mask, image_shape: tuple[int, ...], num_classes: int) -> np.ndarray:
    """Check that ``mask`` can go with a picture of ``image_shape``; return it as uint8.

    Args:
        mask: 2-D integer (or boolean) class indices.
        image_shape: the picture's shape, (H, W) or (H, W, 3).
        num_classes: the classes of the dataset it is for: values must be in [0, num_classes).

    Raises:
        MaskError: not 2-D, not whole numbers, another size than the picture, or a value
            outside the class range. The message says which and what was expected.
    """
    k = _check_num_classes(num_classes)
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise MaskError(N_("Expected a mask with one value per pixel (2-D). Received: shape {shape}"), shape=mask.shape)
    if mask.dtype == bool:
        mask = mask.astype(np.uint8)
    if not np.issubdtype(mask.dtype, np.integer):
        raise MaskError(N_("Expected whole-number class indices. Received: {dtype} values"), dtype=mask.dtype)
    height, width = (int(s) for s in image_shape[:2])
    if mask.shape != (height, width):
        raise MaskError(N_("The mask is {shape} × {shape2} pixels but the picture is {width} × {height}: they must "
                           "be the same size."), shape=mask.shape[1], shape2=mask.shape[0], width=width, height=height)
    if mask.size:
        low, high = int(mask.min()), int(mask.max())
        if low < 0 or high >= k:
            bad = low if low < 0 else high
            raise MaskError(N_("The mask has the value {bad}, outside the {k} classes (values 0 to {value})."), bad=bad, k=k, value=k - 1)
    return mask.astype(np.uint8)


def remap_mask(mask, source_names: Sequence[str], target_names: Sequence[str],
               source_background: int = 0, target_background: int = 0) -> np.ndarray:
    """Re-label a mask from one list of classes to another, by class name.

    The source's background becomes the target's background; every other class goes to the
    target class of the same name (ignoring case and surrounding spaces). Handy to start a
    mask of your own dataset from the shapes' or pets' true masks.

    Returns:
        (H, W) uint8 in the target's classes.

    Raises:
        MaskError: a value outside the source classes, or a class present in the mask that
            the target does not have (the message names them).
    """
    mask = np.asarray(mask)
    if mask.ndim != 2 or not np.issubdtype(mask.dtype, np.integer):
        raise MaskError(N_("Expected a 2-D integer mask. Received: shape {shape}, {dtype}"), shape=mask.shape, dtype=mask.dtype)
    source, target = list(source_names), list(target_names)
    if mask.size and (mask.min() < 0 or mask.max() >= len(source)):
        raise MaskError(N_("The mask has values from {min} to {max} but only {n} classes are named ({items})."), min=mask.min(), max=mask.max(), n=len(source), items=', '.join(source))
    by_name = {str(name).strip().casefold(): i for i, name in enumerate(target)}
    table = np.full(len(source), -1, dtype=np.int64)
    for i, name in enumerate(source):
        table[i] = target_background if i == source_background else by_name.get(str(name).strip().casefold(), -1)
    present = np.unique(mask) if mask.size else np.array([], dtype=np.int64)
    missing = [source[int(v)] for v in present if table[int(v)] < 0]
    if missing:
        raise MaskError(
            N_("This mask has the class(es) {items}, which the dataset's classes ({items2}) do not "
               "include. Start from an empty mask, or use a dataset with these classes."), items=', '.join(repr(m) for m in missing), items2=', '.join(target)
        )
    return table[mask].astype(np.uint8)


def parse_class_names(text: str) -> list[str]:
    """Class names typed one per line (blank lines ignored, spaces around names dropped).

    Raises:
        MaskError: fewer than 2 or more than 256 names, a name over 64 characters or with
            control characters, or the same name twice. The message names the line.
    """
    if not isinstance(text, str):
        raise MaskError(N_("Expected the class names as text. Received: {__name__}"), __name__=type(text).__name__)
    names = [line.strip() for line in text.splitlines() if line.strip()]
    for number, name in enumerate(names, start=1):
        if len(name) > MAX_CLASS_NAME:
            raise MaskError(N_("Class {number} ({name}…) is too long: at most {MAX_CLASS_NAME} characters."), number=number, name=repr(name[:20]), MAX_CLASS_NAME=MAX_CLASS_NAME)
        if not name.isprintable():
            raise MaskError(N_("Class {number} ({name}) contains control characters."), number=number, name=repr(name))
    if len(names) < 2:
        raise MaskError(N_("Give at least two classes, one per line: the background first, then the objects "
                        "(e.g. background, cat, dog)."))
    if len(names) > MAX_CLASSES:
        raise MaskError(N_("Give at most {MAX_CLASSES} classes (a mask stores one byte per pixel). Received: {n}"), MAX_CLASSES=MAX_CLASSES, n=len(names))
    seen: dict[str, int] = {}
    for number, name in enumerate(names, start=1):
        if name.casefold() in seen:
            raise MaskError(N_("Class {number} ({name}) repeats class {seen}: class names must differ."), number=number, name=repr(name), seen=seen[name.casefold()])
        seen[name.casefold()] = number
    return names
