"""Filter patterns: known answers on a hand-built model whose first filters are oriented
gratings (Functional, Sequential, nested), shapes and dtypes for both parameterisations,
one trace per layer, progress, regularisers, seeds and friendly errors."""

from __future__ import annotations

import numpy as np
import pytest

from cv_core.interpret import filter_count, filter_patterns, pattern_scores
from cv_core.interpret import filters as filters_module
from cv_core.interpret.filters import ascent, patterns as patterns_module

SIZE = 32
PERIOD = 6.0
ANGLES = (0, 45, 90, 135)
# Luminance, and the red-blue axis (ImageNet's second colour component): directions the
# Fourier parameterisation's decorrelated colour space can reach in a few steps.
COLOURS = (np.ones(3) / np.sqrt(3), np.array([1.0, 0.0, -1.0]) / np.sqrt(2))
LUMINANCE_FILTERS = [0, 1, 2, 3]
FAST = {"steps": 8}


def _keras():
    from cv_core._tf import keras

    return keras()


def grating_kernels(size: int = 5) -> np.ndarray:
    """(size, size, 3, 8) zero-mean unit-norm kernels: 4 orientations x 2 colour axes."""
    yy, xx = np.mgrid[:size, :size] - (size - 1) / 2
    kernels = []
    for colour in COLOURS:
        for angle in np.deg2rad(ANGLES):
            wave = np.cos(2 * np.pi * (xx * np.cos(angle) + yy * np.sin(angle)) / PERIOD)
            kernel = (wave - wave.mean())[..., None] * colour
            kernels.append(kernel / np.linalg.norm(kernel))
    return np.stack(kernels, axis=-1).astype(np.float32)


def _feature_layers():
    layers = _keras().layers
    return [layers.Rescaling(1 / 127.5, offset=-1.0, name="rescale"),
            layers.Conv2D(8, 5, activation="relu", name="gratings"),
            layers.Conv2D(8, 3, activation="relu", name="mix")]


def _head_layers():
    layers = _keras().layers
    return [layers.GlobalAveragePooling2D(name="pool"), layers.Dense(3, activation="softmax", name="predictions")]


def _set_gratings(model):
    keras = _keras()

    def walk(m):
        for layer in m.layers:
            yield from walk(layer) if isinstance(layer, keras.Model) else [layer]

    conv = next(layer for layer in walk(model) if layer.name == "gratings")
    conv.set_weights([grating_kernels(), np.zeros(8, np.float32)])
    return model


def functional_model():
    keras = _keras()
    x = inputs = keras.Input((SIZE, SIZE, 3), name="image")
    for layer in _feature_layers() + _head_layers():
        x = layer(x)
    return _set_gratings(keras.Model(inputs, x, name="functional"))


def sequential_model():
    keras = _keras()
    return _set_gratings(keras.Sequential([keras.Input((SIZE, SIZE, 3)), *_feature_layers(), *_head_layers()],
                                          name="sequential"))


def nested_model():
    keras = _keras()
    x = inner_in = keras.Input((SIZE, SIZE, 3), name="inner_image")
    for layer in _feature_layers():
        x = layer(x)
    backbone = keras.Model(inner_in, x, name="backbone")
    outer_in = keras.Input((SIZE, SIZE, 3), name="image")
    x = backbone(outer_in)
    for layer in _head_layers():
        x = layer(x)
    return _set_gratings(keras.Model(outer_in, x, name="nested"))


def fully_convolutional_model():
    keras = _keras()
    layers = keras.layers
    inputs = keras.Input((None, None, 3), name="image")
    x = layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(inputs, layers.Dense(2, activation="softmax", name="predictions")(x), name="any_size")


@pytest.fixture(scope="module")
def model():
    _keras().utils.set_random_seed(0)
    return functional_model()


@pytest.fixture(scope="module")
def mini_xception():
    from cv_core.models import build_mini_xception

    _keras().utils.set_random_seed(0)
    return build_mini_xception(input_shape=(SIZE, SIZE, 3), filters=(4, 8), augmentation=False)


def random_scores(model, layer, indices, preprocess=None, count=4) -> np.ndarray:
    """Mean activation of each filter over a few uniformly random RGB images."""
    images = np.random.default_rng(123).uniform(0, 255, (count, SIZE, SIZE, 3)).astype(np.float32)
    return np.array([pattern_scores(model, layer, images, index, preprocess=preprocess).mean() for index in indices])


