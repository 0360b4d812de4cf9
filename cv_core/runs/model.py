"""The model and optimizer a spec describes: one place, used by training, the pages and the anatomy view.

The worker, the benchmark, the Architecture lab's anatomy and the Segmentation page all
call :func:`build_model` with the dataset's class count (``Task.num_classes``), so what a
page shows is exactly what Train builds. The builders themselves are the task table's
(:data:`cv_core.runs.tasks.TASKS`).
"""

from __future__ import annotations

from cv_core.runs.spec import TrainSpec

__all__ = ["build_model", "compile_model", "learning_rate_schedule"]


def build_model(spec: TrainSpec, num_classes: int):
    """The uncompiled ``keras.Model`` that ``spec`` describes, built by its architecture's entry in the task table.

    Args:
        spec: a validated spec (its ``task`` and ``model`` pick the builder).
        num_classes: the width of the model's output for the spec's dataset
            (``Task.num_classes``: image classes, or mask classes for segmentation; two
            image classes give one sigmoid unit).

    Raises:
        SpecError: an unknown task or model; ValueError: the builder's own checks.
    """
    from cv_core.runs.tasks import architecture_of

    return architecture_of(spec).build(spec, num_classes)


def compile_model(spec: TrainSpec, model, num_classes: int, steps_per_epoch: int):
    """Compile ``model`` in place as its task trains it: loss, metrics, the spec's optimizer and
    learning rate (a schedule over ``steps_per_epoch * spec.epochs`` steps); returns it."""
    from cv_core.runs.tasks import task_of

    return task_of(spec).compile(model, num_classes, learning_rate_schedule(spec, steps_per_epoch), spec.optimizer)


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
