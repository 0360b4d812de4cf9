"""From the instance model's outputs to objects: centres, then every object pixel to its centre.

Panoptic-DeepLab's grouping, in numpy, per picture:

1. **Centres**: the local maxima (equal to the maximum of their 5×5 neighbourhood) of the centre
   heatmaps' maximum over the classes, above ``centre_threshold``, at most ``max_instances``, best
   first. Each centre's class is the heatmap channel that is highest there (CenterNet's rule: a
   centre sees the whole object; a pixel of the semantic head sees a few pixels of its shape).
2. **Grouping**: every pixel the semantic head calls an object (its background probability below
   ``foreground_threshold``) moves by its predicted offset and joins the nearest centre. Two
   touching squares have two centres and their pixels point apart; the two halves of a square cut
   by a bar point at one centre.
3. **Score**: the centre's heatmap value times the mean object probability (1 − background) over
   the object's pixels. Objects smaller than ``min_area`` pixels are dropped.

With a single-channel centre heatmap (Panoptic-DeepLab's own), an object's class is the class with
the most probability summed over its pixels (the semantic head's vote).

The model runs once (:func:`predict_raw_instances`); :func:`filter_instances` then keeps the objects
above a score, which is cheap enough for a slider. :func:`connected_components` gives the baseline
the task compares with: every connected region of a class of a semantic mask is one object (scored
by its mean class probability).
"""

from __future__ import annotations

import numpy as np

from cv_core.instances.models import OFFSET_SCALE

__all__ = ["CENTRE_THRESHOLD", "MIN_AREA", "PEAK_WINDOW", "connected_components", "decode_instances",
           "filter_instances", "forward_function", "predict_instances", "predict_raw_instances"]

#: Centres below this heatmap value are not objects (Panoptic-DeepLab's 0.1).
CENTRE_THRESHOLD = 0.1
#: Side of the window a centre must be the maximum of.
PEAK_WINDOW = 5
#: Objects with fewer pixels are dropped (the datasets give no instance below 4 pixels either).
MIN_AREA = 4
#: Objects kept per picture at most (COCO scores 100).
MAX_INSTANCES = 100


def _window_max(heat: np.ndarray, window: int) -> np.ndarray:
    """The maximum of each pixel's window × window neighbourhood (separable: rows, then columns)."""
    r = window // 2
    h, w = heat.shape
    padded = np.pad(heat, r, mode="constant", constant_values=-np.inf)
    rows = padded[:, 0:w].copy()
    for k in range(1, window):
        np.maximum(rows, padded[:, k:k + w], out=rows)
    out = rows[0:h].copy()
    for k in range(1, window):
        np.maximum(out, rows[k:k + h], out=out)
    return out


