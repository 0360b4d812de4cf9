"""cv_core.tour: the chapter-9 tour's steps in the slides' order, and the pictures and data its steps show."""

from __future__ import annotations

import numpy as np
import pytest

from cv_core.tour import (BN_LISTINGS, PRINCIPLES, REFERENCE_GRID, SECTIONS, STEPS, block_layer_order,
                          instance_picture, neighbours, pyramid_shapes, step_index, three_tasks)


def test_steps_follow_the_slides_sections_in_order():
    sections = [step.section for step in STEPS]
    assert sections == sorted(sections)  # 9-1, then 9-2, 9-3, 9-4: never back
    assert set(sections) == set(SECTIONS) == {"9-1", "9-2", "9-3", "9-4"}
    keys = [step.key for step in STEPS]
    assert len(set(keys)) == len(keys)
    # The list, in its order: tasks, niche tasks; segmentation; the 9-3 patterns; the 9-4 views.
    assert keys == ["tasks", "niche", "segmentation", "blocks", "residual", "batchnorm", "bn-placement",
                    "separable", "principles", "curves", "activations", "filters", "heatmap"]
    assert {step.key: step.needs_run for step in STEPS if step.needs_run} == {
        "segmentation": "segmentation", "curves": "classification"}


@pytest.mark.parametrize("key, index, before, after", [
    ("tasks", 0, None, "niche"),
    ("segmentation", 2, "niche", "blocks"),
    ("heatmap", len(STEPS) - 1, "filters", None),
    ("no-such-step", 0, None, "niche"),  # an unknown name (a typed URL) is the first step
    (None, 0, None, "niche"),
])
def test_step_index_and_neighbours(key, index, before, after):
    assert step_index(key) == index
    assert neighbours(key) == (before, after)


def test_six_principles_in_the_books_order():
    assert [key for key, _ in PRINCIPLES] == ["blocks", "pyramid", "deep", "residual", "batchnorm", "separable"]
    assert all(text.endswith(".") for _, text in PRINCIPLES)


def test_bn_listings_are_the_books_two_placements():
    after, before = BN_LISTINGS["after_activation"], BN_LISTINGS["before_activation"]
    assert 'activation="relu"' in after and after.index("Conv2D") < after.index("BatchNormalization")
    assert "use_bias=False" in before
    assert before.index("BatchNormalization") < before.index('Activation("relu")')


def test_three_tasks_on_the_showcase_picture():
    from cv_core.datasets import SHAPE_CLASSES, showcase_sample

    shown = three_tasks(image_size=96)
    sample = showcase_sample(image_size=96)
    assert np.array_equal(shown.picture, sample.image)
    assert shown.label == SHAPE_CLASSES[sample.label]
    assert shown.objects == len(sample.boxes) >= 3
    assert shown.present == sorted({SHAPE_CLASSES[box[0]] for box in sample.boxes})
    height, width = sample.image.shape[:2]
    # The mask picture: the mask coloured by class, a legend strip below it.
    assert shown.mask_picture.shape[1] == width and shown.mask_picture.shape[0] > height
    assert (shown.mask_picture[:height][sample.mask == 0] == 0).all()  # the background is black
    assert shown.boxes_picture.shape == sample.image.shape and not np.array_equal(shown.boxes_picture, sample.image)


def test_instance_picture_gives_two_objects_of_one_class_two_colours():
    instances = np.zeros((8, 8), np.int64)
    instances[1:3, 1:3] = 1
    instances[5:7, 5:7] = 2
    picture = instance_picture(instances)
    assert picture.shape == (8, 8, 3) and picture.dtype == np.uint8
    assert (picture[instances == 0] == 0).all()
    first, second = picture[1, 1], picture[5, 5]
    assert first.any() and second.any() and not np.array_equal(first, second)


def test_instance_picture_of_the_showcase_separates_what_the_semantic_mask_merges():
    from cv_core.datasets import showcase_sample

    sample = showcase_sample(image_size=96)
    picture = instance_picture(sample.instances)
    colours = {tuple(picture[sample.instances == i][0]) for i in range(1, int(sample.instances.max()) + 1)}
    assert len(colours) == int(sample.instances.max())  # one colour per object
    assert len(colours) > len(np.unique(sample.mask[sample.mask > 0]))  # more than the mask's classes


def test_pyramid_shapes_reads_the_blocks_of_an_anatomy():
    blocks = [{"block": "stem", "output_shape": [46, 46, 16]},
              {"block": "block1", "output_shape": [23, 23, 16]},
              {"block": "block2", "output_shape": [12, 12, 32]},
              {"block": "head", "output_shape": [5]}]
    assert pyramid_shapes(blocks) == [("block1", 23, 16), ("block2", 12, 32)]
    assert pyramid_shapes([]) == []


@pytest.mark.slow
def test_block_layer_order_follows_the_batchnorm_placement():
    def order(placement):
        return [name for name, _ in block_layer_order(placement)]

    before, after, none = order("before_activation"), order("after_activation"), order("none")
    assert before.index("block1_bn1") < before.index("block1_act1") < before.index("block1_sepconv1")
    assert after.index("block1_sepconv1") < after.index("block1_act1") < after.index("block1_bn1")
    assert not any("_bn" in name for name in none)
    kinds = dict(block_layer_order("before_activation"))
    assert kinds["block1_sepconv1"] == "SeparableConv2D" and kinds["block1_bn1"] == "BatchNormalization"
    with pytest.raises(ValueError, match="Received"):
        block_layer_order("sideways")


def test_reference_grid_has_the_six_variants_of_the_grid():
    assert {(r["conv_type"], r["batchnorm"]) for r in REFERENCE_GRID} == {
        (c, b) for c in ("separable", "conv2d") for b in ("before_activation", "after_activation", "none")}
    assert all(r["min"] <= r["mean"] <= r["max"] and r["std"] >= 0 for r in REFERENCE_GRID)


def test_three_tasks_draws_the_class_names_it_is_given():
    shown = three_tasks(image_size=96, translate=str.upper)
    plain = three_tasks(image_size=96)
    assert shown.label == plain.label.upper() and shown.present == sorted(n.upper() for n in plain.present)
    assert np.array_equal(shown.picture, plain.picture)
    assert not np.array_equal(shown.boxes_picture, plain.boxes_picture)  # other words on the boxes
    assert not np.array_equal(shown.mask_picture, plain.mask_picture)  # and in the legend
