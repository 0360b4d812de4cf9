"""Sanity check (Adebayo et al., 2018): randomise the weights from the top, one block at a time."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from cv_core.i18n import _
from cv_core.interpret import _graph, base
from cv_core.interpret._graph import iter_layers, tap_model
from cv_core.interpret.base import normalize_map
from cv_core.interpret.trust._common import _check_map, _prepare
from cv_core.overlays import resize_map


def _snake_case(name: str) -> str:
    """Keras' automatic layer name for a class name: "Conv2D" -> "conv2d"."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _is_auto_named(layer) -> bool:
    return re.fullmatch(rf"{re.escape(_snake_case(type(layer).__name__))}(_\d+)?", layer.name) is not None


def _learned_layers(model) -> list:
    """Layers with learned weights, in graph order (preprocessing layers such as Normalization left out)."""
    return [layer for layer in iter_layers(model)
            if layer.weights and ".preprocessing." not in type(layer).__module__]


def _layer_groups(model) -> list[tuple[str, list]]:
    """``[(label, layers), ...]``, the top block first (see :func:`randomisation_groups`)."""
    groups: dict[str, list] = {}
    last_seen: dict[str, int] = {}
    current = None
    for position, layer in enumerate(_learned_layers(model)):
        if _is_auto_named(layer):
            label = current if current is not None else layer.name
        else:
            label = current = layer.name.split("_")[0]
        groups.setdefault(label, []).append(layer)
        last_seen[label] = position
    return [(label, groups[label]) for label in sorted(groups, key=lambda label: -last_seen[label])]


def randomisation_groups(model) -> list[tuple[str, tuple[str, ...]]]:
    """The sanity check's steps: blocks of layers with weights, from the top of the model down.

    A layer's block is its name up to the first "_" (``block3_sepconv1`` and ``block3_bn1``
    form "block3", ``fire5_squeeze1x1`` "fire5", ``predictions`` and ``conv10`` stand alone).
    A layer with an automatic Keras name (``conv2d_3``, ``batch_normalization_3``, as
    Xception's shortcut convolutions) joins the block of the named layer before it in graph
    order, which in Xception is the block the shortcut spans; with no named layer before it,
    it is a block of its own. Blocks are ordered by their topmost layer.

    Returns:
        ``[(label, layer names), ...]``, the top block first.
    """
    return [(label, tuple(layer.name for layer in layers)) for label, layers in _layer_groups(model)]


def spearman(a, b) -> float:
    """Spearman rank correlation of two arrays of the same size (ties get their mean rank).

    A constant array has no ranking: it scores 1 against an equal constant array, 0 otherwise.
    """
    from scipy.stats import spearmanr

    a = np.asarray(a, np.float64).ravel()
    b = np.asarray(b, np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"Expected two arrays of the same size. Received: sizes {a.size} and {b.size}")
    if np.array_equal(a, b):  # exactly 1 (scipy's arithmetic gives 0.9999999999999999)
        return 1.0
    if a.size == 0 or np.ptp(a) == 0 or np.ptp(b) == 0:  # scipy returns nan (with a warning) for a constant array
        return 0.0
    return float(np.clip(spearmanr(a, b).statistic, -1.0, 1.0))


