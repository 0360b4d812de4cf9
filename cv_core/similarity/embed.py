"""Pictures to embeddings: a Keras model's chosen layer, global-average-pooled, batched.

The feature model (input → chosen layer) is built once per (model, layer) and its forward
pass is one compiled ``tf.function`` with a fixed input signature, so embedding many
batches costs about what ``model.predict`` costs (``bench/similarity.py`` measures it).
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

__all__ = ["EMBEDDING_LAYERS", "embed_images", "embed_pretrained", "embedding_function"]

#: The layer whose pooled output is each pretrained model's embedding: the last feature map
#: before the ImageNet classifier (SqueezeNet's conv10 would give class scores).
EMBEDDING_LAYERS = {"squeezenet": "fire9_concat", "xception": "block14_sepconv2_act"}

_FUNCTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _default_layer(model) -> str | None:
    """None (the model's own output) for a model whose output is already a vector."""
    output = model.outputs[0] if getattr(model, "outputs", None) else None
    if output is not None and len(output.shape) == 2:
        return None
    from cv_core.interpret import last_conv_layer

    return last_conv_layer(model)


def embedding_function(model, layer_name: str | None = None):
    """A compiled ``batch → (B, D) float32`` function: ``layer_name``'s output, pooled.

    Args:
        model: a built single-input Keras model.
        layer_name: the layer to read; None = the model's output when it is a vector, else
            :func:`cv_core.interpret.last_conv_layer`. A 4-D output is averaged over space.

    Returns:
        A callable taking a float32 ``(B, *input_shape)`` batch. Cached per model and layer.

    Raises:
        ValueError: an unknown layer, or a model with several inputs.
    """
    from cv_core._tf import keras as _keras, tensorflow

    tf, keras = tensorflow(), _keras()
    name = layer_name if layer_name is not None else _default_layer(model)
    with _LOCK:
        cached = _FUNCTIONS.setdefault(model, {}).get(name)
    if cached is not None:
        return cached
    if len(model.inputs) != 1:
        raise ValueError(f"Expected a model with one input. Received: model {model.name!r} has {len(model.inputs)}.")
    if name is None:
        features = model
    elif name in {layer.name for layer in model.layers}:
        features = keras.Model(model.inputs[0], model.get_layer(name).output, name=f"{model.name}_{name}")
    else:
        from cv_core.interpret._graph import tap_model

        taps = tap_model(model, (name,)).model
        features = keras.Model(taps.inputs[0], taps.outputs[0], name=f"{model.name}_{name}")
    spec = tf.TensorSpec((None, *model.inputs[0].shape[1:]), tf.float32)

    @tf.function(input_signature=[spec])
    def embed(x):
        y = features(x, training=False)
        y = tf.reduce_mean(y, axis=[1, 2]) if len(y.shape) == 4 else y
        return tf.reshape(y, (-1, int(np.prod(y.shape[1:]))))

    with _LOCK:
        _FUNCTIONS[model][name] = embed
    return embed


def embed_images(model, images, layer_name: str | None = None, batch_size: int = 64) -> np.ndarray:
    """Embed N pictures already in the model's input space, in batches.

    Args:
        model: a built single-input Keras model.
        images: (N, H, W, C) array-like at the model's input size and preprocessing.
        layer_name: see :func:`embedding_function`.
        batch_size: pictures per forward pass.

    Returns:
        (N, D) float32 (not normalised: :func:`~cv_core.similarity.cosine_similarity` does it).

    Raises:
        ValueError: ``images`` not a 4-D batch, or a bad layer.
    """
    batch = np.asarray(images, dtype=np.float32)
    if batch.ndim != 4:
        raise ValueError(f"Expected `images` of shape (N, H, W, C). Received: shape {batch.shape}")
    if batch_size < 1:
        raise ValueError(f"Expected `batch_size` >= 1. Received: batch_size={batch_size}")
    embed = embedding_function(model, layer_name)
    parts = [np.asarray(embed(batch[start:start + batch_size])) for start in range(0, batch.shape[0], batch_size)]
    if not parts:
        width = embed.get_concrete_function().structured_outputs.shape[-1]
        return np.zeros((0, int(width)), np.float32)
    return np.concatenate(parts).astype(np.float32, copy=False)


def embed_pretrained(pictures, name: str = "squeezenet", batch_size: int = 64, weights: str | None = "imagenet"):
    """Embed RGB photos of any sizes with a pretrained ImageNet model's pooled features.

    Args:
        pictures: a sequence of (H, W, 3) RGB arrays (sizes may differ).
        name: ``"squeezenet"`` (offline) or ``"xception"`` (see :func:`cv_core.pretrained.load_pretrained`).
        batch_size: pictures per forward pass.
        weights: ``"imagenet"``, or None for random weights (tests).

    Returns:
        (N, D) float32: the layer in :data:`EMBEDDING_LAYERS`, averaged over space
        (512 values for SqueezeNet).
    """
    from cv_core.pretrained import load_pretrained

    pretrained = load_pretrained(name, weights=weights)
    layer = EMBEDDING_LAYERS[name]
    height, width = pretrained.input_size
    out = []
    for start in range(0, len(pictures), batch_size):
        chunk = [pretrained.preprocess(p)[0] for p in pictures[start:start + batch_size]]
        out.append(embed_images(pretrained.model, np.stack(chunk), layer, batch_size))
    if not out:
        return embed_images(pretrained.model, np.zeros((0, height, width, 3), np.float32), layer)
    return np.concatenate(out)
