"""Drawing helpers shared by the generated keypoint sets (``people``, ``landmarks``).

Parts are rasterised anti-aliased (drawn 4× larger, then averaged down), as the shapes are;
coordinates are continuous pixels (a picture S pixels wide spans x in [0, S]).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from cv_core.datasets.base import Dataset

__all__ = ["BAR", "GeneratedDataset", "bar_cover", "composite", "contrasting_colour", "joint_visibility",
           "owner_box", "part_cover"]

_SUPERSAMPLE = 4
#: The instance-map value of an occluding bar (people are 0, 1, ...; nothing is -1).
BAR = 1000
_SPLIT_CODES = {"train": 0, "validation": 1, "test": 2}


def part_cover(size: int, parts: Sequence[tuple]) -> np.ndarray:
    """Anti-aliased coverage in [0, 1] of some parts drawn together on a size² grid.

    Each part is ``("polygon", points)``, ``("line", points, width)`` (a polyline with round
    joints and ends) or ``("disc", (x, y), radius)``; points are ``(x, y)`` in pixels.
    """
    big = size * _SUPERSAMPLE
    canvas = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(canvas)
    s = _SUPERSAMPLE
    for part in parts:
        kind = part[0]
        if kind == "polygon":
            draw.polygon([(x * s, y * s) for x, y in part[1]], fill=255)
        elif kind == "line":
            points, width = [(x * s, y * s) for x, y in part[1]], max(1.0, part[2] * s)
            draw.line(points, fill=255, width=max(1, int(round(width))), joint="curve")
            r = width / 2
            for x, y in (points[0], points[-1]):
                draw.ellipse([x - r, y - r, x + r, y + r], fill=255)
        elif kind == "disc":
            (x, y), r = part[1], part[2] * s
            draw.ellipse([x * s - r, y * s - r, x * s + r, y * s + r], fill=255)
        else:  # pragma: no cover - programming error
            raise ValueError(kind)
    small = canvas.resize((size, size), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32) / 255.0


def composite(image: np.ndarray, cover: np.ndarray, colour) -> np.ndarray:
    """``image`` with ``colour`` (RGB, or an (S, S, 3) picture) painted where ``cover`` says."""
    colour = np.asarray(colour, dtype=np.float32)
    if colour.ndim == 1:
        colour = colour[None, None, :]
    return image * (1 - cover[..., None]) + colour * cover[..., None]


def contrasting_colour(rng: np.random.Generator, against: np.ndarray, distance: float = 90.0) -> np.ndarray:
    """A random RGB colour at least ``distance`` away from ``against`` (a few tries, then the last)."""
    for _ in range(8):
        colour = rng.integers(0, 256, size=3).astype(np.float32)
        if float(np.linalg.norm(colour - against)) >= distance:
            break
    return colour


def bar_cover(rng: np.random.Generator, size: int, near: tuple[float, float], spread: float) -> np.ndarray:
    """Coverage of a long thin bar crossing the picture near ``near`` (± ``spread`` pixels)."""
    angle = rng.uniform(0, math.pi)
    length = size * rng.uniform(0.6, 1.2)
    px, py = near[0] + rng.uniform(-spread, spread), near[1] + rng.uniform(-spread, spread)
    dx, dy = math.cos(angle) * length / 2, math.sin(angle) * length / 2
    width = size * rng.uniform(0.03, 0.06)
    return part_cover(size, [("line", [(px - dx, py - dy), (px + dx, py + dy)], width)])


def joint_visibility(points: np.ndarray, instance: np.ndarray, owner: int,
                     hidden: np.ndarray | None = None) -> np.ndarray:
    """COCO visibility of one object's joints from the picture's instance map.

    0 outside the picture; 1 where something drawn in front of ``owner`` (a later object, a bar)
    holds the joint's pixel, or where ``hidden`` says so (a far eye on a turned face); 2 otherwise.
    """
    size_y, size_x = instance.shape
    visibility = np.full(len(points), 2, np.uint8)
    for j, (x, y) in enumerate(points):
        if not (0 <= x < size_x and 0 <= y < size_y):
            visibility[j] = 0
            continue
        holder = instance[int(y), int(x)]
        if holder == BAR or holder > owner or (hidden is not None and hidden[j]):
            visibility[j] = 1
    return visibility


def owner_box(instance: np.ndarray, owner: int, fallback: np.ndarray) -> tuple[tuple[int, int, int, int], float]:
    """``((x0, y0, x1, y1), area)`` of the pixels ``owner`` holds (x1, y1 exclusive).

    An object that nothing of shows keeps the box of ``fallback`` (its own coverage ≥ 0.5,
    before anything was drawn in front of it) and an area of 1 pixel².
    """
    ys, xs = np.nonzero(instance == owner)
    area = float(len(xs))
    if not len(xs):
        ys, xs = np.nonzero(fallback)
        area = 1.0
    if not len(xs):
        return (0, 0, 0, 0), 1.0
    return (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1), area


class GeneratedDataset(Dataset):
    """What the generated keypoint sets share: seed, picture size, split sizes and difficulty.

    Subclasses set ``name``, ``render`` (a function of ``(seed, split, index, image_size,
    difficulty)`` returning a Sample), ``CLASS_NAMES`` and ``MASK_CLASS_NAMES`` (each dataset gets
    its own list of them) and the class attributes of :class:`Dataset`.

    Args:
        seed: changes every picture; the same seed gives the same dataset everywhere.
        image_size: side of the square pictures in pixels (32 to 512; 128 by default).
        train_size, validation_size, test_size: pictures per split (at most 1,000,000 each).
        difficulty: "easy", "medium" or "hard" (the default): clutter, noise and bars, as shapes.
    """

    has_keypoints = True
    has_boxes = True
    has_masks = True
    MAX_SPLIT_SIZE = 1_000_000
    MIN_SIZE = 32
    #: The difficulties drawn (the shapes' "crowded" is for instance segmentation, not figures).
    DIFFICULTY_LEVELS = ("easy", "medium", "hard")
    CLASS_NAMES: tuple[str, ...] = ()
    MASK_CLASS_NAMES: tuple[str, ...] = ()

    def __init__(self, seed: int = 0, image_size: int = 128, train_size: int = 2000,
                 validation_size: int = 500, test_size: int = 500, difficulty: str = "hard") -> None:
        from cv_core.datasets.shapes import check_generator_options

        super().__init__()
        sizes = check_generator_options(seed, image_size, (train_size, validation_size, test_size), difficulty,
                                        min_size=self.MIN_SIZE, max_split_size=self.MAX_SPLIT_SIZE,
                                        levels=self.DIFFICULTY_LEVELS)
        self.seed, self.image_size, self.difficulty, self.sizes = int(seed), image_size, difficulty, sizes
        self.default_image_size = (image_size, image_size)
        self.class_names = list(self.CLASS_NAMES)
        self.mask_class_names = list(self.MASK_CLASS_NAMES)

    def _count(self, split: str) -> int:
        return self.sizes[split]

    def _load(self, split: str, index: int):
        return type(self).render(self.seed, split, index, self.image_size, self.difficulty)

    def _labels(self, split: str) -> np.ndarray:
        return np.array([self._load(split, i).label for i in range(self._count(split))], dtype=np.int64)


def split_rng(seed: int, split: str, index: int, salt: int) -> np.random.Generator:
    """The random stream of one generated picture (``salt`` keeps each dataset's streams apart)."""
    return np.random.default_rng([seed, _SPLIT_CODES[split], index, salt])