def _ssim(a: np.ndarray, b: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    if min(a.shape) < 7:
        return float("nan")
    return float(structural_similarity(a, b, data_range=1.0))


def _method_functions(methods, layer_name) -> dict[str, Callable]:
    """``{label: fn(model, batch, class_index) -> (H, W)}`` from names, callables or a dict of both."""
    from cv_core.interpret import METHODS

    if isinstance(methods, Mapping):
        items = list(methods.items())
    else:
        if isinstance(methods, str) or callable(methods):
            methods = [methods]
        items = [(m if isinstance(m, str) else getattr(m, "__name__", repr(m)), m) for m in methods]
    functions = {}
    for label, method in items:
        if isinstance(method, str) and method in METHODS:
            functions[label] = _registry_method(METHODS[method], layer_name)
        elif callable(method) and not isinstance(method, str):
            functions[label] = method
        else:
            raise ValueError(f"Expected `methods` to hold names of {tuple(METHODS)} or callables. Received: {method!r}")
    if not functions:
        raise ValueError("Expected at least one method in `methods`. Received: none")
    return functions


def _registry_method(cls, layer_name) -> Callable:
    def explain(model, batch, class_index):
        return cls(model, layer_name)(batch, class_index)

    return explain


def _clone(model):
    """A copy of ``model`` with its own variables (nested models cloned too) and the same weights."""
    from cv_core._tf import keras

    clone = keras().models.clone_model(model, recursive=True)
    if not clone.weights and model.weights:
        clone.build((None, *tap_model(model).input_shape))
    clone.set_weights(model.get_weights())
    originals = {id(v) for v in model.weights}
    if any(id(v) in originals for v in clone.weights):  # never randomise a shared (cached) model
        raise RuntimeError(f"Cloning model {model.name!r} shared its weights; the sanity check would change it.")
    return clone


def _initializer(layer, variable):
    name = variable.name.split("/")[-1].split(":")[0]
    for attribute in (f"{name}_initializer", f"{name.removesuffix('_kernel')}_initializer"):
        initializer = getattr(layer, attribute, None)
        if initializer is not None and callable(initializer):
            return initializer
    return None


def _randomise(layer, seed: int) -> None:
    """Re-initialise every float weight of ``layer`` with its own initializer, seeded.

    A weight with no initializer to be found gets a normal draw of its own mean and standard
    deviation.
    """
    for position, variable in enumerate(layer.weights):
        if not np.issubdtype(np.dtype(variable.dtype), np.floating):
            continue
        draw = int(np.random.SeedSequence([seed, position]).generate_state(1)[0] % (2 ** 31 - 1))
        initializer = _initializer(layer, variable)
        if initializer is not None:
            config = initializer.get_config()
            if "seed" in config:
                initializer = type(initializer).from_config({**config, "seed": draw})
            value = initializer(tuple(variable.shape), dtype=variable.dtype)
        else:
            current = np.asarray(variable)
            value = np.random.default_rng(draw).normal(current.mean(), current.std(), current.shape)
        variable.assign(np.asarray(value, dtype=np.dtype(variable.dtype)))


def _forget_taps(model) -> None:
    """Drop ``model``'s cached tap models and their compiled functions.

    The tap-model cache is weakly keyed on the model, and a tap model snapshots the head's
    weights (for the logits): after randomising a block the clone's tap models must be
    rebuilt, and dropping them promptly releases the clone's layers and weights.
    """
    dropped = _graph.forget_taps(model)
    with base._FUNCTIONS_LOCK:
        for taps in dropped:
            taps.functions.clear()


def sanity_check(model, image, methods=("grad_cam",), class_index: int | None = None,
                 layer_name: str | None = None, seed: int = 0,
                 progress: Callable[[int, int], None] | None = None) -> dict:
    """Cascading randomisation (Adebayo et al., 2018): how far each method's map drifts.

    The model is cloned (the given model, possibly shared by a cache, is never changed); the
    clone's blocks (:func:`randomisation_groups`) are re-initialised from the top down, one
    at a time and cumulatively, each with its layers' own initializers, and after each block
    every method's heatmap of the same class is compared with the original model's.

    Args:
        model: a built Keras classifier (Functional, Sequential or nested).
        image: one picture as the model takes it, (H, W, C) or a batch of one.
        methods: names of :data:`cv_core.interpret.METHODS`, callables
            ``fn(model, image, class_index) -> (H, W) map`` (``image`` a batch of one), or a
            dict ``{label: name or callable}``.
        class_index: the class explained at every step; None takes the original model's top class.
        layer_name: the target layer of the named methods; their default when None.
        seed: seed of the re-initialisation.
        progress: called as ``progress(done, total)`` after the original and after each step.

    Returns:
        dict with ``steps`` (["original", top block, ..., bottom block]), ``layers`` ({block:
        layer names}), ``correlations`` and ``ssim`` ({method label: one float per step, the
        first 1.0}: Spearman rank correlation and structural similarity with the original
        map), ``heatmaps`` ({method label: (steps, H, W) float32 in [0, 1]}), ``verdicts``
        ({method label: :func:`sanity_verdict`}) and ``class_index``.

    Raises:
        ValueError: an unknown method, layer or class, or an image of the wrong shape.
    """
    functions = _method_functions(methods, layer_name)
    _forward, picture, index, _size = _prepare(model, image, class_index)
    batch = picture[None]
    groups = randomisation_groups(model)
    total = len(groups) + 1

    def heatmaps(current) -> dict[str, np.ndarray]:
        out = {}
        for label, function in functions.items():
            heat = _check_map(f"heatmap of {label!r}", function(current, batch, index))
            out[label] = normalize_map(resize_map(heat.astype(np.float32), picture.shape[:2]))
        return out

    original = heatmaps(model)
    maps = {label: [heat] for label, heat in original.items()}
    if progress is not None:
        progress(1, total)
    clone = _clone(model)
    try:
        head = _graph._head_layer(clone)
        for step, (_label, layers) in enumerate(_layer_groups(clone), start=1):  # the same blocks as the model's
            for position, layer in enumerate(layers):
                _randomise(layer, int(np.random.SeedSequence([seed, step, position]).generate_state(1)[0]))
            if any(layer is head for layer in layers):
                _forget_taps(clone)  # a tap model copies the head's weights to read its logits
            for label, heat in heatmaps(clone).items():
                maps[label].append(heat)
            if progress is not None:
                progress(step + 1, total)
    finally:
        _forget_taps(clone)
        del clone
    correlations = {label: [spearman(original[label], heat) for heat in stack] for label, stack in maps.items()}
    vanished = {label: [map_is_blank(heat) for heat in stack] for label, stack in maps.items()}
    steps = ["original", *(label for label, _names in groups)]
    return {
        "steps": steps,
        "layers": {label: list(names) for label, names in groups},
        "correlations": correlations,
        "vanished": vanished,
        "ssim": {label: [_ssim(original[label], heat) for heat in stack] for label, stack in maps.items()},
        "heatmaps": {label: np.stack(stack).astype(np.float32) for label, stack in maps.items()},
        "verdicts": {label: sanity_verdict(values, steps, vanished=vanished[label])
                     for label, values in correlations.items()},
        "class_index": index,
    }


def map_is_blank(heatmap) -> bool:
    """True when a map has vanished: every pixel the same (all zero, typically), so it ranks nothing."""
    heat = np.nan_to_num(np.asarray(heatmap, np.float64))
    return heat.size == 0 or float(np.ptp(heat)) <= 1e-6 * max(1.0, float(np.abs(heat).max()))


def sanity_verdict(correlations: Sequence[float], steps: Sequence[str] | None = None,
                   threshold: float = 0.5, vanished: Sequence[bool] | None = None) -> str:
    """One sentence on a method's sanity check, from its correlations (the first is the original).

    The method passes when its map, on the fully randomised model, keeps a rank correlation
    below ``threshold`` with the original; it fails at 0.8 or more; in between it is doubtful.
    A map that vanishes (``vanished``: one flag per step, see :func:`map_is_blank`) ranks no
    pixel, so its correlation of 0 means nothing: that method has not passed, whatever the
    numbers say. The sentence is in the current language (:mod:`cv_core.i18n`).
    """
    values = [float(v) for v in correlations][1:]
    if not values:
        return _("Nothing was randomised, so there is nothing to judge.")
    flags = [bool(v) for v in vanished] if vanished is not None else []
    if flags and flags[0]:
        return _("Cannot be judged: the map of the trained model is already blank (every pixel the same), "
                 "so there is nothing to compare.")
    if any(flags[1:]):
        first = flags.index(True, 1)
        if steps is not None and len(steps) > first:
            return _("Not passed: the map vanished (every pixel the same) once {block!r} was randomised. "
                     "A blank map scores a correlation of 0 without showing anything, so the method stopped "
                     "working rather than following the model's weights.").format(block=steps[first])
        return _("Not passed: the map vanished (every pixel the same) on a randomised model. A blank map scores a "
                 "correlation of 0 without showing anything, so the method stopped working rather than "
                 "following the model's weights.")
    final = values[-1]
    if final < threshold:
        first = next(i for i, v in enumerate(values) if v < threshold)
        if steps is not None and len(steps) > first + 1:
            return _("Passes: the map changes with the model's weights (rank correlation {final:.2f} on the fully "
                     "randomised model; below {threshold:g} once {block!r} is randomised), so it "
                     "explains what the model learned.").format(final=final, threshold=threshold,
                                                                block=steps[first + 1])
        return _("Passes: the map changes with the model's weights (rank correlation {final:.2f} on the fully "
                 "randomised model; below {threshold:g}), so it explains what the model learned.").format(
                   final=final, threshold=threshold)
    if final >= 0.8:
        return _("Fails: the map barely changes even when every weight is random (rank correlation {final:.2f}), "
                 "so it shows the picture, not what the model learned.").format(final=final)
    return _("Doubtful: the map only partly changes when every weight is random (rank correlation {final:.2f}); "
             "part of it comes from the picture or the architecture rather than what the model learned.").format(
               final=final)
