"""cv_core.runs.labels: run, variant and dataset names in the reader's language, English unchanged.

English expectations are the spec's own values (what ``submit_grid`` stores and each task's
``Architecture.variant`` returns); Chinese expectations are read from the catalog through the module's
own word tables (``_`` under ``use_language("zh-TW")``), never pasted from a page.
"""

from __future__ import annotations

import itertools
import pickle

import pytest

from cv_core.blocks import BATCHNORM_PLACEMENTS, CONV_TYPES
from cv_core.i18n import _, ngettext, use_language
from cv_core.interpret.subjects import class_numbers, run_subject_label
from cv_core.runs import TASKS, TrainSpec, experiment_title, folders, preset_spec
from cv_core.runs.labels import (
    BATCHNORM_WORDS,
    CONV_TYPE_WORDS,
    VARIANT_WORDS,
    DisplayName,
    dataset_id_label,
    dataset_label,
    experiment_row_label,
    grid_label,
    run_label,
    variant_label,
)
from tools.ui_strings import allowlist

GRID = list(itertools.product(CONV_TYPES, BATCHNORM_PLACEMENTS))


def zh(message: str) -> str:
    """``message`` in Chinese, from the catalog; it must be translated."""
    with use_language("zh-TW"):
        text = _(message)
    assert text != message, f"not translated: {message!r}"
    return text


def every_variant_spec() -> list[TrainSpec]:
    """One spec per task, architecture, convolution type, batch-norm placement and residual setting."""
    return [TrainSpec().replace(task=task.name, model=model, conv_type=conv, batchnorm=bn, residual=residual)
            for task in TASKS.values() for model in task.architectures
            for conv, bn in GRID for residual in (True, False)]


@pytest.mark.parametrize("conv, bn", GRID)
def test_grid_label_is_the_stored_label_in_english_and_the_form_words_in_chinese(conv, bn):
    assert grid_label(conv, bn) == f"{conv} / {bn}"  # what submit_grid stores as experiment_label
    with use_language("zh-TW"):
        shown = grid_label(conv, bn)
    assert shown == f"{zh(CONV_TYPE_WORDS[conv])} / {zh(BATCHNORM_WORDS[bn])}"
    assert conv not in shown and bn not in shown


@pytest.mark.parametrize("conv, bn", GRID)
def test_a_grid_runs_label(conv, bn):
    spec = preset_spec("tiny").replace(conv_type=conv, batchnorm=bn, experiment_id="exp-1",
                                       experiment_label=f"{conv} / {bn}")
    run = folders.RunInfo(id="run-1", dir=None, spec=spec, status={})
    assert run.label == run_label(spec) == f"{conv} / {bn}"
    with use_language("zh-TW"):
        assert run.label == grid_label(conv, bn) != f"{conv} / {bn}"


@pytest.mark.slow  # create_run checks the model's size (builds it)
def test_a_stored_grid_run_reads_the_same_and_shows_in_chinese(tmp_path):
    spec = preset_spec("tiny").replace(conv_type="conv2d", batchnorm="none", experiment_id="exp-1",
                                       experiment_label="conv2d / none")
    run = folders.load_run(folders.create_run(spec, tmp_path))
    assert run.label == "conv2d / none"
    with use_language("zh-TW"):
        assert run.label == grid_label("conv2d", "none")
    assert run.spec.experiment_label == "conv2d / none"  # the stored spec is unchanged
    assert '"conv2d / none"' in (run.dir / "spec.json").read_text("utf-8")


def test_a_label_a_script_chose_stays_as_it_is():
    spec = preset_spec("tiny").replace(experiment_id="exp-1", experiment_label="separable / bn")
    assert run_label(spec) == "separable / bn"
    with use_language("zh-TW"):
        assert run_label(spec) == "separable / bn"


def test_a_run_outside_a_grid_is_its_variant_and_seed():
    spec = preset_spec("tiny", seed=2).replace(conv_type="conv2d", batchnorm="none")
    assert run_label(spec) == "conv2d / none (seed 2)"
    with use_language("zh-TW"):
        assert run_label(spec) == _("{variant} (seed {seed})").format(variant=grid_label("conv2d", "none"), seed=2)


