"""Model anatomy: parameters, output shapes and compute, per layer and per block.

Chapter 9's architecture lessons are about where a convnet spends its parameters and its
compute: feature maps shrink while filters grow (VGG16's pyramid), and depthwise
separable convolutions cost a fraction of regular ones. These tables make that
measurable for any functional Keras model: ours, ``keras.applications.VGG16`` or
``Xception`` (build those with ``weights=None``; nothing is downloaded here).

Multiply-adds (multiply-accumulates, MACs) are counted for one image and only for layers
that multiply by weights; bias additions, batch normalisation, activations, pooling and
merges count 0 (they are elementwise and cheap next to the convolutions):

- ``Conv1D/2D/3D``: ``prod(output spatial) * k_h * k_w * (C_in / groups) * C_out``
- ``DepthwiseConv1D/2D``: ``prod(output spatial) * k_h * k_w * C_in * depth_multiplier``
- ``SeparableConv1D/2D``: the depthwise part above plus the pointwise part
  ``prod(output spatial) * C_in * depth_multiplier * C_out``
- ``Conv*DTranspose``: ``prod(input spatial) * k_h * k_w * C_in * C_out / groups``
- ``Dense``: ``in * out`` for each position it is applied at (once for a flat input).

Layers whose output size is unknown (an input with ``None`` height or width) get
``mult_adds=None``.
"""

from __future__ import annotations

import json
import math
import re

_BLOCK_PATTERN = re.compile(r"^(block\d+)_")


# --------------------------------------------------------------------------------------
# Per layer
# --------------------------------------------------------------------------------------


def _leaf_layers(model) -> list:
    """The model's layers in order, with nested models expanded (their inputs skipped)."""
    leaves = []
    for layer in model.layers:
        if _is_model(layer):
            leaves.extend(
                inner for inner in _leaf_layers(layer) if type(inner).__name__ != "InputLayer"
            )
        else:
            leaves.append(layer)
    return leaves


def _is_model(layer) -> bool:
    from cv_core._tf import keras as _keras

    return isinstance(layer, _keras().Model)


def _shape_without_batch(tensor) -> tuple:
    shape = tensor.shape
    return tuple(None if d is None else int(d) for d in shape[1:])


def _first(tensors):
    while isinstance(tensors, (list, tuple)):
        tensors = tensors[0]
    return tensors


def _output_shape(layer) -> tuple | None:
    try:
        return _shape_without_batch(_first(layer.output))
    except (AttributeError, ValueError):
        return None


def _input_shape(layer) -> tuple | None:
    try:
        return _shape_without_batch(_first(layer.input))
    except (AttributeError, ValueError):
        return None


def _spatial(shape: tuple | None, layer) -> tuple | None:
    """Spatial dimensions of a (without-batch) feature-map shape, honouring data_format."""
    if shape is None:
        return None
    if getattr(layer, "data_format", "channels_last") == "channels_first":
        return shape[1:]
    return shape[:-1]


def _positions(dims: tuple | None) -> int | None:
    if dims is None or any(d is None for d in dims):
        return None
    return math.prod(dims)


def _size(variable) -> int:
    return math.prod(int(d) for d in variable.shape)


def layer_mult_adds(layer) -> int | None:
    """Multiply-adds one image costs in ``layer`` (see the module docstring for the rules).

    Args:
        layer: a built Keras layer that is part of a functional model.

    Returns:
        The count as an int; 0 for layers without weight multiplications; None when the
        layer's output size is unknown.
    """
    from cv_core._tf import keras as _keras

    layers = _keras().layers
    out_shape = _output_shape(layer)
    if isinstance(layer, (layers.SeparableConv1D, layers.SeparableConv2D)):
        positions = _positions(_spatial(out_shape, layer))
        if positions is None:
            return None
        return positions * (_size(layer.depthwise_kernel) + _size(layer.pointwise_kernel))
    if isinstance(layer, (layers.Conv1DTranspose, layers.Conv2DTranspose, layers.Conv3DTranspose)):
        positions = _positions(_spatial(_input_shape(layer), layer))
        return None if positions is None else positions * _size(layer.kernel)
    if isinstance(
        layer,
        (
            layers.DepthwiseConv1D,
            layers.DepthwiseConv2D,
            layers.Conv1D,
            layers.Conv2D,
            layers.Conv3D,
        ),
    ):
        positions = _positions(_spatial(out_shape, layer))
        return None if positions is None else positions * _size(layer.kernel)
    if isinstance(layer, layers.Dense):
        positions = _positions(out_shape[:-1] if out_shape is not None else None)
        return None if positions is None else positions * _size(layer.kernel)
    return 0


