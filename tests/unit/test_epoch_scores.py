"""The per-epoch score callback's skeleton, and each task's callback built on it."""

import math

import numpy as np
import pytest

from cv_core.runs.epoch_scores import SampledScoresCallback


class _Counting(SampledScoresCallback):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loads = []

    def load_sample(self, model):
        self.loads.append(model)
        return np.arange(self.limit)

    def score(self, model, data):
        return {"mean": float(np.mean(data)), "size": len(data)}


def test_the_sample_is_loaded_once_for_the_model_and_each_epoch_logs_its_scores_with_the_prefix():
    callback = _Counting("a dataset", limit=5, prefix="val_")
    model = object()
    callback.set_model(model)
    logs = {"loss": 1.0}
    callback.on_epoch_end(0, logs)
    assert logs == {"loss": 1.0, "val_mean": 2.0, "val_size": 5}
    second = {}
    callback.on_epoch_end(1, second)
    assert second == {"val_mean": 2.0, "val_size": 5}
    assert callback.loads == [model]  # the same pictures every epoch
    callback.on_epoch_end(2, None)  # Keras may call without logs: nothing to add, nothing raised
    assert callback.loads == [model]


def test_a_subclass_that_does_not_say_how_to_load_or_score_is_refused_when_used():
    callback = SampledScoresCallback("a dataset")
    callback.set_model(object())
    with pytest.raises(NotImplementedError):
        callback.on_epoch_end(0, {})


@pytest.mark.slow
def test_the_instance_callback_logs_mask_ap_of_a_tiny_untrained_model_as_numbers():
    from cv_core.datasets import ShapesDataset
    from cv_core.instances.evaluate import InstanceScoresCallback
    from cv_core.instances.models import build_instance_unet

    dataset = ShapesDataset(image_size=32, train_size=4, validation_size=8, test_size=4, difficulty="crowded")
    model = build_instance_unet((32, 32), len(dataset.mask_class_names), filters=(8, 16))
    callback = InstanceScoresCallback(dataset, "validation", limit=4, batch_size=4)
    callback.set_model(model)
    logs = {}
    callback.on_epoch_end(0, logs)
    assert set(logs) == {"val_mask_ap", "val_mask_ap50", "val_mask_ap75"}
    assert all(isinstance(v, float) and not math.isnan(v) and 0.0 <= v <= 1.0 for v in logs.values())
    assert len(callback._data[0]) == 4  # the first four validation pictures, at the model's input size
    assert callback._data[0].shape[1:3] == (32, 32)
