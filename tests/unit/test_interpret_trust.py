"""Trust scores: known answers on hand-built models whose class score depends on one region
(deletion/insertion, keeping the heat region), hand-made masks (localisation), and the
cascading randomisation sanity check, which must fail for a method that ignores the model."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from cv_core.interpret import (
    causal_curves,
    class_probabilities,
    deletion_curve,
    grad_cam,
    insertion_curve,
    keep_heat_region,
    localisation,
    randomisation_groups,
    sanity_check,
    sanity_verdict,
    spearman,
)
from cv_core.interpret.trust import (
    AUC_MARGIN,
    KEPT_GOOD,
    KEPT_POOR,
    LOW_CHANCE,
    class_chance_note,
    map_is_blank,
    read_deletion,
    read_insertion,
    read_kept,
    read_localisation,
    read_trust,
)
from tests.unit.test_interpret_cam import REGION, SIZE, functional_model, nested_model

CLASS = 1  # the class the region's features raise


def _keras():
    from cv_core._tf import keras

    return keras()


def _image(seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (SIZE, SIZE, 3)).astype(np.float32)


def _region_map():
    heat = np.zeros((SIZE, SIZE), np.float32)
    heat[REGION] = 1.0
    return heat


def _probability(model, image):
    return float(np.asarray(model(np.asarray(image, np.float32)[None], training=False))[0, CLASS])


@pytest.fixture(scope="module", params=["functional", "nested"])
def region_model(request):
    return {"functional": functional_model, "nested": nested_model}[request.param]()


# --------------------------------------------------------------------------------------
# Deletion and insertion
# --------------------------------------------------------------------------------------


def test_deletion_and_insertion_rank_the_true_heatmap_above_inverted_and_random(region_model):
    image, heat = _image(), _region_map()
    full = _probability(region_model, image)
    blank = _probability(region_model, np.zeros_like(image))
    assert full > blank + 0.3  # the region carries the class

    steps = 16
    good = deletion_curve(region_model, image, heat, CLASS, steps=steps, baseline="zeros", batch_size=5)
    bad = deletion_curve(region_model, image, 1.0 - heat, CLASS, steps=steps, baseline="zeros")
    assert len(good["fractions"]) == len(good["probabilities"]) == steps + 1
    assert good["fractions"][0] == 0.0 and good["fractions"][-1] == 1.0
    assert good["probabilities"][0] == pytest.approx(full, abs=1e-5)   # starts at the image
    assert good["probabilities"][-1] == pytest.approx(blank, abs=1e-5)  # ends at the baseline
    assert good["auc"] < good["random_auc"] - 0.1 and good["auc"] < bad["auc"] - 0.2
    assert good["random_probabilities"].shape == (steps + 1,)

    good = insertion_curve(region_model, image, heat, CLASS, steps=steps, baseline="zeros")
    bad = insertion_curve(region_model, image, 1.0 - heat, CLASS, steps=steps, baseline="zeros")
    assert good["probabilities"][0] == pytest.approx(blank, abs=1e-5)  # starts at the baseline
    assert good["probabilities"][-1] == pytest.approx(full, abs=1e-5)  # ends at the image
    assert good["auc"] > good["random_auc"] + 0.1 and good["auc"] > bad["auc"] + 0.2
    # the region is 100 of 1024 pixels: revealed hottest first, it is all in by fraction 1/8
    assert good["probabilities"][2] == pytest.approx(full, abs=1e-5)


def test_curves_default_to_the_top_class_and_the_papers_baselines():
    scipy_ndimage = pytest.importorskip("scipy.ndimage")
    model = functional_model()
    image, heat = _image(1), _region_map()
    both = causal_curves(model, image, heat, steps=4, random_orders=0)
    assert both["deletion"]["class_index"] == CLASS and both["deletion"]["baseline"] == "zeros"
    assert both["insertion"]["baseline"] == "blur"
    assert both["deletion"]["random_auc"] is None and both["deletion"]["random_probabilities"] is None
    # insertion starts from the image blurred as RISE does (sigma 5 px at 224 px, at least 1 px)
    blurred = scipy_ndimage.gaussian_filter(image, sigma=(1, 1, 0), truncate=3.0)
    assert both["insertion"]["probabilities"][0] == pytest.approx(_probability(model, blurred), abs=1e-5)
    mean = np.broadcast_to(image.mean(axis=(0, 1)), image.shape)
    curve = deletion_curve(model, image, heat, steps=4, baseline="mean", random_orders=0)
    assert curve["probabilities"][-1] == pytest.approx(_probability(model, mean), abs=1e-5)


def test_a_heatmap_of_another_size_is_resized_and_ties_are_deterministic():
    model = functional_model()
    image = _image(2)
    small = np.zeros((8, 8), np.float32)
    small[1:3, 5:7] = 1.0  # inside REGION once scaled by 4
    first = deletion_curve(model, image, small, CLASS, steps=8, random_orders=2)
    again = deletion_curve(model, image, small, CLASS, steps=8, random_orders=2)
    np.testing.assert_array_equal(first["probabilities"], again["probabilities"])
    assert first["random_auc"] == again["random_auc"]
    flat = deletion_curve(model, image, np.ones((SIZE, SIZE)), CLASS, steps=8, random_orders=0)
    assert np.all(np.isfinite(flat["probabilities"]))


def test_curve_arguments_are_checked():
    model = functional_model()
    with pytest.raises(ValueError, match="baseline"):
        deletion_curve(model, _image(), _region_map(), baseline="grey")
    with pytest.raises(ValueError, match="2-D"):
        deletion_curve(model, _image(), np.zeros((SIZE, SIZE, 3)))
    with pytest.raises(ValueError, match="steps"):
        insertion_curve(model, _image(), _region_map(), steps=0)
    with pytest.raises(ValueError, match="class_index"):
        insertion_curve(model, _image(), _region_map(), class_index=3)
    with pytest.raises(ValueError, match="Resize"):
        deletion_curve(model, np.zeros((16, 16, 3)), _region_map())


# --------------------------------------------------------------------------------------
# Keeping only the heat region
# --------------------------------------------------------------------------------------


def test_keeping_the_true_region_keeps_the_probability_and_its_complement_loses_it(region_model):
    image = _image(3)
    kept = keep_heat_region(region_model, image, _region_map(), CLASS)
    assert kept["probability_full"] == pytest.approx(_probability(region_model, image), abs=1e-5)
    assert kept["change"] == pytest.approx(0.0, abs=1e-4)
    assert kept["change_absolute"] == pytest.approx(0.0, abs=1e-5)
    assert kept["kept_fraction"] == pytest.approx(100 / SIZE ** 2)
    assert kept["kept_mask"].shape == (SIZE, SIZE) and kept["kept_mask"][REGION].all()

    other = keep_heat_region(region_model, image, 1.0 - _region_map(), CLASS)
    assert other["kept_fraction"] == pytest.approx(1 - 100 / SIZE ** 2)
    assert other["probability_kept"] == pytest.approx(1 / 3, abs=1e-5)  # every logit 0 without the region
    assert other["change"] < -0.3 and other["drop"] == pytest.approx(-other["change"]) and not other["increase"]
    with pytest.raises(ValueError, match="threshold"):
        keep_heat_region(region_model, image, _region_map(), threshold=1.5)


# --------------------------------------------------------------------------------------
# Localisation
# --------------------------------------------------------------------------------------


def _square_mask():
    mask = np.zeros((20, 20), bool)
    mask[5:10, 5:10] = True
    return mask


def test_localisation_known_answers():
    mask = _square_mask()
    inside = np.zeros((20, 20), np.float32)
    inside[6:9, 6:9] = 0.5
    inside[7, 7] = 1.0
    result = localisation(inside, mask)
    assert result["energy_inside"] == pytest.approx(1.0)
    assert result["pointing_hit"] and result["peak"] == (7, 7) and result["distance"] == 0.0
    assert result["mask_fraction"] == pytest.approx(25 / 400)

    uniform = localisation(np.full((20, 20), 0.3), mask)
    assert uniform["energy_inside"] == pytest.approx(uniform["mask_fraction"])

    outside = np.zeros((20, 20), np.float32)
    outside[9, 13] = 1.0  # 4 columns right of the square's last column
    assert not localisation(outside, mask)["pointing_hit"]
    assert localisation(outside, mask)["distance"] == pytest.approx(4.0)
    assert localisation(outside, mask, tolerance=4)["pointing_hit"]
    assert localisation(outside, mask)["energy_inside"] == 0.0

    empty = localisation(np.zeros((20, 20)), mask)
    assert empty["energy_inside"] == 0.0 and not empty["pointing_hit"]


def test_localisation_resizes_the_heatmap_to_the_mask():
    mask = np.zeros((40, 40), bool)
    mask[:20, :20] = True
    heat = np.zeros((4, 4), np.float32)
    heat[:2, :2] = 1.0
    result = localisation(heat, mask)
    assert result["pointing_hit"] and result["energy_inside"] > 0.85  # bilinear upsampling blurs the edge
    with pytest.raises(ValueError, match="2-D"):
        localisation(heat, np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="tolerance"):
        localisation(heat, mask, tolerance=-1)


# --------------------------------------------------------------------------------------
# Sanity check
# --------------------------------------------------------------------------------------


def colour_model():
    """Half the features detect red, half green-blue; class 1 counts red, class 0 the rest.

    Unlike the region model, the structure lives in the weights (no fixed mask), so
    randomising them must change what Grad-CAM shows.
    """
    keras = _keras()
    x = inputs = keras.Input((SIZE, SIZE, 3), name="image")
    conv = keras.layers.Conv2D(8, 3, padding="same", name="conv")
    x = keras.layers.Activation("relu", name="conv_act")(conv(x))
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dense(3, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs, x, name="colour_model")
    kernel = np.zeros((3, 3, 3, 8), np.float32)
    kernel[:, :, 0, :4], kernel[:, :, 1:, :4] = 1.0, -1.0
    kernel[:, :, 0, 4:], kernel[:, :, 1:, 4:] = -1.0, 0.5
    conv.set_weights([kernel, np.zeros(8, np.float32)])
    head = np.zeros((8, 3), np.float32)
    head[:4, 1], head[4:, 0] = 1.0, 1.0
    model.get_layer("predictions").set_weights([head, np.zeros(3, np.float32)])
    return model


def _red_square():
    image = np.random.default_rng(0).uniform(0, 0.5, (SIZE, SIZE, 3)).astype(np.float32)
    image[REGION] = (1.0, 0.0, 0.0)
    return image


def edges(model, image, class_index):
    """A fake 'explanation' that ignores the model: the image's gradient magnitude."""
    grey = np.asarray(image)[0].mean(axis=-1)
    return np.hypot(*np.gradient(grey))


