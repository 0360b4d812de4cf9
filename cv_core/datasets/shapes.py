"""The built-in "shapes" dataset: coloured shapes on cluttered, textured backgrounds.

Every sample is drawn on the fly from ``(seed, split, index)``, so the dataset needs no
files, is identical on every machine, and serves all three tasks of the chapter at once:

* **classification** — the image label is the class of the *main object*: the largest
  shape in the picture, always drawn in front of the smaller distractor shapes. Distractors
  (zero to three) may be of any class, including the main one; their radius is at most
  0.55 of the main object's, so their area is always smaller whatever their shapes.
* **segmentation** — the mask holds 0 for background and ``1 + class index`` for every
  visible pixel of every shape (``mask_class_names = ["background", "circle", ...]``). A
  thin bar sometimes crosses the picture in front of everything (occlusion): its pixels
  are background in the mask.
* **detection** — one box per visible object, ``(class_index, x0, y0, x1, y1)`` around its
  visible pixels, x1/y1 exclusive.
* **instance segmentation** — ``Sample.instances``, an instance map: ``i`` on the visible pixels
  of the object of ``boxes[i - 1]``, 0 elsewhere. An object cut in two by a bar keeps one id.
  Objects with fewer than 4 visible pixels have no box and no instance (their pixels stay in
  the class mask).

The ``"crowded"`` difficulty is for instance segmentation: three to six shapes of similar
size, most of one class, placed so that shapes of the same class touch or overlap, and a bar
across the front (largest) one in six pictures out of ten, often cutting it in two. Its
nuisances (clutter, noise, texture) are medium's. The other difficulties draw exactly the
pictures, labels, masks and boxes they drew before instances existed.

What varies: shape colour and shading, size, position, rotation, the number of
distractors, the background (gradient, stripes, checks or blotches in two random colours),
clutter lines and dots, occluding bars and pixel noise. A small convnet does not solve it
in one epoch; the mini-Xception learns it in minutes on two CPU cores at 64–96 px.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from cv_core.i18n import N_, LazyText
from cv_core.datasets.base import Dataset, DatasetError, Sample

__all__ = ["DIFFICULTIES", "SHAPE_CLASSES", "ShapesDataset", "draw_clutter", "render_shapes", "showcase_sample"]

SHAPE_CLASSES = ["circle", "square", "triangle", "star", "cross"]
# The class names as a person reads them: shown with cv_core.i18n._ (the names above stay the data's).
_SHAPE_NAMES_SHOWN = (N_("circle"), N_("square"), N_("triangle"), N_("star"), N_("cross"), N_("background"))
_SPLIT_CODES = {"train": 0, "validation": 1, "test": 2}
_SUPERSAMPLE = 4
_MAX_DISTRACTOR_RATIO = 0.55


@dataclass(frozen=True)
class _Difficulty:
    """How cluttered the pictures of one difficulty level are."""

    distractor_odds: tuple[float, float, float, float]  # P(0, 1, 2, 3 distractors)
    clutter: tuple[int, int]  # clutter marks drawn: integers(low, high)
    bar_probability: float  # chance of an occluding bar across the main object
    noise: tuple[float, float]  # pixel noise standard deviation: uniform(low, high)
    texture: tuple[float, float]  # background texture strength: uniform(low, high)
    crowded: bool = False  # same-class shapes of similar size that touch (instance segmentation)


#: The levels of the ``difficulty`` option. "hard" is the original dataset (the default);
#: "medium" keeps every kind of nuisance but fewer and fainter; "easy" is one shape on a
#: faint texture.
DIFFICULTIES = {
    "easy": _Difficulty((1.0, 0.0, 0.0, 0.0), (0, 1), 0.0, (1.0, 3.0), (0.1, 0.3)),
    "medium": _Difficulty((0.45, 0.4, 0.15, 0.0), (1, 4), 0.15, (2.0, 5.0), (0.2, 0.6)),
    "hard": _Difficulty((0.25, 0.35, 0.25, 0.15), (2, 7), 0.35, (2.0, 8.0), (0.25, 0.8)),
    "crowded": _Difficulty((1.0, 0.0, 0.0, 0.0), (1, 4), 0.6, (2.0, 5.0), (0.2, 0.6), crowded=True),
}


def _polygon(kind: str, cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]]:
    """Vertices of a shape of circumradius ``r`` centred at (cx, cy), rotated by ``angle``."""
    if kind == "circle":
        points = [(1.0, 2 * math.pi * k / 48) for k in range(48)]
    elif kind == "square":
        points = [(1.0, math.pi / 4 + k * math.pi / 2) for k in range(4)]
    elif kind == "triangle":
        points = [(1.0, -math.pi / 2 + k * 2 * math.pi / 3) for k in range(3)]
    elif kind == "star":
        points = [(1.0 if k % 2 == 0 else 0.48, -math.pi / 2 + k * math.pi / 5) for k in range(10)]
    elif kind == "cross":
        h = 0.33  # half the arm width, relative to r
        corners = [(h, 1), (-h, 1), (-h, h), (-1, h), (-1, -h), (-h, -h), (-h, -1), (h, -1),
                   (h, -h), (1, -h), (1, h), (h, h)]
        points = [(math.hypot(x, y), math.atan2(y, x)) for x, y in corners]
    else:  # pragma: no cover - guarded by SHAPE_CLASSES
        raise ValueError(kind)
    return [(cx + r * m * math.cos(a + angle), cy + r * m * math.sin(a + angle)) for m, a in points]


def _coverage(size: int, polygon: list[tuple[float, float]], *, width: int | None = None) -> np.ndarray:
    """Anti-aliased coverage in [0, 1] of a polygon (or a polyline of ``width``) on a size² grid."""
    big = size * _SUPERSAMPLE
    canvas = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(canvas)
    scaled = [(x * _SUPERSAMPLE, y * _SUPERSAMPLE) for x, y in polygon]
    if width is None:
        draw.polygon(scaled, fill=255)
    else:
        draw.line(scaled, fill=255, width=max(1, int(width * _SUPERSAMPLE)))
    small = canvas.resize((size, size), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32) / 255.0


def _random_colour(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 256, size=3).astype(np.float32)


def _background(rng: np.random.Generator, size: int, level: _Difficulty) -> np.ndarray:
    a, b = _random_colour(rng), _random_colour(rng)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    kind = rng.integers(4)
    theta = rng.uniform(0, math.pi)
    u = xx * math.cos(theta) + yy * math.sin(theta)
    if kind == 0:  # gradient
        t = (u - u.min()) / max(1e-6, float(u.max() - u.min()))
    elif kind == 1:  # stripes
        t = 0.5 + 0.5 * np.sin(u * 2 * math.pi * rng.uniform(3, 9))
    elif kind == 2:  # checks
        v = -xx * math.sin(theta) + yy * math.cos(theta)
        f = rng.uniform(3, 8)
        t = ((np.floor(u * f) + np.floor(v * f)) % 2).astype(np.float32)
    else:  # blotches: a few smooth bumps
        t = np.zeros((size, size), np.float32)
        for _ in range(5):
            cx, cy, s = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.1, 0.3)
            t += np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * s * s))
        t /= max(1e-6, float(t.max()))
    mix = rng.uniform(*level.texture)  # how strong the texture is
    t = t * mix
    return a[None, None, :] * (1 - t[..., None]) + b[None, None, :] * t[..., None]


def draw_clutter(rng: np.random.Generator, image: np.ndarray, level: _Difficulty) -> np.ndarray:
    """Thin lines and dots that belong to no object, drawn over an (S, S, 3) float picture."""
    size = image.shape[0]
    clutter = Image.new("RGB", (size, size))
    clutter_alpha = Image.new("L", (size, size), 0)
    draw, draw_alpha = ImageDraw.Draw(clutter), ImageDraw.Draw(clutter_alpha)
    for _ in range(int(rng.integers(*level.clutter))):
        colour = tuple(int(c) for c in _random_colour(rng))
        if rng.random() < 0.6:
            pts = [tuple(rng.uniform(0, size, 2)) for _ in range(int(rng.integers(2, 4)))]
            w = int(rng.integers(1, 3))
            draw.line(pts, fill=colour, width=w)
            draw_alpha.line(pts, fill=255, width=w)
        else:
            x, y = rng.uniform(0, size, 2)
            s = rng.uniform(1, max(1.5, size * 0.025))
            draw.ellipse([x - s, y - s, x + s, y + s], fill=colour)
            draw_alpha.ellipse([x - s, y - s, x + s, y + s], fill=255)
    a = np.asarray(clutter_alpha, np.float32)[..., None] / 255.0
    return image * (1 - a) + np.asarray(clutter, np.float32) * a


def _crowded_layout(rng: np.random.Generator, size: int) -> list[dict]:
    """Three to six shapes of similar size, most of one class, same-class ones touching; largest last."""
    main_cls = int(rng.integers(len(SHAPE_CLASSES)))
    objects: list[dict] = []
    for _ in range(int(rng.integers(3, 7))):
        cls = main_cls if rng.random() < 0.7 else int(rng.integers(len(SHAPE_CLASSES)))
        r = rng.uniform(0.13, 0.2) * size
        same = [o for o in objects if o["cls"] == cls]
        if same and rng.random() < 0.8:  # beside a shape of its class: touching or overlapping
            anchor = same[int(rng.integers(len(same)))]
            distance = (anchor["r"] + r) * rng.uniform(0.6, 0.85)
            theta = rng.uniform(0, 2 * math.pi)
            cx = float(np.clip(anchor["cx"] + distance * math.cos(theta), r * 0.5, size - r * 0.5))
            cy = float(np.clip(anchor["cy"] + distance * math.sin(theta), r * 0.5, size - r * 0.5))
        else:
            cx, cy = (float(v) for v in rng.uniform(r * 0.8, size - r * 0.8, 2))
        objects.append({"cls": cls, "r": r, "cx": cx, "cy": cy})
    return sorted(objects, key=lambda o: o["r"])


def _layout(rng: np.random.Generator, size: int, level: _Difficulty) -> list[dict]:
    """Decide the objects of one picture, main object last (in front)."""
    if level.crowded:
        return _crowded_layout(rng, size)
    main_r = rng.uniform(0.2, 0.34) * size
    main = {
        "cls": int(rng.integers(len(SHAPE_CLASSES))),
        "r": main_r,
        "cx": rng.uniform(main_r * 0.8, size - main_r * 0.8),
        "cy": rng.uniform(main_r * 0.8, size - main_r * 0.8),
    }
    n_distractors = int(rng.choice([0, 1, 2, 3], p=list(level.distractor_odds)))
    objects = []
    for _ in range(n_distractors):
        r = main_r * rng.uniform(0.3, _MAX_DISTRACTOR_RATIO)
        objects.append({
            "cls": int(rng.integers(len(SHAPE_CLASSES))),
            "r": r,
            "cx": rng.uniform(0, size),
            "cy": rng.uniform(0, size),
        })
    objects.append(main)
    return objects


def render_shapes(seed: int, split: str, index: int, image_size: int = 96, difficulty: str = "hard") -> Sample:
    """Draw one sample of the shapes dataset.

    Args:
        seed: dataset seed; the same (seed, split, index, image_size, difficulty) always
            gives the same sample.
        split: "train", "validation" or "test" (each split has its own stream of pictures).
        index: sample number within the split.
        image_size: side of the square picture in pixels.
        difficulty: "easy", "medium", "hard" or "crowded" (see ``DIFFICULTIES``).

    Returns:
        A :class:`Sample` with image (S, S, 3) uint8, label, mask (S, S) uint8, boxes and
        instances (S, S) uint16 (id ``i`` for ``boxes[i - 1]``).
    """
    level = DIFFICULTIES[difficulty]
    rng = np.random.default_rng([seed, _SPLIT_CODES[split], index])
    size = image_size
    objects = _layout(rng, size, level)
    image = draw_clutter(rng, _background(rng, size, level), level)

    instance = np.full((size, size), -1, np.int16)  # which object owns each pixel
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    for k, obj in enumerate(objects):
        angle = rng.uniform(0, 2 * math.pi)
        cover = _coverage(size, _polygon(SHAPE_CLASSES[obj["cls"]], obj["cx"], obj["cy"], obj["r"], angle))
        colour = _random_colour(rng)
        # Soft directional shading so shapes are not flat stickers.
        phi = rng.uniform(0, 2 * math.pi)
        shade = 1.0 + 0.25 * ((xx - obj["cx"]) * math.cos(phi) + (yy - obj["cy"]) * math.sin(phi)) / max(obj["r"], 1)
        fill = np.clip(colour[None, None, :] * shade[..., None], 0, 255)
        image = image * (1 - cover[..., None]) + fill * cover[..., None]
        instance[cover >= 0.5] = k

    if rng.random() < level.bar_probability:  # an occluding bar in front of everything
        main = objects[-1]
        angle = rng.uniform(0, math.pi)
        length = size * rng.uniform(0.6, 1.2)
        px = main["cx"] + rng.uniform(-0.6, 0.6) * main["r"]
        py = main["cy"] + rng.uniform(-0.6, 0.6) * main["r"]
        dx, dy = math.cos(angle) * length / 2, math.sin(angle) * length / 2
        width = size * rng.uniform(0.04, 0.08)
        cover = _coverage(size, [(px - dx, py - dy), (px + dx, py + dy)], width=width)
        image = image * (1 - cover[..., None]) + _random_colour(rng)[None, None, :] * cover[..., None]
        instance[cover >= 0.5] = -1

    image = image + rng.normal(0, rng.uniform(*level.noise), size=image.shape)
    image = np.clip(np.rint(image), 0, 255).astype(np.uint8)

    mask = np.zeros((size, size), np.uint8)
    instances = np.zeros((size, size), np.uint16)
    boxes = []
    for k, obj in enumerate(objects):
        ys, xs = np.nonzero(instance == k)
        if len(xs) == 0:
            continue
        mask[ys, xs] = obj["cls"] + 1
        if len(xs) >= 4:
            boxes.append((obj["cls"], int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1))
            instances[ys, xs] = len(boxes)
    return Sample(image=image, label=objects[-1]["cls"], mask=mask, boxes=boxes,
                  source=f"shapes/{split}/{index}", instances=instances)



def check_generator_options(seed, image_size, split_sizes, difficulty: str, *, min_size: int,
                            max_split_size: int, levels: tuple[str, ...] = tuple(DIFFICULTIES)) -> dict[str, int]:
    """Check a generated dataset's options (shapes, people, landmarks); the split sizes by name.

    Args:
        levels: the difficulties this dataset draws (``crowded`` is the shapes' own).

    Raises:
        DatasetError: an image size outside ``min_size``..512, a negative or non-integer seed,
            a difficulty not in ``levels``, or a split size outside 0..``max_split_size``.
    """
    if not isinstance(image_size, int) or isinstance(image_size, bool) or not min_size <= image_size <= 512:
        raise DatasetError(N_("Expected `image_size` between {minimum} and 512. Received: image_size={image_size!r}"),
                           minimum=min_size, image_size=image_size)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise DatasetError(N_("Expected `seed` to be a whole number >= 0. Received: seed={seed!r}"), seed=seed)
    if difficulty not in levels:
        raise DatasetError(N_("Expected `difficulty` to be one of {levels}. Received: difficulty={difficulty!r}"),
                           levels=tuple(levels), difficulty=difficulty)
    sizes = dict(zip(("train", "validation", "test"), split_sizes))
    for split, n in sizes.items():
        if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= max_split_size:
            raise DatasetError(N_("Expected a whole number of {split} samples between 0 and {maximum}. Received: {n!r}"),
                               split=split, maximum=f"{max_split_size:,}", n=n)
    return sizes


class ShapesDataset(Dataset):
    """Synthetic shapes, generated deterministically from a seed (see the module docstring).

    Args:
        seed: changes every picture; the same seed gives the same dataset everywhere.
        image_size: side of the square pictures in pixels (16 to 512).
        train_size, validation_size, test_size: samples per split (at most 1,000,000 each).
        difficulty: "easy" (one shape, faint texture), "medium", "hard" (the default:
            up to three distractors, clutter, occluding bars, strong textures and noise) or
            "crowded" (touching shapes of one class, bars that cut one in two: for instances).
    """

    name = "shapes"
    has_masks = True
    has_boxes = True  # one box per visible object
    has_instances = True  # one instance (mask, class, box) per visible object
    MAX_SPLIT_SIZE = 1_000_000
    DIFFICULTY_LEVELS = tuple(DIFFICULTIES)  #: the difficulties drawn

    def __init__(self, seed: int = 0, image_size: int = 96, train_size: int = 2000,
                 validation_size: int = 500, test_size: int = 500, difficulty: str = "hard") -> None:
        super().__init__()
        sizes = check_generator_options(seed, image_size, (train_size, validation_size, test_size), difficulty,
                                        min_size=16, max_split_size=self.MAX_SPLIT_SIZE)
        self.seed = int(seed)
        self.difficulty = difficulty
        self.image_size = image_size
        self.sizes = sizes
        self.class_names = list(SHAPE_CLASSES)
        self.has_masks = True
        self.mask_class_names = ["background", *SHAPE_CLASSES]
        self.default_image_size = (image_size, image_size)
        self.description = LazyText(N_(
            "Built-in synthetic pictures of circles, squares, triangles, stars and crosses on "
            "cluttered, textured backgrounds. The label is the largest shape (always in front); "
            "masks mark every visible shape; boxes surround each one. No files, no download."
        ))

    def _count(self, split: str) -> int:
        return self.sizes[split]

    def _load(self, split: str, index: int) -> Sample:
        return render_shapes(self.seed, split, index, self.image_size, self.difficulty)

    def _labels(self, split: str) -> np.ndarray:
        labels = np.empty(self._count(split), np.int64)
        for index in range(len(labels)):
            rng = np.random.default_rng([self.seed, _SPLIT_CODES[split], index])
            labels[index] = _layout(rng, self.image_size, DIFFICULTIES[self.difficulty])[-1]["cls"]
        return labels


def showcase_sample(image_size: int = 160, seed: int = 0, min_objects: int = 3) -> Sample:
    """A fixed shapes sample with at least ``min_objects`` visible objects, for explanations."""
    for index in range(200):
        sample = render_shapes(seed, "test", index, image_size)
        if len(sample.boxes) >= min_objects:
            return sample
    return render_shapes(seed, "test", 0, image_size)  # pragma: no cover - seed 0 always has one