# --------------------------------------------------------------------------------------
# Shapes and counts
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("parameterization", ["pixels", "fourier"])
@pytest.mark.parametrize("indices, expected", [([0], (1, SIZE, SIZE, 3)), ([3, 1, 2], (3, SIZE, SIZE, 3)),
                                               (range(8), (8, SIZE, SIZE, 3))])
def test_shape_and_dtype(model, parameterization, indices, expected):
    patterns = filter_patterns(model, "gratings", indices, parameterization=parameterization, **FAST)
    assert patterns.shape == expected
    assert patterns.dtype == np.uint8


@pytest.mark.parametrize("layer, expected", [("gratings", 8), ("mix", 8), ("block1_sepconv1", 4),
                                             ("block2_add", 8)])
def test_filter_count(model, mini_xception, layer, expected):
    target = mini_xception if layer.startswith("block") else model
    assert filter_count(target, layer) == expected


def test_mini_xception_both_parameterizations(mini_xception):
    for parameterization in ("pixels", "fourier"):
        patterns = filter_patterns(mini_xception, "block2_sepconv1", range(8), parameterization=parameterization,
                                   **FAST)
        assert patterns.shape == (8, SIZE, SIZE, 3) and patterns.dtype == np.uint8
        assert patterns.std() > 5  # not a flat grey


def test_pixels_border_is_cropped_to_grey(model):
    patterns = filter_patterns(model, "gratings", [0, 5], **FAST)
    border = round(SIZE * filters_module.CROP_FRACTION)
    assert np.all(patterns[:, :border] == 128) and np.all(patterns[:, :, -border:] == 128)
    assert patterns[:, border:-border, border:-border].std() > 20


def test_image_size_of_a_model_that_takes_any_size():
    model = fully_convolutional_model()
    assert filter_patterns(model, "conv", [0, 1], image_size=24, steps=2).shape == (2, 24, 24, 3)
    assert filter_patterns(model, "conv", [0], image_size=(16, 20), steps=2).shape == (1, 16, 20, 3)
    default = filter_patterns(model, "conv", [0], steps=1, parameterization="fourier")
    assert default.shape == (1, *filters_module.DEFAULT_IMAGE_SIZE, 3)


def test_image_size_matching_the_model_is_accepted(model):
    assert filter_patterns(model, "gratings", [0], image_size=SIZE, steps=1).shape == (1, SIZE, SIZE, 3)
    assert filter_patterns(model, "gratings", [0], image_size=(SIZE, SIZE), steps=1).shape == (1, SIZE, SIZE, 3)


# --------------------------------------------------------------------------------------
# Known answers: each pattern excites its own filter
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("builder", [functional_model, sequential_model, nested_model])
def test_pixel_patterns_raise_their_own_filter_far_above_random_images(builder):
    model = builder()
    indices = list(range(8))
    patterns = filter_patterns(model, "gratings", indices)
    scores = pattern_scores(model, "gratings", patterns, indices)
    assert np.all(scores >= 3 * random_scores(model, "gratings", indices))
    # Each pattern excites its own filter more than any other filter of the layer.
    table = np.stack([pattern_scores(model, "gratings", patterns, index) for index in indices], axis=1)
    np.testing.assert_array_equal(table.argmax(axis=1), indices)


@pytest.mark.parametrize("builder", [functional_model, nested_model])
def test_fourier_patterns_raise_their_own_filter_far_above_random_images(builder):
    model = builder()
    patterns = filter_patterns(model, "gratings", LUMINANCE_FILTERS, parameterization="fourier")
    scores = pattern_scores(model, "gratings", patterns, LUMINANCE_FILTERS)
    assert np.all(scores >= 3 * random_scores(model, "gratings", LUMINANCE_FILTERS))
    table = np.stack([pattern_scores(model, "gratings", patterns, index) for index in range(8)], axis=1)
    np.testing.assert_array_equal(table.argmax(axis=1), LUMINANCE_FILTERS)


def test_pixel_patterns_recover_the_grating_orientation(model):
    """The pattern of an oriented grating filter is a grating with that orientation."""
    patterns = filter_patterns(model, "gratings", [0, 2]).astype(np.float32).mean(axis=-1)
    border = round(SIZE * filters_module.CROP_FRACTION)
    centre = patterns[:, border:-border, border:-border]
    vertical_stripes, horizontal_stripes = centre[0], centre[1]  # angle 0: varies along x; 90: along y
    assert np.abs(np.diff(vertical_stripes, axis=1)).mean() > 2 * np.abs(np.diff(vertical_stripes, axis=0)).mean()
    assert np.abs(np.diff(horizontal_stripes, axis=0)).mean() > 2 * np.abs(np.diff(horizontal_stripes, axis=1)).mean()