def _group_names(names: list[str]) -> list[str]:
    """Block of each layer: ``blockN`` prefix; else stem (before), head (after), or the open block."""
    prefixes = [_BLOCK_PATTERN.match(name) for name in names]
    block_positions = [i for i, match in enumerate(prefixes) if match]
    if not block_positions:
        return list(names)
    first, last = block_positions[0], block_positions[-1]
    groups, current = [], "stem"
    for i, match in enumerate(prefixes):
        if match:
            current = match.group(1)
            groups.append(current)
        elif i < first:
            groups.append("stem")
        elif i > last:
            groups.append("head")
        else:
            groups.append(current)  # e.g. Xception's unnamed residual conv/add after blockN_pool
    return groups


def layer_table(model) -> list[dict]:
    """Describe every layer of ``model``: its block, type, output shape, parameters and compute.

    Nested models (e.g. a ``keras.applications`` base inside a classifier) are expanded
    into their layers.

    Args:
        model: a built functional or Sequential ``keras.Model`` with a known input.

    Returns:
        One dict per layer, in model order, with keys ``name`` (str), ``block`` (str, see
        :func:`block_table`), ``type`` (class name), ``output_shape`` (tuple without the batch
        dimension, e.g. ``(H, W, C)``; None if unknown), ``params`` (int, trainable and not)
        and ``mult_adds`` (int or None, for one image).
    """
    leaves = _leaf_layers(model)
    blocks = _group_names([layer.name for layer in leaves])
    return [
        {
            "name": layer.name,
            "block": block,
            "type": type(layer).__name__,
            "output_shape": _output_shape(layer),
            "params": int(layer.count_params()) if layer.built else 0,
            "mult_adds": layer_mult_adds(layer),
        }
        for layer, block in zip(leaves, blocks)
    ]


# --------------------------------------------------------------------------------------
# Per block
# --------------------------------------------------------------------------------------


