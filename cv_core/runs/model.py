"""The model and optimizer a spec describes: one place, used by training and by the anatomy view.

The Architecture lab's anatomy and the worker both call :func:`build_model`, with the
dataset's class count, so what the lab shows is exactly what Train builds.
"""

from __future__ import annotations

from cv_core.runs.spec import TrainSpec

__all__ = ["build_model", "learning_rate_schedule"]


def build_model(spec: TrainSpec, num_classes: int):
    """The uncompiled ``keras.Model`` that ``spec`` describes, from :mod:`cv_core.models`.

    Args:
        spec: a validated spec.
        num_classes: the dataset's class count (two classes give one sigmoid unit).
    """
    from cv_core import models

    input_shape = (spec.image_size, spec.image_size, 3)
    if spec.model == "small_convnet":
        return models.build_small_convnet(
            input_shape=input_shape, num_classes=num_classes, filters=tuple(spec.filters),
            augmentation=spec.augmentation, dropout_rate=spec.dropout_rate,
        )
    return models.build_mini_xception(
        input_shape=input_shape, num_classes=num_classes, conv_type=spec.conv_type,
        batchnorm=spec.batchnorm, residual=spec.residual, filters=tuple(spec.filters),
        augmentation=spec.augmentation, dropout_rate=spec.dropout_rate,
    )


def learning_rate_schedule(spec: TrainSpec, steps_per_epoch: int):
    """The spec's learning rate: a float, or a Keras schedule over all of the run's steps.

    "cosine" warms up linearly from a tenth of ``learning_rate`` over the first epoch (one
    epoch at most a tenth of the run), then decays along a cosine to zero at the last step.
    """
    if spec.lr_schedule == "constant":
        return spec.learning_rate
    from cv_core._tf import keras

    total = max(1, steps_per_epoch * spec.epochs)
    warmup = min(steps_per_epoch, total // 10) if spec.epochs > 1 else 0
    return keras().optimizers.schedules.CosineDecay(
        initial_learning_rate=spec.learning_rate / 10 if warmup else spec.learning_rate,
        decay_steps=max(1, total - warmup), alpha=0.0,
        warmup_target=spec.learning_rate if warmup else None, warmup_steps=warmup,
    )
