"""Why two pictures look alike to a model: a Grad-CAM-style map per picture.

Grad-CAM (Selvaraju et al., 2017) with the cosine similarity of the two embeddings as the
target instead of a class score: the gradient of the similarity with respect to each
picture's feature map, averaged over space, weights that map's channels; the ReLU of the
weighted sum shows the regions that raise the similarity. The weighting is
:class:`cv_core.interpret.GradCAM`'s own, the layer choice and the tap model
``cv_core.interpret``'s.

Two identical embeddings sit at the similarity's maximum, where its gradient is zero: the
same picture twice (any pair within :data:`SAME_EMBEDDING` of similarity 1) gives two
empty (all-zero) maps rather than normalised rounding noise.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SAME_EMBEDDING", "why_similar"]

#: Pairs whose cosine similarity is within this of 1 count as one embedding (empty maps).
SAME_EMBEDDING = 1e-6


def _similarity_function(model, layer_name: str, embedding_layer: str | None):
    """A compiled ``(2, H, W, C) batch → (similarity, maps (2, H, W))`` function, cached on the tap model."""
    from cv_core._tf import tensorflow
    from cv_core.interpret.base import _cached_function
    from cv_core.interpret.grad_cam import GradCAM
    from cv_core.interpret._graph import tap_model

    tf = tensorflow()
    names = (layer_name,) if embedding_layer is None else (layer_name, embedding_layer)
    taps = tap_model(model, names)
    height, width = taps.input_shape[:2]

    def make():
        tapped = taps.model

        @tf.function(input_signature=[tf.TensorSpec((2, *taps.input_shape), tf.float32)])
        def run(x):
            with tf.GradientTape() as tape:
                outputs = tapped(x, training=False)
                features = outputs[0]
                embedding = outputs[1] if embedding_layer is not None else outputs[-1]
                if len(embedding.shape) == 4:
                    embedding = tf.reduce_mean(embedding, axis=[1, 2])
                embedding = tf.math.l2_normalize(tf.reshape(embedding, (2, -1)), axis=-1)
                similarity = tf.reduce_sum(embedding[0] * embedding[1])
            gradients = tape.gradient(similarity, features)
            cam = tf.nn.relu(GradCAM.weight_activations(tf, features, gradients))
            cam = tf.image.resize(cam[..., None], (height, width), method="bilinear")[..., 0]
            return similarity, cam

        return run

    return _cached_function(taps, f"why_similar:{embedding_layer}", make)


def why_similar(model, image_a, image_b, layer_name: str | None = None,
                embedding_layer: str | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """A heatmap per picture of the regions that drive the two pictures' similarity.

    Args:
        model: a built single-input Keras model (an embedding model, or a classifier whose
            ``embedding_layer`` is read).
        image_a, image_b: (H, W, C) pictures in the model's input space, at its input size.
        layer_name: the feature map explained; :func:`cv_core.interpret.last_conv_layer` by default.
        embedding_layer: the layer whose output (averaged over space if 4-D) is the
            embedding; None = the model's output.

    Returns:
        (heatmap_a (H, W) float32 in 0..1, heatmap_b (H, W) float32 in 0..1, the cosine
        similarity of the two embeddings). Both maps are zero for one embedding twice.

    Raises:
        ValueError: pictures of another shape than the model's input, or an unknown layer.
    """
    from cv_core.interpret import last_conv_layer
    from cv_core.interpret._graph import as_batch
    from cv_core.interpret.base import normalize_map

    layer_name = layer_name or last_conv_layer(model)
    expected = tuple(model.inputs[0].shape[1:])
    pair = [as_batch(image_a), as_batch(image_b)]
    if any(tuple(one.shape[1:]) != expected for one in pair):
        raise ValueError(f"Expected two pictures of shape {expected} for model {model.name!r}. "
                         f"Received: {np.shape(image_a)} and {np.shape(image_b)}. Resize (and preprocess) them first.")
    similarity, cams = _similarity_function(model, layer_name, embedding_layer)(np.concatenate(pair))
    similarity = float(similarity)
    if similarity > 1.0 - SAME_EMBEDDING:  # at the maximum: a gradient of rounding noise, nothing to show
        empty = np.zeros(expected[:2], np.float32)
        return empty, empty.copy(), similarity
    cams = np.asarray(cams)
    return normalize_map(cams[0]), normalize_map(cams[1]), similarity
