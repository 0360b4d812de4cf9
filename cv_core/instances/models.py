"""The instance model: the lab's U-Net with Panoptic-DeepLab's two instance heads, and its compile step.

Panoptic-DeepLab (Cheng et al., 2020) finds objects bottom-up: besides the class of every pixel
(the **semantic** head, the segmentation model's own output) it predicts, per pixel, a **centre**
heatmap (how likely an object's centre is here) and an **offset** (the vector from this pixel to
the centre of the object it belongs to). Decoding (:mod:`cv_core.instances.decode`) takes the
heatmap's peaks as objects and gives every object pixel to the centre its offset points at. So two
touching squares of one class are two objects (two centres, offsets pointing apart), and a square
cut in two by a bar is one (both halves point at the same centre), which connected components of
a semantic mask get wrong both ways.

One change from Panoptic-DeepLab, as in CenterNet: the centre heatmap has **one channel per class**,
and an object's class is the channel of its peak. Measured on crowded shapes (64 validation
pictures, the Quick preset's model after 10 epochs): the semantic head puts only 15 % of object
pixels in their right class (a pixel sees too little of its shape), so Panoptic-DeepLab's majority
vote over pixels gave mask AP50 0.06 although the grouping was good (class-agnostic AP50 0.66, and
0.84 with the true classes); a centre sees the whole object.

It stands on :func:`cv_core.segmentation.build_unet` (same layers, same names); the heads read its
last decoder level at the picture's full resolution: ``centre_conv`` -> ``centre`` (sigmoid) and
``offset_conv`` -> ``offset`` (2 channels: dy, dx in units of :data:`OFFSET_SCALE` pixels).
Importing this module does not import TensorFlow; the losses module does.
"""

from __future__ import annotations

from cv_core.blocks import OPTIMIZERS, ModelArgumentError, check_choice, check_learning_rate, make_optimizer
from cv_core.i18n import N_

__all__ = ["INSTANCE_HEADS", "LOSS_WEIGHTS", "OFFSET_SCALE", "build_instance_unet", "compile_instance_model",
           "load_instance_model"]

#: The model's outputs, by name.
INSTANCE_HEADS = ("semantic", "centre", "offset")
#: Offsets are predicted in units of this many pixels (so that they are of order 1).
OFFSET_SCALE = 8.0
#: Each head's weight in the total loss. Cross-entropy on classes, CenterNet's focal loss on the
#: centre heatmap, L1 on offsets (Panoptic-DeepLab's 1 : 200 : 0.01 is for an MSE heatmap and
#: offsets in pixels; with the focal loss and offsets in 8-pixel units these are of like size).
LOSS_WEIGHTS = {"semantic": 1.0, "centre": 1.0, "offset": 1.0}


def build_instance_unet(img_size=(64, 64), num_classes=6, filters=(16, 32, 64, 128), conv_type="separable",
                        head_width=None, name="instance_unet"):
    """Build the U-Net with a semantic, a centre and an offset head (see the module docstring).

    Args:
        img_size: ``(height, width)``, multiples of ``2 ** (len(filters) - 1)``.
        num_classes: mask classes, background included (2 to 256).
        filters: the U-Net's widths, one per level; the last is the bottleneck.
        conv_type: ``"conv2d"`` or ``"separable"`` (the U-Net's 3x3 convolutions).
        head_width: channels of each instance head's 3x3 convolution; ``2 * filters[0]`` if None.
        name: the model's name.

    Returns:
        An uncompiled ``keras.Model`` from float32 images ``(B, H, W, 3)`` in [0, 255] to
        ``{"semantic": (B, H, W, num_classes) probabilities, "centre": (B, H, W, num_classes) in
        (0, 1), one heatmap of object centres per class (the background's stays empty), "offset":
        (B, H, W, 2)}``.

    Raises:
        ValueError: an argument out of range (the U-Net's checks).
    """
    from cv_core._tf import keras as _keras
    from cv_core.segmentation.models import build_unet

    unet = build_unet(img_size=img_size, num_classes=num_classes, filters=filters, conv_type=conv_type, name=name)
    keras = _keras()
    layers = keras.layers
    width = int(head_width or 2 * filters[0])
    if width < 1:
        raise ModelArgumentError(N_("Expected `head_width` >= 1. Received: head_width={value!r}"), value=head_width)
    features = unet.get_layer("dec1_act2").output
    centre = layers.Conv2D(width, 3, padding="same", activation="relu", name="centre_conv")(features)
    centre = layers.Conv2D(num_classes, 1, activation="sigmoid", name="centre",
                           bias_initializer=keras.initializers.Constant(-2.19))(centre)  # CenterNet's prior 0.1
    offset = layers.Conv2D(width, 3, padding="same", activation="relu", name="offset_conv")(features)
    offset = layers.Conv2D(2, 1, name="offset")(offset)
    semantic = layers.Identity(name="semantic")(unet.get_layer("predictions").output)
    return keras.Model(unet.input, {"semantic": semantic, "centre": centre, "offset": offset}, name=name)


def compile_instance_model(model, num_classes, learning_rate=2e-3, optimizer="adam"):
    """Compile an instance model in place: cross-entropy, focal and masked L1 losses (:data:`LOSS_WEIGHTS`).

    Keras logs ``loss`` and ``semantic_loss``, ``centre_loss``, ``offset_loss``.

    Raises:
        ValueError: a bad optimizer or learning rate, or a model whose semantic output has another
            number of classes.
    """
    check_choice("optimizer", optimizer, OPTIMIZERS)
    check_learning_rate(learning_rate)
    semantic = model.get_layer("semantic").output
    if int(semantic.shape[-1]) != int(num_classes):
        raise ValueError(f"Expected a model with {num_classes} classes for num_classes={num_classes}. "
                         f"Received: a model with {int(semantic.shape[-1])}")
    from cv_core._tf import keras as _keras
    from cv_core.instances.losses import instance_losses

    model.compile(optimizer=make_optimizer(_keras(), optimizer, learning_rate), loss=instance_losses(),
                  loss_weights=dict(LOSS_WEIGHTS))
    return model


def load_instance_model(path, compile=True):
    """Load an instance model saved with ``model.save(path)`` (a ``.keras`` file), in safe mode."""
    from cv_core._tf import keras as _keras
    from cv_core.instances import losses  # noqa: F401  (registers the custom losses)

    return _keras().models.load_model(path, compile=compile, safe_mode=True)