def _peaks(heat: np.ndarray, threshold: float, window: int, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """(K, 2) integer (y, x) of the heatmap's local maxima above threshold, best first, and their values."""
    peaks = (heat >= _window_max(heat, window)) & (heat > threshold)
    ys, xs = np.nonzero(peaks)
    values = heat[ys, xs]
    order = np.argsort(-values, kind="stable")[:limit]
    return np.stack([ys[order], xs[order]], axis=1), values[order]


def decode_instances(semantic: np.ndarray, centre: np.ndarray, offset: np.ndarray, background: int = 0,
                     centre_threshold: float = CENTRE_THRESHOLD, min_area: int = MIN_AREA,
                     max_instances: int = MAX_INSTANCES, window: int = PEAK_WINDOW,
                     foreground_threshold: float = 0.5) -> list[dict]:
    """One picture's objects from its outputs (see the module docstring).

    Args:
        semantic: (H, W, C) class probabilities.
        centre: (H, W, C) centre heatmaps in [0, 1], one per class, or (H, W) / (H, W, 1) one for all.
        offset: (H, W, 2) offsets (dy, dx) to the centre, in ``OFFSET_SCALE`` pixels.
        background: the class that is no object.
        centre_threshold, min_area, max_instances, window: see the module constants.
        foreground_threshold: a pixel is an object's when its background probability is below this.

    Returns:
        Objects, best score first: ``{"mask": (H, W) bool, "class": int (a mask class), "score": float,
        "area": int, "box": (x0, y0, x1, y1) (x1/y1 exclusive), "centre": (x, y)}``.
    """
    semantic = np.asarray(semantic)
    h, w, num_classes = semantic.shape
    heat = np.asarray(centre).reshape(h, w, -1)
    per_class = heat.shape[-1] == num_classes and num_classes > 1
    if per_class:
        heat = heat.copy()
        heat[..., background] = 0.0
        peak_class = heat.argmax(-1)
        heat_any = heat.max(-1)
    else:
        heat_any = heat[..., 0]
    centres, values = _peaks(heat_any, centre_threshold, window, max_instances)
    thing = semantic[..., background] < foreground_threshold
    if not len(centres) or not thing.any():
        return []
    flat = np.flatnonzero(thing)
    ys, xs = np.divmod(flat, w)
    off = np.asarray(offset).reshape(-1, 2)[flat]
    ty = ys + off[:, 0] * OFFSET_SCALE
    tx = xs + off[:, 1] * OFFSET_SCALE
    # The nearest centre: argmin over c of |t - c|² = |t|² - 2 t·c + |c|², and |t|² is the same for every c.
    targets = np.stack([ty, tx], axis=1)
    points = centres.astype(np.float64)
    owner = ((points ** 2).sum(1)[None, :] - 2.0 * targets @ points.T).argmin(axis=1)
    k_count = len(centres)
    probabilities = semantic.reshape(-1, num_classes)[flat]
    areas = np.bincount(owner, minlength=k_count)
    if per_class:
        instance_classes = peak_class[centres[:, 0], centres[:, 1]]
    else:  # the semantic head's vote: the most probability summed over the object's pixels
        votes = np.zeros((k_count, num_classes))
        np.add.at(votes, owner, probabilities)
        votes[:, background] = -1.0
        instance_classes = votes.argmax(1)
    foreground = 1.0 - probabilities[:, background]
    mean_foreground = np.bincount(owner, weights=foreground, minlength=k_count) / np.maximum(areas, 1)
    labels = np.full(h * w, -1, np.int64)
    labels[flat] = owner
    kept = np.flatnonzero(areas >= min_area)
    if not len(kept):
        return []
    masks = labels.reshape(1, h, w) == kept[:, None, None]
    order = np.argsort(owner, kind="stable")  # pixels grouped by centre, for each object's box
    starts = np.concatenate([[0], np.cumsum(areas)[:-1]])[kept]
    sorted_y, sorted_x = ys[order], xs[order]
    y0, y1 = np.minimum.reduceat(sorted_y, starts), np.maximum.reduceat(sorted_y, starts)
    x0, x1 = np.minimum.reduceat(sorted_x, starts), np.maximum.reduceat(sorted_x, starts)
    found = [{"mask": masks[i], "class": int(instance_classes[k]), "score": float(values[k] * mean_foreground[k]),
              "area": int(areas[k]), "box": (int(x0[i]), int(y0[i]), int(x1[i]) + 1, int(y1[i]) + 1),
              "centre": (int(centres[k, 1]), int(centres[k, 0]))} for i, k in enumerate(kept)]
    found.sort(key=lambda o: -o["score"])
    return found


def connected_components(probabilities: np.ndarray, background: int = 0, min_area: int = MIN_AREA) -> list[dict]:
    """A semantic mask's objects the classic way: each connected region of a class (8-connected) is one.

    Args:
        probabilities: (H, W, C) class probabilities (a segmentation model's output, or the semantic
            head's).

    Returns:
        Objects as :func:`decode_instances` gives them (score: the region's mean class probability).
    """
    from cv_core.segmentation import mask_to_objects

    probabilities = np.asarray(probabilities)
    objects = mask_to_objects(probabilities.argmax(-1), probabilities, background=background, min_area=min_area)
    found = [{"mask": o["mask"], "class": int(o["class_index"]), "score": float(o["confidence"]), "area": o["area"],
              "box": tuple(o["box"])} for o in objects]
    found.sort(key=lambda o: -o["score"])
    return found


_FORWARD = "_cv_core_instance_forward"


def forward_function(model):
    """The model's forward pass as one compiled ``tf.function``, kept on the model itself (it goes with it)."""
    forward = model.__dict__.get(_FORWARD)
    if forward is None:
        from cv_core._tf import tensorflow

        tf = tensorflow()
        height, width = (int(d) for d in model.inputs[0].shape[1:3])

        @tf.function(input_signature=[tf.TensorSpec((None, height, width, 3), tf.float32)])
        def forward(images):
            return model(images, training=False)

        object.__setattr__(model, _FORWARD, forward)
    return forward


def predict_raw_instances(model, images, batch_size: int = 16) -> dict:
    """Run the model once: ``{"semantic": (N, H, W, C), "centre": (N, H, W, 1), "offset": (N, H, W, 2)}`` numpy.

    ``images`` are (N, H, W, 3) pictures at the model's input size (uint8 or float in [0, 255]); the
    forward pass is one compiled function per model (:func:`forward_function`).
    """
    images = np.asarray(images, np.float32)
    forward = forward_function(model)
    outputs = {"semantic": [], "centre": [], "offset": []}
    for start in range(0, len(images), batch_size):
        result = forward(images[start:start + batch_size])
        for key in outputs:
            outputs[key].append(np.asarray(result[key]))
    return {key: np.concatenate(value) if value else np.zeros((0,)) for key, value in outputs.items()}


def predict_instances(model, images, background: int = 0, batch_size: int = 16, **options) -> list[list[dict]]:
    """Every picture's objects: the model once, then :func:`decode_instances` (``options`` pass on)."""
    raw = predict_raw_instances(model, images, batch_size)
    return [decode_instances(raw["semantic"][i], raw["centre"][i], raw["offset"][i], background, **options)
            for i in range(len(raw["semantic"]))]


def filter_instances(objects: list[dict], score_threshold: float = 0.0) -> list[dict]:
    """The objects scoring at least ``score_threshold`` (no re-decoding: for a slider)."""
    return [o for o in objects if o["score"] >= score_threshold]
