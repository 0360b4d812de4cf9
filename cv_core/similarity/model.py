"""The learned embedding: the lab's mini-Xception backbone, a dense embedding, length 1.

No class head: the model's output *is* the embedding, and two pictures compare by the cosine
of their vectors (:func:`cv_core.similarity.cosine_similarity`). It is trained with the
multi-similarity loss (:mod:`cv_core.similarity.losses`) on class-balanced batches, the
classes only telling which pictures are alike.

Keras is imported inside the builders, so importing this module does not import TensorFlow.
"""

from __future__ import annotations

from cv_core.blocks import (BATCHNORM_PLACEMENTS, CONV_TYPES, OPTIMIZERS, ModelArgumentError, augmentation_layers,
                            check_bool, check_choice, check_filters, check_learning_rate, check_name, is_int,
                            make_optimizer, xception_blocks)
from cv_core.classification.models import minimum_input_size
from cv_core.i18n import N_, LazyText

__all__ = ["BATCHNORM_MOMENTUM", "EMBEDDING_DIM", "build_embedding_net", "compile_embedding_net", "embedding_width"]

#: Numbers in a learned embedding: enough to keep dozens of classes apart, small enough that
#: 100,000 pictures' embeddings take 25 MB and an exact query over them stays fast.
EMBEDDING_DIM = 64

#: Batch norm's moving statistics follow the batches faster than Keras' default (0.99), as in
#: the detector: a Quick run has a few hundred steps, and at 0.99 the statistics used at
#: inference would still be partly their initial (0, 1), so validation embeddings would lag
#: far behind the training ones.
BATCHNORM_MOMENTUM = 0.9


