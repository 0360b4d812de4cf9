"""Every input of the interpretation pages' cached computations is in the cache key.

``st.cache_data`` does not hash underscore arguments (the model, the picture's array, the
heatmap): each must come with a key that changes with it. For each cached computation,
change one input at a time and check that the result changes (a stale cache returns the
old result). The first bug this caught: the trust scores ignored test-time smoothing.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from cv_core.interpret.subjects import Subject
from tests.unit.test_interpret_cam import SIZE, functional_model


def _subject(key: str, seed: int) -> Subject:
    model = functional_model()
    if seed:  # another model: the same architecture with other weights
        rng = np.random.default_rng(seed)
        model.set_weights([w + rng.normal(0, 0.5, w.shape).astype(w.dtype) for w in model.get_weights()])
    return Subject(key=key, label=key, model=model, class_names=["zero", "one", "two"], input_size=(SIZE, SIZE),
                   preprocess=lambda photo: np.asarray(photo, np.float32)[None])


@pytest.fixture(scope="module")
def world():
    from ui.interpret import digest

    rng = np.random.default_rng(0)
    pictures = [rng.uniform(0, 1, (1, SIZE, SIZE, 3)).astype(np.float32) for _ in range(2)]
    return {"a": _subject("test:cache-a", 0), "b": _subject("test:cache-b", 7), "pictures": pictures,
            "keys": [digest(p) for p in pictures]}


def _same(x, y) -> bool:
    return np.array_equal(np.asarray(x), np.asarray(y))


def test_each_input_of_the_heatmap_changes_it(world):
    from ui.interpret_results import explanation

    a, b, (p0, p1), (k0, k1) = world["a"], world["b"], world["pictures"], world["keys"]
    base = explanation(a, k0, p0, "grad_cam", 1, "conv", False).heatmap
    changed = {
        "smoothing": explanation(a, k0, p0, "grad_cam", 1, "conv", True),
        "method": explanation(a, k0, p0, "smoothgrad", 1, None, False),
        "class": explanation(a, k0, p0, "grad_cam", 0, "conv", False),
        "layer": explanation(a, k0, p0, "grad_cam", 1, "keep_region", False),
        "picture": explanation(a, k1, p1, "grad_cam", 1, "conv", False),
        "model": explanation(b, k0, p0, "grad_cam", 1, "conv", False),
    }
    for name, result in changed.items():
        assert not _same(result.heatmap, base), name


def test_each_input_of_the_trust_scores_changes_them(world):
    from ui.interpret_results import explanation, trust_scores

    a, b, (p0, p1), (k0, k1) = world["a"], world["b"], world["pictures"], world["keys"]
    plain = explanation(a, k0, p0, "grad_cam", 1, "conv", False).heatmap
    smoothed = explanation(a, k0, p0, "grad_cam", 1, "conv", True).heatmap
    assert not _same(plain, smoothed)

    def curves(subject, key, picture, heatmap, class_index):
        scores = trust_scores(subject, key, picture, heatmap, class_index)
        return (scores["deletion"]["probabilities"], scores["insertion"]["probabilities"],
                scores["kept"]["probability_kept"])

    base = curves(a, k0, p0, plain, 1)
    changed = {
        "the heatmap (smoothing on)": curves(a, k0, p0, smoothed, 1),
        "the heatmap (inverted)": curves(a, k0, p0, 1.0 - plain, 1),
        "the class": curves(a, k0, p0, plain, 0),
        "the picture": curves(a, k1, p1, plain, 1),
        "the model": curves(b, k0, p0, plain, 1),
    }
    for name, result in changed.items():
        assert not all(_same(x, y) for x, y in zip(result, base)), name


def test_each_input_of_the_sanity_check_changes_it(world):
    from ui.interpret_results import sanity_scores

    a, b, (p0, p1), (k0, k1) = world["a"], world["b"], world["pictures"], world["keys"]

    def check(subject, key, picture, methods, class_index, layer):
        result = sanity_scores(subject, key, picture, methods, class_index, layer)
        return {m: result["correlations"][m] for m in methods}

    base = check(a, k0, p0, ("grad_cam",), 1, "conv")
    assert list(check(a, k0, p0, ("grad_cam", "hires_cam"), 1, "conv")) == ["grad_cam", "hires_cam"]  # methods
    changed = {
        "class": check(a, k0, p0, ("grad_cam",), 0, "conv"),
        "layer": check(a, k0, p0, ("grad_cam",), 1, "keep_region"),
        "picture": check(a, k1, p1, ("grad_cam",), 1, "conv"),
        "model": check(b, k0, p0, ("grad_cam",), 1, "conv"),
    }
    for name, result in changed.items():
        assert result != base, name


def test_each_input_of_the_activations_changes_them(world):
    from ui.interpret_results import layer_outputs

    a, b, (p0, p1), (k0, k1) = world["a"], world["b"], world["pictures"], world["keys"]
    base = layer_outputs(a, k0, p0)["conv"]
    assert not _same(layer_outputs(a, k1, p1)["conv"], base)
    assert not _same(layer_outputs(b, k0, p0)["conv"], base)


def test_a_new_version_of_a_model_file_is_another_cache_key(tmp_path):
    from ui.interpret import version

    path = tmp_path / "model.keras"
    path.write_bytes(b"")
    subject = _subject(f"file:{path}", 0)
    first = version(subject)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # the operator replaced the file
    assert version(subject) != first
    other = tmp_path / "other"
    other.mkdir()
    (other / "model.keras").write_bytes(b"")
    os.utime(other / "model.keras", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert version(_subject(f"file:{other / 'model.keras'}", 0)) != version(subject)  # same name, another folder