def test_grad_cam_passes_the_sanity_check_and_an_edge_detector_fails_it():
    model = colour_model()
    image = _red_square()
    weights = [w.copy() for w in model.get_weights()]
    predictions = np.asarray(model(image[None], training=False))
    calls = []
    result = sanity_check(model, image, methods={"Grad-CAM": "grad_cam", "edges": edges},
                          progress=lambda done, total: calls.append((done, total)))
    assert result["steps"] == ["original", "predictions", "conv"]
    assert result["layers"] == {"predictions": ["predictions"], "conv": ["conv"]}
    assert result["class_index"] == CLASS
    assert calls == [(1, 3), (2, 3), (3, 3)]
    grad = result["correlations"]["Grad-CAM"]
    assert len(grad) == 3 and grad[0] == 1.0 and grad[-1] < 0.5
    assert result["heatmaps"]["Grad-CAM"].shape == (3, SIZE, SIZE)
    assert min(result["correlations"]["edges"]) > 0.99 and min(result["ssim"]["edges"]) > 0.99
    assert result["verdicts"]["Grad-CAM"].startswith("Passes")
    assert result["verdicts"]["edges"].startswith("Fails")
    # the given model is untouched
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(predictions, np.asarray(model(image[None], training=False)))


def test_grad_cam_drifts_for_every_seed_on_average():
    model = colour_model()
    finals = [sanity_check(model, _red_square(), seed=seed)["correlations"]["grad_cam"][-1] for seed in range(5)]
    assert np.mean(finals) < 0.5, finals
    assert len({round(f, 6) for f in finals}) > 1  # the seed matters


