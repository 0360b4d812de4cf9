"""Figures of instances: each object of a picture in its own colour with its box and label, and the
same objects against the true ones (hits, false positives, misses).

Objects are :func:`cv_core.instances.decode_instances` results (``mask``, ``class``, ``score``,
``area``, ``box`` with x1/y1 exclusive) in the pixels of the model's view; the figures show the view
enlarged by a whole factor (crisp pixels) and scale the boxes with it. Hovering a box names its
object, class, score, area and corners.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from cv_core.i18n import _, ngettext
from cv_core.overlays import class_palette, overlay_mask, upscale

__all__ = ["OUTCOME_RGB", "instance_colours", "instances_figure", "instance_outcomes_figure", "object_labels"]

#: Mask colours of the outcomes (the same greens, reds and oranges as the detection figures' outlines).
OUTCOME_RGB = {"hit": (44, 160, 44), "false positive": (214, 39, 40), "missed": (255, 127, 14)}


def instance_colours(count: int) -> np.ndarray:
    """(count, 3) uint8: one well-separated colour per object (at least one row)."""
    return class_palette(max(1, count), background_first=False)


def object_labels(objects: Sequence[dict], class_names: Sequence[str]) -> list[str]:
    """"square 2": each object's class and its number among the objects of that class, in the given order."""
    counts: dict[int, int] = {}
    labels = []
    for obj in objects:
        cls = int(obj["class"])
        counts[cls] = counts.get(cls, 0) + 1
        name = class_names[cls] if 0 <= cls < len(class_names) else _("class {index}").format(index=cls)
        labels.append(_("{name} {number}").format(name=name, number=counts[cls]))
    return labels


def _painted(view: np.ndarray, masks: Sequence[np.ndarray], colours: np.ndarray, opacity: float,
             min_side: int) -> tuple[np.ndarray, float]:
    """The view with each mask blended in its colour (the first listed on top), enlarged; and the factor."""
    ids = np.zeros(view.shape[:2], np.int32)
    for number in range(len(masks), 0, -1):
        ids[np.asarray(masks[number - 1], bool)] = number
    palette = np.concatenate([np.zeros((1, 3), np.uint8), np.asarray(colours, np.uint8).reshape(-1, 3)])
    blended = overlay_mask(view, ids, len(palette), opacity, ignore=(0,), palette=palette)
    big = upscale(blended, min_side)
    return big, big.shape[0] / view.shape[0]


def _hover(label: str, obj: dict, class_names: Sequence[str]) -> str:
    x0, y0, x1, y1 = (int(v) for v in obj["box"])
    cls = int(obj["class"])
    name = class_names[cls] if 0 <= cls < len(class_names) else _("class {index}").format(index=cls)
    return _("<b>{label}</b> · {name} · score {score:.2f}<br>{area} px · box x {x0}–{x1}, y {y0}–{y1}").format(
        label=label, name=name, score=float(obj.get("score", 0.0)), area=int(obj.get("area", np.sum(obj["mask"]))),
        x0=x0, x1=x1, y0=y0, y1=y1)


def instances_figure(view: np.ndarray, objects: Sequence[dict], class_names: Sequence[str],
                     labels: Sequence[str] | None = None, title: str | None = None, opacity: float = 0.55,
                     min_side: int = 384, figure_height: int = 440) -> go.Figure:
    """Each object's mask in its own colour over the picture, with its box and its label.

    Args:
        view: (H, W, 3) uint8, the picture at the objects' size.
        objects: the objects, best first (their order numbers them and sets their colours).
        class_names: the mask classes' names.
        labels: one label per object; default :func:`object_labels`.
        title: the figure title; default says how many objects.
        opacity: of the masks over the picture.
        min_side: the picture is enlarged to at least this side.
        figure_height: pixels.

    Returns:
        A plotly Figure: the painted picture, one outline per object (hover: class, score, area,
        box), labels that never overlap.
    """
    from cv_core.plots.detection import boxes_figure

    objects = list(objects)
    labels = list(labels) if labels is not None else object_labels(objects, class_names)
    colours = instance_colours(len(objects))
    big, scale = _painted(view, [o["mask"] for o in objects], colours, opacity, min_side)
    boxes = [(number, *o["box"], float(o.get("score", 0.0))) for number, o in enumerate(objects)]
    hovers = [_hover(label, o, class_names) for label, o in zip(labels, objects)]
    if title is None:
        title = ngettext("{count} object, in its own colour (hover: class, score, area, box)",
                         "{count} objects, each in its own colour (hover: class, score, area, box)",
                         len(objects)).format(count=len(objects))
    return boxes_figure(big, boxes, labels, colours, scale, title=title, figure_height=figure_height,
                        labels=labels, hovers=hovers, legend=False)


def instance_outcomes_figure(view: np.ndarray, objects: Sequence[dict], hit: Sequence[bool],
                             truths: Sequence[dict], found: Sequence[bool], class_names: Sequence[str],
                             title: str | None = None, opacity: float = 0.6, min_side: int = 384,
                             figure_height: int = 440) -> go.Figure:
    """The objects against the true ones: hits' masks green, false positives' red, missed true objects orange.

    The outlines are :func:`cv_core.plots.detection.outcomes_figure`'s: the found objects' boxes
    (solid), the true objects' boxes (dotted when found, dashed when missed), a legend with counts.

    Args:
        objects, hit: the found objects and which were matched (:func:`cv_core.instances.match_instances`).
        truths, found: the true objects (``mask``, ``class``) and which were matched.
        Other arguments as :func:`instances_figure`.
    """
    from cv_core.plots.detection import outcomes_figure

    objects, truths = list(objects), list(truths)
    missed = [t for t, f in zip(truths, found) if not f]
    masks = [o["mask"] for o in objects] + [t["mask"] for t in missed]
    colours = [OUTCOME_RGB["hit" if h else "false positive"] for h in hit] + [OUTCOME_RGB["missed"]] * len(missed)
    big, scale = _painted(view, masks, np.array(colours, np.uint8).reshape(-1, 3), opacity, min_side)

    def box_of(obj) -> tuple:
        ys, xs = np.nonzero(obj["mask"])
        return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1

    boxes = [(int(o["class"]), *o["box"], float(o.get("score", 0.0))) for o in objects]
    true_boxes = [(int(t["class"]), *(t.get("box") or box_of(t))) for t in truths]
    if title is None:
        title = _("Against the true objects (mask IoU ≥ 0.5, same class)")
    return outcomes_figure(big, boxes, list(hit), true_boxes, list(found), list(class_names), scale, title=title,
                           figure_height=figure_height)