def _add_counts(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a + b


def block_table(model) -> list[dict]:
    """Sum :func:`layer_table` per block, in model order.

    A layer belongs to block ``blockN`` when its name starts with ``blockN_`` (our models,
    VGG16 and Xception all name layers this way). Unprefixed layers before the first block
    form ``stem``, those after the last block form ``head``, and those in between join the
    block before them (Xception's unnamed residual ``conv2d``/``add`` layers follow
    ``blockN_pool``). A model without any ``blockN_`` names gets one row per layer.

    Args:
        model: a built functional or Sequential ``keras.Model`` with a known input.

    Returns:
        One dict per block with keys ``block`` (str), ``layers`` (int, layer count),
        ``output_shape`` (the shape at the block's end, without the batch dimension, e.g.
        ``(H, W, C)``), ``params`` (int) and ``mult_adds`` (int, or None if unknown).
    """
    rows: dict[str, dict] = {}
    for layer in layer_table(model):
        row = rows.setdefault(
            layer["block"],
            {"block": layer["block"], "layers": 0, "output_shape": None, "params": 0, "mult_adds": 0},
        )
        row["layers"] += 1
        row["output_shape"] = layer["output_shape"]
        row["params"] += layer["params"]
        row["mult_adds"] = _add_counts(row["mult_adds"], layer["mult_adds"])
    return list(rows.values())


def total_mult_adds(model) -> int:
    """Multiply-adds of one forward pass of one image through ``model``.

    Args:
        model: a built ``keras.Model`` with a fixed input size.

    Returns:
        The total as an int (see the module docstring for what is counted).

    Raises:
        ValueError: if the model's input height or width is unknown (``None``).
    """
    total = 0
    for layer in layer_table(model):
        if layer["mult_adds"] is None:
            raise ValueError(
                "Expected a model with a fixed input size to count multiply-adds. "
                f"Received: layer {layer['name']!r} with output shape {layer['output_shape']}"
            )
        total += layer["mult_adds"]
    return total


def _ratio(a: int | None, b: int | None) -> float | None:
    if a is None or b is None or a == 0:
        return None
    return b / a


def compare_anatomy(model_a, model_b) -> list[dict]:
    """Align the blocks of two model variants to show where one saves parameters and compute.

    Typical use: the mini-Xception with ``conv_type="conv2d"`` as ``model_a`` and the
    separable one as ``model_b``; ratios below 1 are the savings.

    Args:
        model_a: the reference ``keras.Model``.
        model_b: the variant to compare with it.

    Returns:
        The rows of :func:`compare_blocks` for the two models' block tables.
    """
    return compare_blocks(block_table(model_a), block_table(model_b))


def compare_blocks(blocks_a: list[dict], blocks_b: list[dict]) -> list[dict]:
    """Align two :func:`block_table` results (so a cached table can be compared without its model).

    Returns:
        One dict per block (model A's order, then blocks only model B has) with keys
        ``block``, ``output_shape_a``/``output_shape_b``, ``params_a``/``params_b``,
        ``params_ratio`` (b / a), ``mult_adds_a``/``mult_adds_b`` and ``mult_adds_ratio``
        (b / a). A block missing from one model has 0 params and mult-adds there; a ratio
        is None when model A's count is 0 or unknown.
    """
    rows_a = {row["block"]: row for row in blocks_a}
    rows_b = {row["block"]: row for row in blocks_b}
    empty = {"output_shape": None, "params": 0, "mult_adds": 0}
    table = []
    for block in list(rows_a) + [b for b in rows_b if b not in rows_a]:
        a, b = rows_a.get(block, empty), rows_b.get(block, empty)
        table.append(
            {
                "block": block,
                "output_shape_a": a["output_shape"],
                "output_shape_b": b["output_shape"],
                "params_a": a["params"],
                "params_b": b["params"],
                "params_ratio": _ratio(a["params"], b["params"]),
                "mult_adds_a": a["mult_adds"],
                "mult_adds_b": b["mult_adds"],
                "mult_adds_ratio": _ratio(a["mult_adds"], b["mult_adds"]),
            }
        )
    return table


# --------------------------------------------------------------------------------------
# Measuring a model in a separate process
# --------------------------------------------------------------------------------------


def model_size(model) -> dict:
    """What a model costs, for one image: the numbers the resource budget checks.

    Returns:
        ``{"params", "mult_adds", "activations", "largest_map", "weight_tensors"}``: weights,
        trainable and not (``count_params()``), multiply-adds of one forward pass
        (:func:`total_mult_adds`), floats of every layer's output summed (what training keeps
        per image for the backward pass), the largest of those outputs, and the number of
        weight tensors (what a checkpoint writes one by one).
    """
    maps = [math.prod(shape) for shape in (row["output_shape"] for row in layer_table(model)) if shape]
    return {
        "params": int(model.count_params()),
        "mult_adds": int(total_mult_adds(model)),
        "activations": int(sum(maps)),
        "largest_map": int(max(maps, default=0)),
        "weight_tensors": len(model.weights),
    }


def summarise(model) -> dict:
    """The anatomy the lab shows: ``blocks`` (:func:`block_table`), ``params``, ``mult_adds``,
    ``layers`` (count) and ``name``, plus :func:`model_size`'s ``activations`` and
    ``largest_map``, as plain JSON-friendly values."""
    blocks = [{**row, "output_shape": list(row["output_shape"]) if row["output_shape"] else None}
              for row in block_table(model)]
    return {
        "blocks": blocks,
        **model_size(model),
        "layers": len(model.layers),
        "name": model.name,
    }


def build_described(description: dict):
    """Build the model a description names (no weights are loaded or downloaded).

    ``{"kind": "application", "name": "VGG16", "input_shape": [224, 224, 3]}`` builds
    ``keras.applications.VGG16(weights=None, input_shape=...)``; ``{"kind": "spec", "spec":
    {...TrainSpec fields...}, "num_classes": 5}`` builds what training builds.
    """
    from cv_core._tf import keras as _keras

    if description.get("kind") == "application":
        return getattr(_keras().applications, description["name"])(
            weights=None, input_shape=tuple(description["input_shape"]))
    from cv_core.runs import TrainSpec
    from cv_core.runs.model import build_model

    classes = description["num_classes"]
    return build_model(TrainSpec.from_architecture_key(description["spec"].items()),
                       None if classes is None else int(classes))


def summarise_in_subprocess(description: dict, timeout: float = 600.0, cpu_only: bool = False) -> dict:
    """:func:`summarise` of a described model, built in a short-lived Python process.

    TensorFlow keeps the memory of a freed model for reuse instead of returning it to the
    system, so building VGG16 (138 M parameters) in a long-lived server would leave it
    gigabytes larger for good. A separate process hands everything back when it exits.
    ``cpu_only`` hides any GPU from it (measuring needs none). A description measured before by
    the same code is answered from disk without a process (:mod:`cv_core.measurements`).

    Raises:
        ValueError: the model cannot be built (the child's message; the child's
            :class:`~cv_core.i18n.TranslatedError` itself, so it reads in the caller's language),
            or the child failed.
    """
    import os
    import subprocess
    import sys
    from pathlib import Path

    from cv_core import measurements

    kept = measurements.recall(description)
    if kept is not None:
        return kept
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "-1"} if cpu_only else None
    result = subprocess.run(
        [sys.executable, "-m", "cv_core.anatomy"], input=json.dumps(description), capture_output=True, text=True,
        timeout=timeout, cwd=str(Path(__file__).resolve().parents[1]), env=env,
    )
    if result.returncode != 0:
        translated = _translated_error(result.stderr)
        if translated is not None:
            raise translated
        lines = [line for line in result.stderr.strip().splitlines() if line.startswith("error: ")]
        raise ValueError(lines[-1].removeprefix("error: ") if lines else
                         f"Measuring the model failed (exit status {result.returncode}).")
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    measurements.remember(description, summary)
    return summary