def test_a_weightless_mask_survives_randomisation_so_the_region_model_stays_localised():
    """Adebayo et al.'s caveat, measured: the region model's mask is architecture, not weights,
    so its randomised maps still sit in the region whenever they are not empty."""
    model = functional_model()
    result = sanity_check(model, _image(), methods=("grad_cam",), seed=1)
    for heat in result["heatmaps"]["grad_cam"]:
        assert heat.max() == 0 or heat[REGION].sum() / heat.sum() > 0.6


def test_nested_models_are_cloned_not_shared():
    from cv_core.interpret.trust.sanity import _clone

    model = nested_model()
    clone = _clone(model)
    assert not {id(v) for v in model.weights} & {id(v) for v in clone.weights}
    for a, b in zip(model.get_weights(), clone.get_weights()):
        np.testing.assert_array_equal(a, b)
    weights = [w.copy() for w in model.get_weights()]
    sanity_check(model, _image(), methods=("grad_cam", "score_cam"))
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)


def test_randomising_the_head_after_explaining_refreshes_the_cached_logits():
    """The tap model reads logits through a copy of the head's weights; a randomised head
    must not be explained with the old copy."""
    from cv_core.interpret.trust.sanity import _clone, _forget_taps

    clone = _clone(colour_model())
    image = _red_square()
    before = grad_cam(clone, image, class_index=CLASS)
    assert before.max() == 1.0
    head = clone.get_layer("predictions")
    kernel, bias = head.get_weights()
    head.set_weights([-kernel, bias])  # now every red feature lowers class 1
    np.testing.assert_array_equal(grad_cam(clone, image, class_index=CLASS), before)  # the trap: the old head
    _forget_taps(clone)
    assert grad_cam(clone, image, class_index=CLASS).max() == 0.0


