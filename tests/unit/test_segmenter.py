"""A segmentation model at work: joint flips and crops, predictions at any size, scores over a split."""

from __future__ import annotations

import numpy as np
import pytest

from cv_core.datasets import open_dataset
from cv_core.segmentation import (
    augment_pairs,
    box_predictions,
    evaluate_segmenter,
    predict_mask,
    predict_probabilities,
    score_predicted_boxes,
    segmentation_dataset,
)

SIZE = 32


@pytest.fixture(scope="module")
def shapes():
    return open_dataset("shapes", image_size=SIZE, train_size=16, validation_size=12, test_size=0,
                        difficulty="easy")


def constant_model(num_classes: int, favourite: int, size: int = SIZE):
    """A model that calls every pixel ``favourite`` (probability about 0.9)."""
    from cv_core._tf import keras as _keras

    keras = _keras()
    inputs = keras.Input((size, size, 3), name="image")
    bias = np.full(num_classes, -3.0, np.float32)
    bias[favourite] = 3.0
    head = keras.layers.Conv2D(num_classes, 1, activation="softmax", name="predictions", kernel_initializer="zeros",
                               bias_initializer=keras.initializers.Constant(bias))
    return keras.Model(inputs, head(inputs))


def test_flips_and_crops_move_each_image_and_its_mask_together():
    from cv_core._tf import tensorflow

    tf = tensorflow()
    rng = np.random.default_rng(0)
    masks = np.zeros((8, SIZE, SIZE), np.int32)
    for m in masks:  # a few large blocks, so a nearest-pixel mask and a bilinear image agree inside them
        for _ in range(3):
            y, x, h, w = rng.integers(0, SIZE - 8, 2).tolist() + rng.integers(6, 12, 2).tolist()
            m[y:y + h, x:x + w] = rng.integers(1, 5)
    images = np.repeat((masks * 50.0)[..., None], 3, axis=-1).astype(np.float32)
    out_images, out_masks = augment_pairs(tf, tf.constant(images), tf.constant(masks), tf.constant([0, 7], tf.int64))
    out_images, out_masks = out_images.numpy(), out_masks.numpy()
    assert out_images.shape == images.shape and out_masks.shape == masks.shape and out_masks.dtype == np.int32
    assert set(np.unique(out_masks)) <= set(np.unique(masks))  # never a blend of two classes
    agree = np.mean(np.rint(out_images[..., 0] / 50.0) == out_masks)
    assert agree > 0.93, agree  # they moved together (only block edges may differ)
    assert not np.array_equal(out_masks, masks)  # and they did move
    again = augment_pairs(tf, tf.constant(images), tf.constant(masks), tf.constant([0, 7], tf.int64))[1].numpy()
    np.testing.assert_array_equal(again, out_masks)  # the same seed, the same draw


def test_the_augmented_pipeline_yields_batches_of_the_right_shape_every_epoch_differently(shapes):
    ds = segmentation_dataset(shapes, "train", (SIZE, SIZE), batch_size=8, shuffle=False, augment=True, seed=3)
    first = [m.numpy() for _, m in ds]
    second = [m.numpy() for _, m in ds]
    assert [m.shape for m in first] == [(8, SIZE, SIZE), (8, SIZE, SIZE)]
    assert any(not np.array_equal(a, b) for a, b in zip(first, second))
    plain = [m.numpy() for _, m in segmentation_dataset(shapes, "train", (SIZE, SIZE), batch_size=8)]
    assert not all(np.array_equal(a, b) for a, b in zip(first, plain))


def test_predict_mask_at_any_picture_size():
    model = constant_model(3, favourite=2)
    picture = np.zeros((50, 70, 3), np.uint8)
    prediction = predict_mask(model, picture)
    assert prediction.probabilities.shape == (50, 70, 3)
    assert prediction.mask.shape == (50, 70) and set(np.unique(prediction.mask)) == {2}
    np.testing.assert_allclose(prediction.probabilities.sum(axis=-1), 1.0, rtol=1e-5)
    assert 0.9 < float(prediction.confidence.mean()) < 1.0
    assert predict_mask(model, picture, output_size=(8, 9)).mask.shape == (8, 9)
    assert predict_probabilities(model, np.zeros((5, SIZE, SIZE, 3))).shape == (5, SIZE, SIZE, 3)


def test_an_all_background_model_scores_the_background_share_and_nothing_else(shapes):
    names = shapes.mask_class_names
    scores = evaluate_segmenter(constant_model(len(names), favourite=0), shapes, "validation", batch_size=5)
    truths = np.stack([s.mask for s in shapes.samples("validation", count=12)])
    share = float((truths == 0).mean())
    assert scores["images"] == 12 and scores["class_names"] == names
    assert scores["iou"][0] == pytest.approx(share) and scores["pixel_accuracy"] == pytest.approx(share)
    assert scores["dice"][0] == pytest.approx(2 * share / (1 + share))
    present = [c for c in range(1, len(names)) if (truths == c).any()]
    assert all(scores["iou"][c] == 0.0 for c in present)
    assert all(scores["iou"][c] is None for c in range(1, len(names)) if c not in present)
    assert scores["mean_iou"] == pytest.approx(share / (1 + len(present)))


def test_boxes_of_an_all_background_model_find_nothing(shapes):
    model = constant_model(len(shapes.mask_class_names), favourite=0)
    predictions, truths = box_predictions(model, shapes, "validation", start=2, count=4)
    assert predictions == [[], [], [], []] and truths == [list(s.boxes) for s in shapes.samples("validation", 4, 2)]
    calls = []
    scores = score_predicted_boxes(model, shapes, batch_size=5, progress=lambda done, total: calls.append(done))
    assert calls == [5, 10, 12] and scores["images"] == 12
    assert scores["num_predictions"] == 0 and scores["recall"] == 0.0 and scores["num_truths"] > 0
