"""A run's summary counts parameters as Keras does: the totals its own ``model.summary()`` prints."""

from __future__ import annotations

import re


def summary_counts(model) -> dict:
    lines = []
    model.summary(print_fn=lambda line, *a, **k: lines.append(line))
    text = "\n".join(lines)

    def count(label):
        return int(re.search(rf"(?m)^\s*{label} params: ([\d,]+)", text).group(1).replace(",", ""))

    return {"params": count("Total"), "trainable_params": count("Trainable"),
            "non_trainable_params": count("Non-trainable")}


def test_the_summary_counts_are_keras_own_with_frozen_and_batchnorm_weights():
    from cv_core._tf import keras
    from cv_core.runs.worker import _param_counts

    k = keras()
    inputs = k.Input((8, 8, 3))
    x = k.layers.Conv2D(4, 3, name="frozen_conv", trainable=False)(inputs)
    x = k.layers.BatchNormalization(name="bn")(x)  # moving mean and variance are not trainable
    x = k.layers.GlobalAveragePooling2D()(x)
    model = k.Model(inputs, k.layers.Dense(2, name="head")(x))
    counts = _param_counts(model)
    assert counts == summary_counts(model)
    assert counts["non_trainable_params"] > 0 and counts["params"] == model.count_params()