def test_a_deeper_layer_is_raised_too(model):
    indices = [0, 1, 2, 3]
    patterns = filter_patterns(model, "mix", indices)
    scores = pattern_scores(model, "mix", patterns, indices)
    assert np.all(scores >= 2 * random_scores(model, "mix", indices))


@pytest.mark.slow
def test_silent_filters_wake_up(mini_xception):
    """A filter that is zero on grey images still gets a pattern (Lucid's redirected ReLU)."""
    layer = "block2_act2"
    grey = np.full((1, SIZE, SIZE, 3), 128.0, np.float32)
    silent = [i for i in range(8) if pattern_scores(mini_xception, layer, grey, i)[0] == 0.0]
    assert silent, "the fixture should have filters that are silent on grey"
    for parameterization in ("pixels", "fourier"):
        patterns = filter_patterns(mini_xception, layer, silent, parameterization=parameterization)
        assert np.all(pattern_scores(mini_xception, layer, patterns, silent) > 0), parameterization


def test_preprocess_is_used(model):
    def bgr(rgb):
        return rgb[..., ::-1]

    red_blue = [4, 5]
    patterns = filter_patterns(model, "gratings", red_blue, preprocess=bgr)
    plain = filter_patterns(model, "gratings", red_blue)
    assert not np.array_equal(patterns, plain)
    scores = pattern_scores(model, "gratings", patterns, red_blue, preprocess=bgr)
    assert np.all(scores >= 3 * random_scores(model, "gratings", red_blue, preprocess=bgr))
    # In RGB the swapped model wants the opposite colours: the two patterns' red-blue
    # contrast runs the other way round.
    def red_minus_blue(images):
        return images[..., 0].astype(np.float32) - images[..., 2].astype(np.float32)

    correlation = np.corrcoef(red_minus_blue(patterns).ravel(), red_minus_blue(plain).ravel())[0, 1]
    assert abs(correlation) < 0.9 or correlation < 0


# --------------------------------------------------------------------------------------
# Determinism, differences, regularisers
# --------------------------------------------------------------------------------------


def test_different_filters_give_different_patterns(model):
    patterns = filter_patterns(model, "gratings", range(8), **FAST).astype(np.int16)
    for i in range(8):
        for j in range(i + 1, 8):
            assert np.abs(patterns[i] - patterns[j]).mean() > 5


@pytest.mark.parametrize("parameterization", ["pixels", "fourier"])
def test_seed_makes_patterns_reproducible(model, parameterization):
    options = dict(parameterization=parameterization, jitter=2, **FAST)
    first = filter_patterns(model, "gratings", [0, 1], seed=7, **options)
    np.testing.assert_array_equal(first, filter_patterns(model, "gratings", [0, 1], seed=7, **options))
    assert not np.array_equal(first, filter_patterns(model, "gratings", [0, 1], seed=8, **options))


def test_a_filters_pattern_does_not_depend_on_its_batch(model):
    """Chunked calls (the page's progressive grid) give the same patterns as one call."""
    whole = filter_patterns(model, "gratings", [0, 1, 2, 3], **FAST).astype(np.int16)
    chunks = np.concatenate([filter_patterns(model, "gratings", [0, 1], **FAST),
                             filter_patterns(model, "gratings", [2, 3], **FAST)]).astype(np.int16)
    assert np.abs(whole - chunks).max() <= 2


@pytest.mark.parametrize("parameterization", ["pixels", "fourier"])
@pytest.mark.parametrize("regulariser", [{"jitter": 2}, {"blur": 0.5, "blur_every": 4}, {"decay": 0.05}])
def test_regularisers_change_the_result_and_keep_the_activation_high(model, parameterization, regulariser):
    """Regularisers trade some activation for looks (blur and decay most, on these fine
    gratings): the pattern changes and still beats random images at least twofold."""
    indices = LUMINANCE_FILTERS
    plain = filter_patterns(model, "gratings", indices, parameterization=parameterization)
    regularised = filter_patterns(model, "gratings", indices, parameterization=parameterization, **regulariser)
    assert np.abs(plain.astype(np.int16) - regularised).mean() > 1
    scores = pattern_scores(model, "gratings", regularised, indices)
    assert np.all(scores >= 2 * random_scores(model, "gratings", indices))