@pytest.mark.slow
def test_randomised_copies_are_released():
    from cv_core.interpret import _graph

    keras = _keras()
    model = colour_model()
    image = _red_square()
    grad_cam(model, image)  # the original's own tap model stays cached, as it should

    def live():
        gc.collect()
        return len(_graph._CACHE), sum(isinstance(o, keras.Variable) for o in gc.get_objects())

    sanity_check(model, image, methods=("grad_cam", "score_cam"))  # warm-up (lazy globals)
    before = live()
    for seed in range(3):
        sanity_check(model, image, methods=("grad_cam", "score_cam"), seed=seed)
    after = live()
    # Nothing of the three randomised copies survives (other tests' objects may be freed meanwhile).
    assert after[0] <= before[0] and after[1] <= before[1]


def test_step_labels_of_the_mini_xception():
    from cv_core.models import build_mini_xception

    model = build_mini_xception(input_shape=(32, 32, 3), num_classes=5, filters=(4, 8), augmentation=False)
    groups = dict(randomisation_groups(model))
    assert list(groups) == ["predictions", "block2", "block1", "stem"]
    assert set(groups["block2"]) == {"block2_bn1", "block2_sepconv1", "block2_bn2", "block2_sepconv2",
                                     "block2_residual"}
    image = np.random.default_rng(1).uniform(0, 255, (32, 32, 3)).astype(np.float32)
    result = sanity_check(model, image, methods=("grad_cam",))
    assert result["steps"] == ["original", "predictions", "block2", "block1", "stem"]
    assert len(result["correlations"]["grad_cam"]) == 5


def test_automatic_layer_names_join_the_block_before_them():
    keras = _keras()
    x = inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(2, 3, name="block1_conv")(x)
    x = keras.layers.Conv2D(2, 1)(x)  # automatic name: conv2d...
    x = keras.layers.Conv2D(2, 3, name="block2_conv")(x)
    x = keras.layers.Dense(3, name="predictions")(keras.layers.Flatten()(x))
    model = keras.Model(inputs, x)
    groups = randomisation_groups(model)
    assert [label for label, _ in groups] == ["predictions", "block2", "block1"]
    assert len(groups[2][1]) == 2

    plain = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3), keras.layers.Conv2D(2, 3),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    labels = [label for label, _ in randomisation_groups(plain)]
    assert len(labels) == 3 and labels[0].startswith("dense") and labels[-1].startswith("conv2d")


