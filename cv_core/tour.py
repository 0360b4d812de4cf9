"""The chapter-9 tour: its steps in the slides' order (9-1 to 9-4), and what the steps show that is
plain data or plain numpy.

>>> from cv_core.tour import STEPS, step_index, neighbours
>>> [step.key for step in STEPS][:3]
['tasks', 'niche', 'segmentation']
>>> neighbours("tasks")
(None, 'niche')
>>> pictures = three_tasks()            # one shapes picture: its label, mask and boxes
>>> pictures.label, pictures.objects    # ('square', 3)

Titles and texts are English marked with ``N_`` (translated where they are shown, with
:func:`cv_core.i18n._`). Pure numpy and Pillow on import; :func:`block_layer_order` builds a model
(TensorFlow) when called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cv_core.i18n import N_

__all__ = ["BN_LISTINGS", "PRINCIPLES", "REFERENCE_GRID", "SECTIONS", "STEPS", "ThreeTasks", "TourStep",
           "block_layer_order", "instance_picture", "neighbours", "pyramid_shapes", "step_index", "three_tasks"]


@dataclass(frozen=True)
class TourStep:
    """One step of the tour.

    Attributes:
        key: its name in the URL (``?step=<key>``).
        section: the chapter's section, as the slides number it ("9-1" ... "9-4").
        title: its title in English, marked for translation.
        needs_run: the task whose trained run the step shows ("segmentation", "classification"), or None.
    """

    key: str
    section: str
    title: str
    needs_run: str | None = None


#: The chapter's four sections, as the slides name them.
SECTIONS: dict[str, str] = {
    "9-1": N_("Three essential computer vision tasks"),
    "9-2": N_("An image segmentation example"),
    "9-3": N_("Modern convnet architecture patterns"),
    "9-4": N_("Interpreting what convnets learn"),
}

#: The tour, in the slides' order.
STEPS: tuple[TourStep, ...] = (
    TourStep("tasks", "9-1", N_("The three basic tasks on one picture")),
    TourStep("niche", "9-1", N_("Three niche tasks")),
    TourStep("segmentation", "9-2", N_("Semantic and instance segmentation, and the segmentation mask"),
             needs_run="segmentation"),
    TourStep("blocks", "9-3", N_("Modular, hierarchical and reused: the pyramid")),
    TourStep("residual", "9-3", N_("Residual connections against vanishing gradients")),
    TourStep("batchnorm", "9-3", N_("Batch normalization in training and inference")),
    TourStep("bn-placement", "9-3", N_("Where batch normalization goes: listing 9.4 against 9.5")),
    TourStep("separable", "9-3", N_("Depthwise separable convolution")),
    TourStep("principles", "9-3", N_("Six convnet principles, each measured")),
    TourStep("curves", "9-3", N_("The mini-Xception's training and validation curves"), needs_run="classification"),
    TourStep("activations", "9-4", N_("Intermediate activations")),
    TourStep("filters", "9-4", N_("Filter patterns")),
    TourStep("heatmap", "9-4", N_("Class activation heatmap")),
)


def step_index(key: str | None) -> int:
    """The position of the step named ``key`` in :data:`STEPS`; 0 (the first) for an unknown or missing name."""
    for index, step in enumerate(STEPS):
        if step.key == key:
            return index
    return 0


def neighbours(key: str | None) -> tuple[str | None, str | None]:
    """The keys of the steps before and after ``key`` (None at either end)."""
    index = step_index(key)
    before = STEPS[index - 1].key if index > 0 else None
    after = STEPS[index + 1].key if index + 1 < len(STEPS) else None
    return before, after


#: The six principles of a convnet's architecture the chapter ends 9-3 with, in its order, each with
#: the name of the lab's measurement that shows it (the page computes each one).
PRINCIPLES: tuple[tuple[str, str], ...] = (
    ("blocks", N_("Organize the model into repeated blocks of layers, usually several convolution layers and a "
                  "max pooling layer.")),
    ("pyramid", N_("The number of filters should grow as the spatial size of the feature maps shrinks.")),
    ("deep", N_("Deep and narrow is better than broad and shallow.")),
    ("residual", N_("Residual connections around blocks of layers help train deeper networks.")),
    ("batchnorm", N_("Batch normalization after the convolution layers can help.")),
    ("separable", N_("SeparableConv2D layers can replace Conv2D layers: they use fewer parameters.")),
)

#: The book's two ways of placing batch normalization, as Keras code (listings 9.4 and 9.5).
BN_LISTINGS: dict[str, str] = {
    "after_activation": (
        "x = layers.Conv2D(32, 3, activation=\"relu\")(x)\n"
        "x = layers.BatchNormalization()(x)"
    ),
    "before_activation": (
        "x = layers.Conv2D(32, 3, use_bias=False)(x)\n"
        "x = layers.BatchNormalization()(x)\n"
        "x = layers.Activation(\"relu\")(x)"
    ),
}

#: The 2 × 3 grid of the Quick preset measured by the lab (18 runs: three seeds per variant, through the
#: worker, 2026-12-06; the README's *A quick run that teaches*): best validation accuracy per variant,
#: mean, standard deviation, minimum and maximum. Shown where this lab has no grid of its own yet. (Each
#: variant's parameter count comes from building it, not from here.)
REFERENCE_GRID: tuple[dict, ...] = (
    {"conv_type": "separable", "batchnorm": "before_activation",
     "mean": 0.930, "std": 0.014, "min": 0.914, "max": 0.940},
    {"conv_type": "separable", "batchnorm": "after_activation",
     "mean": 0.803, "std": 0.021, "min": 0.780, "max": 0.820},
    {"conv_type": "separable", "batchnorm": "none",
     "mean": 0.207, "std": 0.004, "min": 0.204, "max": 0.212},
    {"conv_type": "conv2d", "batchnorm": "before_activation",
     "mean": 0.961, "std": 0.008, "min": 0.954, "max": 0.970},
    {"conv_type": "conv2d", "batchnorm": "after_activation",
     "mean": 0.875, "std": 0.017, "min": 0.856, "max": 0.886},
    {"conv_type": "conv2d", "batchnorm": "none",
     "mean": 0.204, "std": 0.003, "min": 0.200, "max": 0.206},
)


@dataclass(frozen=True)
class ThreeTasks:
    """One generated shapes picture labelled the three ways of 9-1, ready to show.

    Attributes:
        sample: the :class:`~cv_core.datasets.Sample` (its ``label``, ``mask``, ``boxes``, ``instances``).
        picture: (S, S, 3) uint8, the picture itself.
        mask_picture: its segmentation mask coloured by class, a legend strip below it (uint8 RGB).
        boxes_picture: the picture with each object's box and class drawn.
        label: the class name of the whole picture (its largest shape).
        present: the class names of the objects in it, sorted.
        objects: how many objects it has (boxes).
    """

    sample: object
    picture: np.ndarray
    mask_picture: np.ndarray
    boxes_picture: np.ndarray
    label: str
    present: list[str]
    objects: int


def three_tasks(image_size: int = 320, translate: Callable[[str], str] = str) -> ThreeTasks:
    """The showcase shapes picture (:func:`cv_core.datasets.showcase_sample`) as a label, a mask and boxes.

    Args:
        image_size: the picture's side in pixels.
        translate: turns a class name ("circle", "background") into the words drawn and returned
            (:func:`cv_core.i18n._` for the reader's language); the names as they are by default.
    """
    from cv_core.datasets import SHAPE_CLASSES, showcase_sample
    from cv_core.overlays import class_palette, colorize_mask, draw_boxes, mask_legend

    sample = showcase_sample(image_size=image_size)
    names = [translate(name) for name in ["background", *SHAPE_CLASSES]]
    palette = class_palette(len(names))
    legend = mask_legend(names, palette, sample.image.shape[1])
    return ThreeTasks(
        sample=sample,
        picture=sample.image,
        mask_picture=np.concatenate([colorize_mask(sample.mask, len(names), palette), legend]),
        boxes_picture=draw_boxes(sample.image, sample.boxes, names[1:]),
        label=names[1 + sample.label],
        present=sorted({names[1 + c] for c, *_ in sample.boxes}),
        objects=len(sample.boxes),
    )


def instance_picture(instances: np.ndarray) -> np.ndarray:
    """An instance map (0 = no object, 1..N the objects) coloured one colour per object, black elsewhere.

    Two objects of one class get two colours: what an instance mask says and a semantic one cannot.

    Returns:
        (H, W, 3) uint8.
    """
    from cv_core.overlays import class_palette, colorize_mask

    instances = np.asarray(instances)
    count = int(instances.max()) + 1 if instances.size else 1
    palette = np.concatenate([np.zeros((1, 3), np.uint8), class_palette(max(1, count - 1), background_first=False)])
    return colorize_mask(instances, len(palette), palette)


def pyramid_shapes(blocks: list[dict]) -> list[tuple[str, int, int]]:
    """``(block, side, channels)`` of each ``blockN`` of an anatomy's block table (``cv_core.anatomy``):
    the feature maps' side and filter count, block by block (the pyramid of figure 9.8).

    Args:
        blocks: rows with ``block`` and ``output_shape`` ((H, W, C) or None).
    """
    out = []
    for row in blocks:
        shape = row.get("output_shape")
        if str(row.get("block", "")).startswith("block") and shape and len(shape) == 3:
            out.append((row["block"], int(shape[0]), int(shape[2])))
    return out


def block_layer_order(batchnorm: str, block: str = "block1", filters: tuple[int, ...] = (16, 32),
                      image_size: int = 48, num_classes: int = 5) -> list[tuple[str, str]]:
    """The layers of one block of the lab's mini-Xception with ``batchnorm`` placed as asked,
    in order: ``(layer name, layer type)``. Built with the same builder as training.

    Args:
        batchnorm: "before_activation" (listing 9.5), "after_activation" (listing 9.4) or "none".

    Raises:
        ValueError: an unknown placement (the builder's message).
    """
    from cv_core.anatomy import layer_table
    from cv_core.models import build_mini_xception

    model = build_mini_xception(batchnorm=batchnorm, input_shape=(image_size, image_size, 3),
                                num_classes=num_classes, filters=tuple(filters))
    return [(row["name"], row["type"]) for row in layer_table(model) if row["block"] == block]