def high_frequency_share(images: np.ndarray) -> float:
    """Share of the (grey, centred) patterns' spectral power above a quarter cycle per pixel."""
    border = round(images.shape[1] * filters_module.CROP_FRACTION)
    grey = images.astype(np.float32)[:, border:-border, border:-border].mean(axis=-1)
    grey -= grey.mean(axis=(1, 2), keepdims=True)
    power = np.abs(np.fft.rfft2(grey)) ** 2
    frequency = np.hypot(np.fft.fftfreq(grey.shape[1])[:, None], np.fft.rfftfreq(grey.shape[2])[None, :])
    return float(power[:, frequency > 0.25].sum() / power.sum())


def test_fourier_patterns_are_cleaner_than_pixel_patterns(mini_xception):
    """Raw pixels climb mostly by adding high-frequency noise; the 1/frequency spectrum does not."""
    layer = "block2_sepconv1"
    pixels = filter_patterns(mini_xception, layer, range(4))
    fourier = filter_patterns(mini_xception, layer, range(4), parameterization="fourier")
    assert high_frequency_share(fourier) < 0.5 * high_frequency_share(pixels)


@pytest.fixture(scope="module")
def squeezenet(tmp_path_factory):
    from cv_core.pretrained import load_pretrained

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CONVNET_LAB_CACHE", str(tmp_path_factory.mktemp("convnet_lab_cache")))
        return load_pretrained("squeezenet")


@pytest.mark.slow
def test_on_a_trained_imagenet_model(squeezenet):
    """SqueezeNet (trained, offline): both parameterisations raise their filters far above
    random photos-sized noise, and the Fourier patterns are far cleaner."""
    model, preprocess, layer, indices = squeezenet.model, squeezenet.preprocess_tensor, "fire3_concat", [0, 1]
    noise = np.random.default_rng(0).uniform(0, 255, (2, *squeezenet.input_size, 3)).astype(np.float32)
    random = np.array([pattern_scores(model, layer, noise, i, preprocess=preprocess).mean() for i in indices])
    patterns = {}
    for parameterization in ("pixels", "fourier"):
        patterns[parameterization] = filter_patterns(model, layer, indices, preprocess=preprocess,
                                                     parameterization=parameterization)
        scores = pattern_scores(model, layer, patterns[parameterization], indices, preprocess=preprocess)
        assert np.all(scores >= 3 * random), parameterization
    assert high_frequency_share(patterns["fourier"]) < 0.5 * high_frequency_share(patterns["pixels"])


# --------------------------------------------------------------------------------------
# Compilation and progress
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("parameterization", ["pixels", "fourier"])
def test_a_layer_traces_once(parameterization):
    from cv_core.interpret import tap_model

    model = functional_model()  # a fresh model: nothing compiled yet
    options = dict(parameterization=parameterization, steps=2)
    filter_patterns(model, "gratings", [0, 1, 2], **options)
    filter_patterns(model, "gratings", [5, 6, 7], **options)  # other filters, same count
    filter_patterns(model, "gratings", [4], **options)  # another count
    filter_patterns(model, "gratings", [1, 2], jitter=3, blur=0.5, decay=0.1, learning_rate=3.0, steps=3,
                    seed=5, parameterization=parameterization)  # other settings
    step = ascent._step_function(tap_model(model, ("gratings",)), parameterization, (SIZE, SIZE), None)
    assert step.experimental_get_tracing_count() == 1


def test_a_bound_method_preprocess_compiles_once():
    from cv_core.interpret import tap_model

    class Pixels:
        def to_model(self, rgb):
            return rgb[..., ::-1]

    model, pixels = functional_model(), Pixels()
    filter_patterns(model, "gratings", [0], steps=1, preprocess=pixels.to_model)
    filter_patterns(model, "gratings", [1, 2], steps=1, preprocess=pixels.to_model)  # a new bound-method object
    compiled = [key for key in tap_model(model, ("gratings",)).functions if key.startswith("filters:step")]
    assert len(compiled) == 1