def test_xception_blocks_come_out_top_down_with_their_shortcuts():
    keras = _keras()
    model = keras.applications.Xception(weights=None, input_shape=(71, 71, 3), classes=10)
    groups = dict(randomisation_groups(model))
    assert list(groups) == ["predictions", *(f"block{i}" for i in range(14, 0, -1))]
    for block in ("block2", "block3", "block4", "block13"):  # the blocks a shortcut convolution spans
        assert sum(name.startswith("conv2d") for name in groups[block]) == 1, groups[block]
        assert sum(name.startswith("batch_normalization") for name in groups[block]) == 1
    assert not any(name.startswith("conv2d") for name in groups["block5"])


def test_methods_are_checked_and_the_verdict_reads_the_last_step():
    model = colour_model()
    with pytest.raises(ValueError, match="methods"):
        sanity_check(model, _red_square(), methods=("magic",))
    assert sanity_verdict([1.0, 0.9, 0.95]).startswith("Fails")
    assert sanity_verdict([1.0, 0.3, 0.1], ["original", "head", "body"]).startswith("Passes")
    assert "'head'" in sanity_verdict([1.0, 0.3, 0.1], ["original", "head", "body"])
    assert sanity_verdict([1.0, 0.7]).startswith("Doubtful")
    assert sanity_verdict([1.0]).startswith("Nothing")


def test_spearman_matches_scipy_with_ties():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    a = rng.integers(0, 5, 200).astype(float)
    b = a + rng.normal(0, 2, 200)
    assert spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic, abs=1e-12)
    assert spearman(a, -a) == pytest.approx(-1.0)
    assert spearman(b, b.copy()) == 1.0  # exactly: the sanity check's first step is 1 by definition
    assert spearman(np.zeros(5), np.zeros(5)) == 1.0
    assert spearman(np.zeros(5), np.arange(5)) == 0.0


def test_the_class_index_is_the_original_models():
    model = colour_model()
    result = sanity_check(model, _red_square(), class_index=0)
    assert result["class_index"] == 0
    assert int(np.argmax(class_probabilities(model, _red_square()))) == CLASS


