"""AppTest for the "What convnets learn" pages: Heatmaps and Activations (Filters: see
test_filters_page.py). They run the real offline SqueezeNet and a run from the run store."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def open_page(path: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params.update(query or {})
    at.run()
    at.switch_page(path).run()
    assert not at.exception, at.exception
    return at


def captions(at) -> list[str]:
    return [img.proto.imgs[0].caption for img in at.get("image")]


def chart_json(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def fake_run(root: Path) -> str:
    """A run folder with a saved model, as a finished shapes run leaves it (no training needed)."""
    from cv_core.models import build_mini_xception
    from cv_core.runs import best_model_path, create_run, preset_spec
    from cv_core.runs.files import SUMMARY_FILE, update_status, write_json_atomic

    spec = preset_spec("tiny")
    run_dir = create_run(spec, root)
    model = build_mini_xception(input_shape=(32, 32, 3), num_classes=5, filters=spec.filters, augmentation=False)
    model.save(best_model_path(run_dir))
    write_json_atomic(run_dir / SUMMARY_FILE, {"class_names": ["circle", "square", "triangle", "star", "cross"]})
    update_status(run_dir, state="completed")
    return run_dir.name


@pytest.mark.slow  # about 3 s here: left out of the fast lane
def test_heatmaps_explains_a_bundled_photo_with_squeezenet_offline(runs_root):
    at = open_page("pages/heatmaps.py")
    assert at.title[0].value == "Heatmaps"
    assert at.selectbox(key="heatmaps_model").value == "pretrained:squeezenet"
    top5 = next(c for c in chart_json(at) if "What the model thinks" in json.dumps(c["layout"]["title"], ensure_ascii=False))
    names = top5["data"][0]["y"]
    assert names[-1] == "Egyptian cat (285)"  # the best is drawn on top
    assert at.selectbox(key="heatmaps_layer").value == "conv10"
    shown = captions(at)
    assert "Your picture (chelsea)" in shown
    assert any(c.startswith("Grad-CAM at `conv10` for “Egyptian cat”") for c in shown)
    assert at.get("download_button"), "the overlay can be downloaded"
    # The page keeps its choices in the address bar.
    assert at.query_params["model"] == "pretrained:squeezenet" and at.query_params["method"] == "grad_cam"


@pytest.mark.parametrize("method, label", [("grad_cam_plus_plus", "Grad-CAM++"), ("hires_cam", "HiResCAM"),
                                           pytest.param("score_cam", "Score-CAM", marks=pytest.mark.slow), ("smoothgrad", "SmoothGrad (pixels)")])
def test_heatmaps_every_method(runs_root, method, label):
    at = open_page("pages/heatmaps.py")
    at.selectbox(key="heatmaps_method").select(method).run()
    assert not at.exception
    assert any(c.startswith(label) for c in captions(at))


@pytest.mark.slow  # about 3 s here: left out of the fast lane
def test_heatmaps_explains_any_class_and_another_sample(runs_root):
    at = open_page("pages/heatmaps.py")
    at.selectbox(key="heatmaps_sample").select("coffee").run()
    top5 = next(c for c in chart_json(at) if "What the model thinks" in json.dumps(c["layout"]["title"], ensure_ascii=False))
    assert top5["data"][0]["y"][-1] == "espresso (967)"
    class_box = next(s for s in at.selectbox if s.key.startswith("heatmaps_class_"))
    assert class_box.value == 967
    class_box.select(504).run()  # coffee mug
    assert any("for “coffee mug”" in c for c in captions(at))


def test_heatmaps_upload_bad_then_good_photo(runs_root):
    at = open_page("pages/heatmaps.py")
    at.segmented_control(key="heatmaps_source").set_value("Upload").run()
    assert any("Choose a model and a picture" in i.value for i in at.info)
    at.file_uploader(key="heatmaps_upload").set_value(("holiday.jpg", b"\xff\xd8\xff not a jpeg", "image/jpeg")).run()
    assert not at.exception
    assert "holiday.jpg" in at.error[0].value and "could not be used" in at.error[0].value
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 200, 3), dtype=np.uint8)).save(buffer, "PNG")
    at.file_uploader(key="heatmaps_upload").set_value(("ok.png", buffer.getvalue(), "image/png")).run()
    assert not at.exception and not at.error
    assert "Your picture (your upload)" in captions(at)


@pytest.mark.slow  # about 3 s here: left out of the fast lane
def test_heatmaps_side_by_side_models_and_offline_xception(runs_root):
    from cv_core.pretrained import XCEPTION_WEIGHTS_FILE

    at = open_page("pages/heatmaps.py")
    at.segmented_control(key="heatmaps_compare_kind").set_value("Two models").run()
    assert at.selectbox(key="heatmaps_model_other").value == "pretrained:squeezenet"
    # Xception as the second model, offline: its column says why, plainly; the first model's side still works.
    at.selectbox(key="heatmaps_model_other").select("pretrained:xception").run()
    assert not at.exception
    message = at.error[0].value
    assert message.startswith("No internet connection") and XCEPTION_WEIGHTS_FILE in message
    assert "Errno" not in message and "URL fetch failure" not in message  # no raw error text
    assert "Your picture (chelsea)" in captions(at) and any(c.startswith("Grad-CAM · 285") for c in captions(at))
    assert any(m.label == "Deletion AUC (lower is better)" for m in at.metric)
    at.selectbox(key="heatmaps_model_other").select("pretrained:squeezenet").run()
    assert not at.error
    # Xception as the main model: the same message, and the page asks for another model.
    at.selectbox(key="heatmaps_model").select("pretrained:xception").run()
    assert not at.exception
    assert at.error[0].value.startswith("No internet connection")
    assert any("Choose a model and a picture" in i.value for i in at.info)


@pytest.mark.slow  # about 3 s here: left out of the fast lane
def test_heatmaps_restores_choices_from_the_address(runs_root):
    at = open_page("pages/heatmaps.py", {"model": "pretrained:squeezenet", "sample": "rocket", "method": "hires_cam",
                                         "target": "fire9_concat"})
    assert at.selectbox(key="heatmaps_sample").value == "rocket"
    assert at.selectbox(key="heatmaps_method").value == "hires_cam"
    assert at.selectbox(key="heatmaps_layer").value == "fire9_concat"
    assert any(c.startswith("HiResCAM at `fire9_concat`") for c in captions(at))


def test_heatmaps_on_a_run_uses_its_dataset_samples(runs_root):
    run_id = fake_run(runs_root)
    at = open_page("pages/heatmaps.py", {"model": f"run:{run_id}"})
    assert at.selectbox(key="heatmaps_model").value == f"run:{run_id}"
    sample = at.selectbox(key="heatmaps_sample").value
    assert sample.startswith("shapes/validation/0 · ")
    assert any("at `block2_add`" in c for c in captions(at))


def layer_slider(at):
    return next(s for s in at.select_slider if s.key.startswith("activations_layer_"))


def test_activations_steps_through_layers(runs_root):
    at = open_page("pages/activations.py")
    assert at.title[0].value == "Activations"
    header = next(m.value for m in at.markdown if m.value.startswith("#### "))
    assert header.startswith("#### `conv1` · Conv2D · output 112 × 112 × 64")
    at.button(key="activations_layer_next").click().run()
    header = next(m.value for m in at.markdown if m.value.startswith("#### "))
    assert header.startswith("#### `relu_conv1` · Activation")
    at.button(key="activations_layer_previous").click().run()
    assert layer_slider(at).value == "conv1"
    grid = next(c for c in chart_json(at) if "channels 0–31" in json.dumps(c["layout"]["title"], ensure_ascii=False))
    assert grid["data"][1]["customdata"] == list(range(32))  # one clickable marker per channel
    at.number_input(key="activations_page_conv1_32").set_value(2).run()
    grid = next(c for c in chart_json(at) if "channels 32–63" in json.dumps(c["layout"]["title"], ensure_ascii=False))
    next(n for n in at.number_input if n.key.startswith("activations_channel_conv1_")).set_value(40).run()
    assert any("conv1, channel 40" in json.dumps(c["layout"]["title"], ensure_ascii=False) for c in chart_json(at))
    layer_slider(at).set_value("pool10").run()
    assert any("one number per channel" in json.dumps(c["layout"]["title"], ensure_ascii=False) for c in chart_json(at))
    assert at.query_params["layer"] == "pool10"


def test_heatmaps_trust_scores_and_sanity_check(runs_root):
    at = open_page("pages/heatmaps.py")
    metrics = {m.label: m for m in at.metric}
    assert {"Deletion AUC (lower is better)", "Insertion AUC (higher is better)", "Only the hot region kept",
            "Heat on the object"} <= set(metrics)
    deletion = float(metrics["Deletion AUC (lower is better)"].value)
    insertion = float(metrics["Insertion AUC (higher is better)"].value)
    assert 0 <= deletion < insertion <= 1  # Grad-CAM on the cat: removing its heat hurts, revealing it helps
    assert metrics["Heat on the object"].value == "—"  # a bundled photo has no true mask
    curves = next(c for c in chart_json(at) if "hottest pixels are removed" in c["layout"]["title"]["text"])
    assert [t["name"].split(" (")[0] for t in curves["data"]] == [
        "Deletion in heat order", "Deletion in random order", "Insertion in heat order", "Insertion in random order"]
    at.multiselect(key="trust_sanity_methods").set_value(["grad_cam"]).run()
    at.button(key="trust_sanity_go").click().run()
    assert not at.exception
    sanity = next(c for c in chart_json(at) if c["layout"]["title"]["text"].startswith("Sanity check"))
    steps = sanity["data"][0]["x"]
    assert steps[:3] == ["original", "conv10", "fire9"] and sanity["data"][0]["y"][0] == 1.0
    verdict = next(m.value for m in at.markdown if m.value.startswith("**Grad-CAM**:"))
    assert verdict.split(": ", 1)[1].startswith(("Passes", "Fails", "Doubtful", "Not passed"))
    # The check is in the address: a reload (a new session) shows it again, from the cache.
    assert at.query_params["sanity"] == "grad_cam"
    reloaded = open_page("pages/heatmaps.py", dict(at.query_params))
    again = next(c for c in chart_json(reloaded) if c["layout"]["title"]["text"].startswith("Sanity check"))
    assert again["data"][0]["y"] == sanity["data"][0]["y"]


def test_heatmaps_localisation_against_the_true_mask_of_a_run_sample(runs_root):
    run_id = fake_run(runs_root)
    at = open_page("pages/heatmaps.py", {"model": f"run:{run_id}"})
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Heat on the object"].endswith("%")
    assert any(c.value.startswith("Hottest point: ") for c in at.caption)


def metric_values(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_trust_scores_describe_the_smoothed_map_on_screen(runs_root):
    at = open_page("pages/heatmaps.py")
    plain = metric_values(at)
    at.toggle(key="heatmaps_augment").set_value(True).run()
    assert not at.exception
    smoothed = metric_values(at)
    for label in ("Deletion AUC (lower is better)", "Insertion AUC (higher is better)", "Only the hot region kept"):
        assert smoothed[label] != plain[label], label  # the scores follow the map on screen
    assert any(c.endswith("smoothed at test time") for c in captions(at))
    verdict = next(box.value for box in [*at.success, *at.warning, *at.error] if box.value.startswith("**Verdict.**"))
    assert "“Egyptian cat”" in verdict
    readings = [m.value for m in at.markdown if "**Deletion.**" in m.value or "**Insertion.**" in m.value]
    assert len(readings) == 2


def test_the_smoothing_switch_shows_what_the_map_was_made_with_after_a_new_upload(runs_root):
    at = open_page("pages/heatmaps.py")
    at.toggle(key="heatmaps_augment").set_value(True).run()
    at.slider(key="heatmaps_opacity").set_value(0.8).run()
    at.segmented_control(key="heatmaps_source").set_value("Upload").run()  # no picture yet: the page waits
    at.file_uploader(key="heatmaps_upload").set_value(("cat.png", png(300, 200), "image/png")).run()
    assert not at.exception
    assert at.toggle(key="heatmaps_augment").value is True
    assert at.slider(key="heatmaps_opacity").value == 0.8
    assert any(c.endswith("smoothed at test time") for c in captions(at))


def test_heatmaps_keep_opacity_smoothing_and_the_comparison_in_the_address(runs_root):
    at = open_page("pages/heatmaps.py")
    at.slider(key="heatmaps_opacity").set_value(0.75).run()
    at.toggle(key="heatmaps_augment").set_value(True).run()
    at.segmented_control(key="heatmaps_compare_kind").set_value("Two models").run()
    address = dict(at.query_params)
    assert {"opacity": "0.75", "smoothing": "on", "compare": "Two models"}.items() <= address.items()
    reloaded = open_page("pages/heatmaps.py", address)  # a reload or a shared link
    assert reloaded.slider(key="heatmaps_opacity").value == 0.75
    assert reloaded.toggle(key="heatmaps_augment").value is True
    assert reloaded.segmented_control(key="heatmaps_compare_kind").value == "Two models"
    assert reloaded.selectbox(key="heatmaps_model_other").value == "pretrained:squeezenet"


def test_a_class_the_model_gives_almost_no_chance_is_flagged(runs_root):
    at = open_page("pages/heatmaps.py")
    class_box = next(s for s in at.selectbox if s.key.startswith("heatmaps_class_"))
    class_box.select(0).run()  # tench, for a cat photo
    assert not at.exception
    assert any("almost no chance" in w.value and "“tench”" in w.value for w in at.warning)
    verdict = next(box.value for box in [*at.success, *at.warning, *at.error] if box.value.startswith("**Verdict.**"))
    assert "almost no chance" in verdict


def png(height: int, width: int, seed: int = 0) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (height, width, 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def test_an_upload_stays_for_every_interpretation_page_until_removed(runs_root):
    at = open_page("pages/heatmaps.py")
    at.segmented_control(key="heatmaps_source").set_value("Upload").run()
    at.file_uploader(key="heatmaps_upload").set_value(("holiday.png", png(300, 200), "image/png")).run()
    assert "Your picture (your upload)" in captions(at)
    at.switch_page("pages/activations.py").run()
    assert not at.exception
    assert at.segmented_control(key="activations_source").value == "Upload"
    assert "your upload" in captions(at)  # the thumbnail of the same picture
    assert any("holiday.png" in c.value for c in at.caption)
    at.switch_page("pages/heatmaps.py").run()
    assert "Your picture (your upload)" in captions(at)
    at.button(key="heatmaps_upload_remove").click().run()
    assert "Your picture (your upload)" not in captions(at)
    assert any("Choose a model and a picture" in i.value for i in at.info)
    at.switch_page("pages/activations.py").run()
    assert "your upload" not in captions(at)
    # Clearing the file from the uploader it was uploaded with removes it too.
    at.file_uploader(key="activations_upload").set_value(("again.png", png(200, 300, seed=1), "image/png")).run()
    assert "your upload" in captions(at)
    at.file_uploader(key="activations_upload").set_value(None).run()
    assert "your upload" not in captions(at)
    at.switch_page("pages/heatmaps.py").run()
    assert "Your picture (your upload)" not in captions(at)


def test_a_huge_upload_is_kept_small(runs_root):
    from ui.uploads import KEPT_KEY, KEPT_SIDE

    at = open_page("pages/heatmaps.py")
    at.segmented_control(key="heatmaps_source").set_value("Upload").run()
    at.file_uploader(key="heatmaps_upload").set_value(("wide.png", png(600, 3000), "image/png")).run()
    kept = at.session_state[KEPT_KEY]
    assert kept.photo.shape == (round(600 * KEPT_SIDE / 3000), KEPT_SIDE, 3)
    assert "Your picture (your upload)" in captions(at)


def test_activations_keeps_its_choices_in_the_address(runs_root):
    at = open_page("pages/activations.py", {"layer": "fire2_expand3x3", "per_page": "16", "page": "2",
                                            "channel": "20"})
    assert not at.exception
    assert at.selectbox(key="activations_per_page").value == 16
    assert at.number_input(key="activations_page_fire2_expand3x3_16").value == 2
    assert next(n for n in at.number_input if n.key.startswith("activations_channel_")).value == 20
    assert {"per_page": "16", "page": "2", "channel": "20"}.items() <= dict(at.query_params).items()
