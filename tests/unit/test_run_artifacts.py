"""load_best_model: a run's best.keras loads safely, and a missing or bad file says why."""

from __future__ import annotations

import numpy as np
import pytest

from cv_core.runs import RunModelError, best_model_path, load_best_model


def test_loads_the_saved_model_and_predicts_the_same(tmp_path):
    from cv_core.models import build_mini_xception

    model = build_mini_xception(input_shape=(32, 32, 3), num_classes=3, filters=(4, 8), augmentation=False)
    model.save(best_model_path(tmp_path))
    loaded = load_best_model(tmp_path)
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0), atol=1e-6)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]


def test_missing_model_says_no_epoch_finished(tmp_path):
    with pytest.raises(RunModelError, match="no saved model yet"):
        load_best_model(tmp_path)


def test_corrupt_model_file_is_a_clear_error(tmp_path):
    best_model_path(tmp_path).write_bytes(b"not a zip file")
    with pytest.raises(RunModelError, match="could not be loaded"):
        load_best_model(tmp_path)