def test_the_random_yardstick_removes_whole_cells():
    from cv_core.interpret.trust._common import _random_block_order

    order = _random_block_order((28, 42), np.random.default_rng(0), cells=14)
    assert sorted(order.tolist()) == list(range(28 * 42))  # every pixel exactly once
    cell = ((order // 42) * 14 // 28) * 14 + (order % 42) * 14 // 42
    changes = np.count_nonzero(np.diff(cell))
    assert changes == 14 * 14 - 1  # one cell after another, never interleaved
    other = _random_block_order((28, 42), np.random.default_rng(1), cells=14)
    assert not np.array_equal(order, other)


# --------------------------------------------------------------------------------------
# A map that vanishes has not passed the sanity check
# --------------------------------------------------------------------------------------


def test_a_map_that_vanishes_on_the_randomised_model_has_not_passed():
    model = colour_model()

    def vanishing(current, batch, class_index):
        """Grad-CAM on the trained model, a blank map on every randomised copy (as Score-CAM from fire9 on)."""
        return grad_cam(current, batch, class_index) if current is model else np.zeros((SIZE, SIZE), np.float32)

    result = sanity_check(model, _red_square(), methods={"vanishing": vanishing, "Grad-CAM": "grad_cam"})
    assert result["correlations"]["vanishing"][1:] == [0.0, 0.0]  # a blank map correlates 0 with anything
    assert result["vanished"]["vanishing"] == [False, True, True]
    assert result["vanished"]["Grad-CAM"] == [False, False, False]
    verdict = result["verdicts"]["vanishing"]
    assert verdict.startswith("Not passed") and "vanished" in verdict and "'predictions'" in verdict
    assert result["verdicts"]["Grad-CAM"].startswith("Passes")


def test_the_verdict_reads_vanished_maps_before_the_numbers():
    steps = ["original", "head", "body"]
    assert sanity_verdict([1.0, 0.0, 0.0], steps).startswith("Passes")
    assert sanity_verdict([1.0, 0.0, 0.0], steps, vanished=[False, True, True]).startswith("Not passed")
    assert "'body'" in sanity_verdict([1.0, 0.4, 0.0], steps, vanished=[False, False, True])
    assert sanity_verdict([1.0, 0.0, 0.0], steps, vanished=[True, True, True]).startswith("Cannot be judged")


def test_a_blank_map_is_one_with_every_pixel_the_same():
    assert map_is_blank(np.zeros((4, 4))) and map_is_blank(np.full((4, 4), 0.7))
    ramp = np.zeros((4, 4))
    ramp[0, 0] = 1e-3
    assert not map_is_blank(ramp) and not map_is_blank(_region_map())


# --------------------------------------------------------------------------------------
# One sentence per check, and a verdict
# --------------------------------------------------------------------------------------


def _curve(auc, random_auc):
    return {"auc": auc, "random_auc": random_auc}


def test_each_check_reads_better_than_chance_no_better_or_worse():
    random_auc = 0.4
    step = 2 * AUC_MARGIN * random_auc  # clearly past the margin either way
    assert read_deletion(_curve(random_auc - step, random_auc)).status == "good"
    assert read_deletion(_curve(random_auc, random_auc)).status == "chance"
    assert read_deletion(_curve(random_auc + step, random_auc)).status == "poor"
    assert read_insertion(_curve(random_auc + step, random_auc)).status == "good"
    assert read_insertion(_curve(random_auc - step, random_auc)).status == "poor"
    assert read_deletion(_curve(0.2, None)).status == "unknown"
    # the Grad-CAM on the default cat: deletion worse than random by 0.034
    cat = read_deletion(_curve(0.2 + 0.034, 0.2))
    assert cat.status == "poor" and "worse than chance" in cat.sentence and "0.234" in cat.sentence
    full = 0.6
    kept = {"probability_full": full, "kept_fraction": 0.3}
    assert read_kept({**kept, "probability_kept": KEPT_GOOD * full + 0.01}).status == "good"
    assert read_kept({**kept, "probability_kept": (KEPT_GOOD + KEPT_POOR) / 2 * full}).status == "chance"
    poor = read_kept({**kept, "probability_kept": 0.008})  # the cat's 0.8% (-99%)
    assert poor.status == "poor" and "0.8%" in poor.sentence
    assert read_kept({**kept, "kept_fraction": 0.0, "probability_kept": 0.0}).status == "poor"
    on = {"energy_inside": 0.8, "mask_fraction": 0.2, "pointing_hit": True}
    assert read_localisation(on).status == "good"
    assert read_localisation({**on, "energy_inside": 0.2}).status == "poor"
    assert read_localisation({**on, "pointing_hit": False}).status == "chance"


def test_the_verdict_on_the_region_model_trusts_the_true_region_and_not_its_inverse(region_model):
    image, heat = _image(4), _region_map()
    full = float(class_probabilities(region_model, image)[CLASS])

    def verdict(heatmap):
        curves = causal_curves(region_model, image, heatmap, CLASS, steps=8, random_orders=2,
                               insertion_baseline="zeros")
        kept = keep_heat_region(region_model, image, heatmap, CLASS)
        return read_trust(curves["deletion"], curves["insertion"], kept, probability=full, class_name="region")

    good = verdict(heat)
    assert {r.status for r in good["checks"].values()} == {"good"}
    assert good["verdict"].status == "good" and "“region”" in good["verdict"].sentence
    bad = verdict(1.0 - heat)
    assert bad["verdict"].status == "poor"
    assert "no better than a random order" in bad["verdict"].sentence


def test_a_class_with_almost_no_chance_gets_a_warning_and_a_careful_verdict():
    assert class_chance_note(LOW_CHANCE, "cat") is None
    note = class_chance_note(0.0004, "snorkel")
    assert "almost no chance" in note and "p = 0.0%" in note and "“snorkel”" in note
    good = read_deletion(_curve(0.0, 0.4))
    assert read_trust(_curve(0.0, 0.4), _curve(0.9, 0.4), {"probability_full": 0.9, "probability_kept": 0.9,
                                                           "kept_fraction": 0.2})["verdict"].status == "good"
    low = read_trust(_curve(0.0, 0.4), _curve(0.9, 0.4), {"probability_full": 0.9, "probability_kept": 0.9,
                                                          "kept_fraction": 0.2}, probability=LOW_CHANCE / 2)
    assert good.status == "good" and low["verdict"].status == "poor" and "almost no chance" in low["verdict"].sentence