def build_embedding_net(
    input_shape=(48, 48, 3),
    embedding_dim=EMBEDDING_DIM,
    conv_type="separable",
    batchnorm="before_activation",
    residual=True,
    filters=(16, 32, 64, 128),
    augmentation=False,
    dropout_rate=0.0,
    name="embedding_net",
):
    """Build a mini-Xception that maps a picture to a unit vector (its embedding).

    ``image`` → the book's augmentation (``augment_flip``, ``augment_rotation``,
    ``augment_zoom``; active in training only, if asked) → ``rescaling`` (1/255) → the
    mini-Xception stem and blocks of :func:`cv_core.classification.build_mini_xception`
    (``stem_conv``, ``block1_sepconv1``... the same names, so Grad-CAM and the layer pickers
    work unchanged) → ``global_pool`` → ``dropout`` (left out at rate 0) →
    ``embedding_dense`` (``Dense(embedding_dim)``, no bias) → ``embedding_bn`` (batch norm
    that centres each value, no scale) → ``embedding`` (``UnitNormalization``: every output row
    has L2 norm 1). Batch norms use momentum :data:`BATCHNORM_MOMENTUM`.

    Why the centring: a fresh network gives every picture nearly the same vector (pooled
    activations share a large common part), cosine similarities all near 1, and a pair loss
    spends hundreds of steps just spreading them; centred, they start spread and training
    learns classes from the first epochs (measured on shapes: README).

    Args:
        input_shape: ``(height, width, channels)``, channels 1 or 3, sides at least
            :func:`cv_core.classification.minimum_input_size` ``(filters)``.
        embedding_dim: numbers in the embedding, >= 2.
        conv_type: ``"separable"`` or ``"conv2d"``.
        batchnorm: ``"before_activation"``, ``"after_activation"`` or ``"none"``.
        residual: add the strided 1x1 shortcut around each block.
        filters: stem width and one block per entry.
        augmentation: include the random flip/rotation/zoom layers.
        dropout_rate: dropout before the embedding, in [0, 1).
        name: the model's name.

    Returns:
        An uncompiled ``keras.Model``: float32 pictures ``(batch, H, W, C)`` in [0, 255] →
        ``(batch, embedding_dim)`` unit vectors.

    Raises:
        ValueError: an argument out of range, or a picture too small for the depth.
    """
    check_choice("conv_type", conv_type, CONV_TYPES)
    check_choice("batchnorm", batchnorm, BATCHNORM_PLACEMENTS)
    check_bool("residual", residual)
    check_bool("augmentation", augmentation)
    check_name(name)
    filters = check_filters(filters)
    if not is_int(embedding_dim) or embedding_dim < 2:
        raise ModelArgumentError(N_("Expected `embedding_dim` to be an integer >= 2. Received: embedding_dim={value!r}"),
                                 value=embedding_dim)
    if isinstance(dropout_rate, bool) or not isinstance(dropout_rate, (int, float)) or not 0 <= dropout_rate < 1:
        raise ModelArgumentError(N_("Expected `dropout_rate` to be a number in [0, 1). Received: dropout_rate={value!r}"),
                                 value=dropout_rate)
    shape_ok = (isinstance(input_shape, (tuple, list)) and len(input_shape) == 3
                and all(is_int(d) and d > 0 for d in input_shape) and input_shape[2] in (1, 3))
    if not shape_ok:
        raise ModelArgumentError(N_("Expected `input_shape` to be (height, width, channels) with positive integer sizes "
                                    "and 1 or 3 channels. Received: input_shape={value!r}"), value=input_shape)
    minimum = minimum_input_size(filters)
    if min(input_shape[:2]) < minimum:
        raise ModelArgumentError(N_("Expected `input_shape` height and width of at least {minimum} pixels for {model} "
                                    "with these filters. Received: input_shape={value!r}"), minimum=minimum,
                                 model=LazyText(N_("the mini-Xception")), value=tuple(input_shape))

    from cv_core._tf import keras as _keras

    keras = _keras()
    layers = keras.layers
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = inputs
    if augmentation:
        for layer in augmentation_layers(layers):
            x = layer(x)
    x = layers.Rescaling(1.0 / 255, name="rescaling")(x)
    x = xception_blocks(layers, x, filters, conv_type, batchnorm, residual,
                        batchnorm_momentum=BATCHNORM_MOMENTUM)[-1]
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    if dropout_rate > 0:
        x = layers.Dropout(dropout_rate, name="dropout")(x)
    x = layers.Dense(embedding_dim, use_bias=False, name="embedding_dense")(x)
    x = layers.BatchNormalization(scale=False, momentum=BATCHNORM_MOMENTUM, name="embedding_bn")(x)
    outputs = layers.UnitNormalization(axis=-1, name="embedding")(x)
    return keras.Model(inputs, outputs, name=name)


def embedding_width(model) -> int:
    """The number of values in a model's embedding (its output's last axis)."""
    return int(model.outputs[0].shape[-1])


def compile_embedding_net(model, num_classes=None, learning_rate=1e-3, optimizer="adam"):
    """Compile an embedding model with the multi-similarity loss, in place; returns it.

    Args:
        model: a model whose output is ``(batch, D)`` embeddings.
        num_classes: ignored (the task table passes None: an embedding has no class output).
        learning_rate: a positive number or a Keras learning-rate schedule.
        optimizer: ``"adam"``, ``"rmsprop"`` or ``"sgd"``.

    Raises:
        ValueError: a bad optimizer or learning rate, or a model whose output is not a vector.
    """
    check_choice("optimizer", optimizer, OPTIMIZERS)
    check_learning_rate(learning_rate)
    if len(model.outputs) != 1 or len(model.outputs[0].shape) != 2:
        raise ValueError(f"Expected a model with one output of shape (batch, D). "
                         f"Received: outputs {[tuple(o.shape) for o in model.outputs]}")
    from cv_core._tf import keras as _keras
    from cv_core.similarity.losses import MultiSimilarityLoss

    keras = _keras()
    model.compile(optimizer=make_optimizer(keras, optimizer, learning_rate), loss=MultiSimilarityLoss())
    return model