def test_scores_trace_once(model):
    from cv_core.interpret import tap_model

    images = np.zeros((3, SIZE, SIZE, 3), np.uint8)
    pattern_scores(model, "mix", images, [0, 1, 2])
    pattern_scores(model, "mix", images[:2], [5, 7])
    scores = ascent._scores_function(tap_model(model, ("mix",)), (SIZE, SIZE), None)
    assert scores.experimental_get_tracing_count() == 1


def test_progress_reaches_the_total(model):
    calls = []
    filter_patterns(model, "gratings", [0, 1], steps=5, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (5, 5)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert len(calls) >= 5


def test_progress_counts_every_slice(model, monkeypatch):
    monkeypatch.setattr(patterns_module, "SLICE_PIXELS", 2 * SIZE * SIZE)
    calls = []
    patterns = filter_patterns(model, "gratings", [0, 1, 2], steps=3, progress=lambda d, t: calls.append((d, t)))
    assert patterns.shape[0] == 3
    assert calls[-1] == (6, 6) and len(calls) == 6


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, match", [
    ({"layer_name": "nope"}, "Expected `layer_name` to be a layer"),
    ({"layer_name": "pool"}, "Expected a layer whose output is a 4-D feature map"),
    ({"layer_name": "predictions"}, "Expected a layer whose output is a 4-D feature map"),
    ({"filter_indices": []}, "Expected at least one filter index"),
    ({"filter_indices": [8]}, r"Expected filter indices in \[0, 8\)"),
    ({"filter_indices": [0, -1]}, r"Expected filter indices in \[0, 8\).*Received: \[-1\]"),
    ({"filter_indices": [1.5]}, r"Expected filter indices"),
    ({"filter_indices": list(range(300))}, "Expected at most 256 filters per call"),
    ({"filter_indices": "01"}, "Expected `filter_indices` to be a list of integers"),
    ({"steps": 0}, "Expected `steps` to be a positive integer"),
    ({"steps": 2.5}, "Expected `steps` to be a positive integer"),
    ({"learning_rate": float("nan")}, "Expected `learning_rate` to be a finite number"),
    ({"learning_rate": float("inf")}, "Expected `learning_rate` to be a finite number"),
    ({"learning_rate": 0.0}, "Expected `learning_rate` to be a finite number > 0"),
    ({"image_size": 64}, r"Expected `image_size` to match the model's input size \(32, 32\)"),
    ({"image_size": (32, 32, 3)}, "Expected `image_size` to be an integer or"),
    ({"parameterization": "wavelets"}, "Expected `parameterization` to be one of"),
    ({"jitter": -1}, "Expected `jitter`"),
    ({"jitter": 16}, "Expected `jitter`"),
    ({"blur": -0.5}, "Expected `blur`"),
    ({"blur_every": 0}, "Expected `blur_every`"),
    ({"decay": 1.0}, r"Expected `decay` in \[0, 1\)"),
    ({"seed": "x"}, "Expected `seed`"),
    ({"preprocess": "bgr"}, "Expected `preprocess` to be a callable"),
    ({"progress": 3}, "Expected `progress` to be a callable"),
])
def test_errors(model, kwargs, match):
    arguments = {"layer_name": "gratings", "filter_indices": [0], "steps": 1, **kwargs}
    with pytest.raises(ValueError, match=match):
        filter_patterns(model, **arguments)


def test_error_messages_say_what_was_received(model):
    with pytest.raises(ValueError, match=r"Received: learning_rate=nan"):
        filter_patterns(model, "gratings", [0], learning_rate=float("nan"))
    with pytest.raises(ValueError, match=r"Received: layer_name='nope'"):
        filter_count(model, "nope")


@pytest.mark.parametrize("images, indices, match", [
    (np.zeros((2, SIZE, SIZE, 3)), [0], "Expected one filter index per image"),
    (np.zeros((2, SIZE, SIZE)), [0, 1], r"Expected RGB images of shape \(n, height, width, 3\)"),
    (np.zeros((1, 16, 16, 3)), [0], "Expected `image_size` to match"),
    (np.zeros((1, SIZE, SIZE, 3)), [9], r"Expected filter indices in \[0, 8\)"),
])
def test_pattern_scores_errors(model, images, indices, match):
    with pytest.raises(ValueError, match=match):
        pattern_scores(model, "gratings", images, indices)


def test_pattern_scores_of_one_image_and_one_index(model):
    image = np.full((SIZE, SIZE, 3), 128, np.uint8)
    scores = pattern_scores(model, "gratings", image, 0)
    assert scores.shape == (1,) and scores.dtype == np.float32
