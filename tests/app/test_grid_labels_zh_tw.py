"""A grid run's label in Traditional Chinese (README › Translations): Compare runs and the Architecture lab
show "conv2d / none" as the Train form's words, while the run's spec, its folder and the URL keep the
English values.

The grid's runs are written as ``submit_grid`` writes them (``experiment_label`` "conv2d / none"), without
training. The expected words come from the catalog through ``cv_core.runs.labels`` (under
``use_language("zh-TW")``), and each is first checked to differ from the English, so a label the catalog
lacks fails here rather than passing as English.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cv_core.i18n import _, use_language
from cv_core.runs import files, folders, preset_spec, read_spec
from cv_core.runs.labels import dataset_label, grid_label, variant_label
from tests.app.helpers import open_in_chinese

APP = str(Path(__file__).resolve().parents[2] / "app.py")
#: Two of the grid's six variants: one of each convolution type, with and without batch normalization.
VARIANTS = (("separable", "before_activation"), ("conv2d", "none"))


@pytest.fixture
def grid(runs_root) -> dict[tuple[str, str], Path]:
    """One completed run per variant of a grid experiment, as the worker leaves them."""
    made = {}
    for conv, bn in VARIANTS:
        spec = preset_spec("tiny", seed=0).replace(conv_type=conv, batchnorm=bn, experiment_id="exp-zh",
                                                   experiment_label=f"{conv} / {bn}")
        run_dir = folders.create_run(spec, runs_root)
        files.update_status(run_dir, state="completed")
        files.write_metrics(run_dir, [{"epoch": e, "loss": 1.0 / e, "accuracy": 0.2 * e, "val_loss": 1.1 / e,
                                       "val_accuracy": 0.2 * e, "seconds": 0.2} for e in (1, 2)])
        files.write_json_atomic(run_dir / files.TEST_METRICS_FILE, {"accuracy": 0.3})
        made[(conv, bn)] = run_dir
    return made


def chinese(conv: str, bn: str) -> str:
    """The grid variant's label in Chinese, from the catalog; it must differ from the English."""
    with use_language("zh-TW"):
        label = grid_label(conv, bn)
    assert label != f"{conv} / {bn}", f"not translated: {conv} / {bn}"
    return label


def shown_text(at: AppTest) -> str:
    """Every word the page shows: texts, widget options, tables and the charts' figures."""
    kinds = ("title", "markdown", "caption", "info", "warning", "error", "success", "subheader")
    parts = [str(e.value) for kind in kinds for e in getattr(at, kind)]
    parts += [str(e.value) for e in at.sidebar.markdown]
    parts += [option for widget in at.multiselect for option in widget.options]
    # Not the config diff: it shows the specs as spec.json holds them (field names and values), data.
    parts += [frame.value.to_string() for frame in at.dataframe if "field" not in frame.value.columns]
    parts += [chart.proto.spec.encode().decode("unicode_escape") for chart in at.get("plotly_chart")]
    return "\n".join(parts)


def assert_grid_labels_in_chinese(text: str) -> None:
    for conv, bn in VARIANTS:
        assert chinese(conv, bn) in text, (conv, bn)
        assert f"{conv} / {bn}" not in text, f"English grid label on screen: {conv} / {bn}"


def test_compare_runs_shows_grid_labels_in_chinese(grid):
    at = open_in_chinese("pages/compare_runs.py")
    text = shown_text(at)
    assert_grid_labels_in_chinese(text)  # the run picker, the charts' legends, "Manage these runs"
    chosen = at.multiselect(key="compare_runs_chosen")
    assert set(chosen.value) == {run_dir.name for run_dir in grid.values()}  # values: the run ids
    assert any(chinese("conv2d", "none") in option for option in chosen.options)


@pytest.mark.slow  # the grid tab's form estimates the grid's time (builds the model)
def test_compare_runs_grid_summary_in_chinese(grid):
    at = open_in_chinese("pages/compare_runs.py", {"compare_runs_tab": "Run the grid"})
    assert_grid_labels_in_chinese(shown_text(at))  # the summary table and its chart
    for run_dir in grid.values():  # the stored spec keeps the English label (old runs read the same)
        spec = read_spec(run_dir)
        assert spec.experiment_label == f"{spec.conv_type} / {spec.batchnorm}"


@pytest.mark.slow  # the Architecture lab builds the variant's anatomy (Keras)
def test_architecture_lab_shows_a_grid_runs_variant_in_chinese(grid):
    run_dir = grid[("conv2d", "none")]
    at = open_in_chinese("pages/architecture_lab.py", {"architecture_lab_tab": "Train",
                                                       "architecture_lab_run": run_dir.name})
    text = shown_text(at)
    with use_language("zh-TW"):
        variant = variant_label(read_spec(run_dir).variant)
    assert variant == chinese("conv2d", "none")  # the mini-Xception's variant is the grid's label
    assert variant in text  # the run panel's heading
    assert "conv2d / none" not in text
    assert at.query_params["architecture_lab_run"] in (run_dir.name, [run_dir.name])  # the URL keeps the id


def run_without_class_names(runs_root: Path) -> Path:
    """A finished grid run with a saved model and no class names in its summary (no training needed)."""
    from cv_core.models import build_mini_xception
    from cv_core.runs import best_model_path

    spec = preset_spec("tiny").replace(conv_type="conv2d", batchnorm="none", experiment_id="exp-zh",
                                       experiment_label="conv2d / none")
    run_dir = folders.create_run(spec, runs_root)
    model = build_mini_xception(input_shape=(32, 32, 3), num_classes=5, filters=spec.filters, augmentation=False,
                                conv_type="conv2d", batchnorm="none")
    model.save(best_model_path(run_dir))
    files.update_status(run_dir, state="completed")
    return run_dir


@pytest.mark.slow  # loads a Keras model and explains a picture
def test_heatmaps_names_a_grid_runs_model_and_its_classes_in_chinese(runs_root):
    run_dir = run_without_class_names(runs_root)
    at = open_in_chinese("pages/heatmaps.py", {"model": f"run:{run_dir.name}", "compare": "Two models"})
    with use_language("zh-TW"):
        variant = chinese("conv2d", "none")
        model_label = _("{variant} · seed {seed} · {dataset} ({run})").format(
            variant=variant, seed=0, dataset=dataset_label("shapes"), run=run_dir.name)
        first_class = _("class {index}").format(index=0)
    assert first_class != "class 0"
    picker = at.selectbox(key="heatmaps_model")
    assert picker.value == f"run:{run_dir.name}"  # the URL keeps the run's id
    assert any(variant in option and "conv2d / none" not in option for option in picker.options), picker.options
    text = shown_text(at)
    assert f"**{model_label}**" in text  # the "Two models" column's title
    assert "conv2d / none" not in text and " seed 0 " not in text
    # The model has no class names: its classes are numbered, in the reader's words ("類別 4").
    captions = " ".join(img.proto.imgs[0].caption for img in at.get("image"))
    numbered = re.escape(first_class).replace("0", r"\d")
    assert re.search(numbered, captions) and re.search(numbered, text), captions
    assert not re.search(r"\bclass \d", captions + text)
