"""What COCO's instance files (:mod:`cv_core.instances.coco`) and keypoint files
(:mod:`cv_core.keypoints.coco`) share: the record of one picture.

The format (https://cocodataset.org/#format-data) lists ``images``, each with ``id``,
``file_name``, ``width`` and ``height``; both readers give them as :class:`CocoImage`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CocoImage"]


@dataclass(frozen=True)
class CocoImage:
    """One picture of a COCO file: its id, file name and size in pixels."""

    id: int
    file_name: str
    width: int
    height: int
