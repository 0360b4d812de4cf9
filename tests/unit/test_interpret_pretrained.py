"""The offline SqueezeNet explained: its heatmaps fall on the object it names."""

from __future__ import annotations

import numpy as np
import pytest

from cv_core.datasets import resize_image
from cv_core.interpret import explain, grad_cam


@pytest.fixture(scope="module")
def squeezenet():
    from cv_core.pretrained import load_pretrained

    return load_pretrained("squeezenet")


@pytest.fixture(scope="module")
def cat_beside_coffee():
    """Chelsea the cat on the left half, the espresso cup on the right half, 224 x 448."""
    from cv_core.pretrained import sample_photos

    photos = sample_photos()
    left = resize_image(photos["chelsea"], (224, 224))
    right = resize_image(photos["coffee"], (224, 224))
    return np.concatenate([left, right], axis=1)


def _halves(net, picture, class_index):
    heat = grad_cam(net.model, net.preprocess(picture)[0], class_index=class_index)
    heat = resize_image((heat * 255).astype(np.uint8)[..., None].repeat(3, -1), picture.shape[:2])[..., 0]
    width = picture.shape[1] // 2
    return heat[:, :width].sum() / heat.sum(), heat[:, width:].sum() / heat.sum()


def test_the_cat_heatmap_falls_on_the_cat_and_the_espresso_one_on_the_cup(squeezenet, cat_beside_coffee):
    cat_left, _ = _halves(squeezenet, cat_beside_coffee, 285)  # Egyptian cat
    _, cup_right = _halves(squeezenet, cat_beside_coffee, 967)  # espresso
    assert cat_left > 0.65, cat_left  # an even spread would give 0.5
    assert cup_right > 0.65, cup_right


@pytest.mark.slow
def test_the_top_class_of_the_cat_photo_is_a_cat_and_every_method_agrees_where(squeezenet):
    from cv_core.interpret import METHODS
    from cv_core.pretrained import sample_photos

    image = squeezenet.preprocess(sample_photos()["chelsea"])[0]
    for method in METHODS:
        result = explain(squeezenet.model, image, method=method)
        assert 281 <= result.class_index <= 285
        assert result.heatmap.shape == (224, 224) and np.isfinite(result.heatmap).all()
