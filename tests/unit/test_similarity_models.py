"""Embeddings from a Keras model's layer, and the why-similar maps, on tiny hand-set models."""

from __future__ import annotations

import numpy as np
import pytest

from cv_core.similarity import embed_images, why_similar


@pytest.fixture(scope="module")
def pattern_model():
    """16 × 16 × 3 → a 1 × 1 convolution copying each channel (ReLU) → global average: three features."""
    import keras

    inputs = keras.Input((16, 16, 3), name="image")
    features = keras.layers.Conv2D(3, 1, activation="relu", name="features")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D(name="embedding")(features)
    model = keras.Model(inputs, pooled, name="pattern")
    model.get_layer("features").set_weights([np.eye(3, dtype=np.float32)[None, None], np.zeros(3, np.float32)])
    return model


def test_embed_images_pools_the_chosen_layer_in_batches(pattern_model):
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, size=(7, 16, 16, 3)).astype(np.float32)
    want = images.mean(axis=(1, 2))  # identity features, averaged over space
    np.testing.assert_allclose(embed_images(pattern_model, images, batch_size=3), want, atol=1e-5)
    np.testing.assert_allclose(embed_images(pattern_model, images, layer_name="features", batch_size=2), want,
                               atol=1e-5)
    assert embed_images(pattern_model, images[:0]).shape == (0, 3)
    with pytest.raises(ValueError, match="layer"):
        embed_images(pattern_model, images, layer_name="nope")
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        embed_images(pattern_model, images[0])


def test_why_similar_highlights_the_shared_pattern(pattern_model):
    # Channel 0 holds a bright 4 × 4 pattern, top-left in one picture and bottom-right in the
    # other; each picture also has a background of its own (channel 1, resp. channel 2).
    a = np.zeros((16, 16, 3), np.float32)
    b = np.zeros((16, 16, 3), np.float32)
    a[1:5, 1:5, 0] = 1.0
    b[11:15, 11:15, 0] = 1.0
    a[..., 1] = 0.5
    b[..., 2] = 0.5
    heat_a, heat_b, similarity = why_similar(pattern_model, a, b)
    e_a, e_b = a.mean(axis=(0, 1)), b.mean(axis=(0, 1))
    assert similarity == pytest.approx(float(e_a @ e_b / np.linalg.norm(e_a) / np.linalg.norm(e_b)), abs=1e-5)
    for heat, (top, left) in ((heat_a, (1, 1)), (heat_b, (11, 11))):
        assert heat.shape == (16, 16) and np.isfinite(heat).all()
        assert heat.min() >= 0.0 and heat.max() == pytest.approx(1.0)
        row, col = np.unravel_index(np.argmax(heat), heat.shape)
        assert top <= row < top + 4 and left <= col < left + 4
        outside = heat.copy()
        outside[max(top - 2, 0):top + 6, max(left - 2, 0):left + 6] = 0  # the pattern and its resize blur
        assert outside.max() < 0.05


def test_why_similar_of_identical_pictures_is_empty_and_checks_shapes(pattern_model):
    picture = np.random.default_rng(1).uniform(0.1, 1, size=(16, 16, 3)).astype(np.float32)
    heat_a, heat_b, similarity = why_similar(pattern_model, picture, picture)
    assert similarity == pytest.approx(1.0, abs=1e-5)
    assert np.all(heat_a == 0) and np.all(heat_b == 0)  # the maximum: no direction raises it
    with pytest.raises(ValueError, match="Resize"):
        why_similar(pattern_model, picture, picture[:8])


def test_embed_pretrained_gives_squeezenet_pooled_features_for_photos_of_any_size():
    from cv_core.pretrained import load_pretrained
    from cv_core.similarity import EMBEDDING_LAYERS, embed_pretrained

    rng = np.random.default_rng(2)
    photos = [rng.integers(0, 256, size=shape, dtype=np.uint8) for shape in ((50, 70, 3), (224, 224, 3), (30, 30, 3))]
    embeddings = embed_pretrained(photos, weights=None, batch_size=2)
    assert embeddings.shape == (3, 512) and np.isfinite(embeddings).all()
    pretrained = load_pretrained("squeezenet", weights=None)
    import keras

    layer = keras.Model(pretrained.model.inputs[0], pretrained.model.get_layer(EMBEDDING_LAYERS["squeezenet"]).output)
    want = np.asarray(layer(pretrained.preprocess(photos[0]))).mean(axis=(1, 2))[0]
    np.testing.assert_allclose(embeddings[0], want, rtol=1e-4, atol=1e-5)


def test_embed_images_reads_a_layer_inside_a_nested_model(pattern_model):
    import keras

    inputs = keras.Input((16, 16, 3))
    outer = keras.Model(inputs, keras.layers.Dense(2, name="head")(pattern_model(inputs)), name="outer")
    images = np.random.default_rng(3).uniform(0, 1, size=(5, 16, 16, 3)).astype(np.float32)
    np.testing.assert_allclose(embed_images(outer, images, layer_name="features"), images.mean(axis=(1, 2)),
                               atol=1e-5)
    assert embed_images(outer, images).shape == (5, 2)  # a vector output is the embedding itself