@pytest.mark.parametrize("spec", every_variant_spec(), ids=lambda spec: f"{spec.task}-{spec.model}")
def test_every_variant_is_itself_in_english_and_translated_word_by_word(spec):
    assert variant_label(spec.variant) == spec.variant
    with use_language("zh-TW"):
        shown = variant_label(spec.variant)
    proper = set(allowlist()) - set(VARIANT_WORDS)  # U-Net stays U-Net; "separable" is no proper name
    for english, chinese in zip(spec.variant.split(" / "), shown.split(" / "), strict=True):
        if english in proper:
            assert chinese == english
        else:  # a word of the lab: a new variant word without a translation fails here
            assert chinese != english, (spec.variant, english)


def test_experiment_rows_and_titles():
    row = {"variant": "separable / none", "conv_type": "separable", "batchnorm": "none"}
    assert experiment_row_label(row) == "separable / none"
    with use_language("zh-TW"):
        assert experiment_row_label(row) == grid_label("separable", "none")
    custom = {"variant": "separable / bn", "conv_type": "separable", "batchnorm": "none"}
    assert experiment_row_label(custom) == "separable / bn"

    runs = [folders.RunInfo(id=f"r{seed}{conv}", dir=None, status={}, spec=preset_spec(
        "quick", seed=seed).replace(conv_type=conv, experiment_id="e")) for seed in (0, 1, 2) for conv in CONV_TYPES]
    spec = runs[0].spec
    assert experiment_title(runs) == (f"Quick · {spec.dataset} {spec.image_size} px · {spec.epochs} epochs · "
                                      f"3 seeds · 2 × 1 variants")
    with use_language("zh-TW"):
        title = experiment_title(runs)
        assert title == " · ".join([
            zh("Quick"), _("{dataset} {size} px").format(dataset=dataset_label(spec.dataset), size=spec.image_size),
            ngettext("{n} epoch", "{n} epochs", spec.epochs).format(n=spec.epochs),
            ngettext("{n} seed", "{n} seeds", 3).format(n=3), _("{convs} × {batchnorms} variants").format(
                convs=2, batchnorms=1)])
    assert "epochs" not in title and "seeds" not in title and "variants" not in title


def test_dataset_names():
    assert dataset_id_label("shapes") == "shapes" and dataset_id_label("user:flowers") == "user:flowers"
    assert dataset_label("shapes") == "Shapes (built in)"
    with use_language("zh-TW"):
        assert dataset_id_label("shapes") == dataset_label("shapes") == zh("Shapes (built in)")
        assert dataset_label("user:flowers") == zh("{name} · your masks").format(name="flowers")  # the name: data
        assert dataset_label("userkp:walks") == zh("Your keypoints: {name}").format(name="walks")
        assert dataset_label("somewhere_else") == "somewhere_else"


def test_heatmaps_model_label_and_class_numbers_are_read_in_the_readers_language():
    spec = preset_spec("tiny", seed=0).replace(conv_type="separable", batchnorm="none")
    label = run_subject_label(spec, "run-7")
    assert label == str(label) == "separable / none · seed 0 · shapes (run-7)"  # as before, in English
    with use_language("zh-TW"):
        assert str(label) == zh("{variant} · seed {seed} · {dataset} ({run})").format(
            variant=grid_label("separable", "none"), seed=0, dataset=dataset_label("shapes"), run="run-7")
        assert f"{label}" == str(label)
    names = class_numbers(4)
    assert names == ["class 0", "class 1", "class 2", "class 3"]
    with use_language("zh-TW"):
        assert [str(name) for name in names] == [zh("class {index}").format(index=i) for i in range(4)]
    copy = pickle.loads(pickle.dumps(label))  # a cached subject may be copied: it still translates
    with use_language("zh-TW"):
        assert str(copy) == str(label)


def test_display_name_keeps_the_english_as_its_value():
    name = DisplayName(variant_label, "conv2d / none")
    assert name == "conv2d / none" and hash(name) == hash("conv2d / none")
    with use_language("zh-TW"):
        assert str(name) == f"{name}" == grid_label("conv2d", "none")
    assert str(pickle.loads(pickle.dumps(name))) == "conv2d / none"