_TRANSLATED = "translated-error: "


def _translated_error(stderr: str):
    """The child's model-argument refusal, read in the reader's language, from its last
    ``translated-error:`` line (JSON: :func:`cv_core.i18n.text_to_json`), or None."""
    from cv_core.blocks import ModelArgumentError
    from cv_core.i18n import text_from_json

    lines = [line for line in stderr.strip().splitlines() if line.startswith(_TRANSLATED)]
    if not lines:
        return None
    try:  # plain JSON, never a pickle: the sentence and its fields
        text = text_from_json(json.loads(lines[-1].removeprefix(_TRANSLATED)))
    except ValueError:  # unreadable: fall back to the English line
        return None
    return None if text is None else ModelArgumentError(text.message, text.fields)


def _main() -> int:
    """``python -m cv_core.anatomy`` < description.json: print the summary as one JSON line."""
    import sys

    try:
        description = json.loads(sys.stdin.read())
        summary = summarise(build_described(description))
    except Exception as exc:  # reported to the parent as a message
        from cv_core.i18n import TranslatedError

        if isinstance(exc, TranslatedError) and isinstance(exc, ValueError):
            from cv_core.i18n import text_to_json

            print(_TRANSLATED + json.dumps(text_to_json(exc)), file=sys.stderr)
        print(f"error: {type(exc).__name__ + ': ' if not isinstance(exc, ValueError) else ''}{exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(_main())
