"""The cost of a spec: a coarse guard before anything is built, then the real model's sizes, the budget."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cv_core.runs import (
    TASKS,
    ResourceBudget,
    SpecError,
    architecture_cost,
    check_resources,
    estimate_seconds,
    preset_spec,
    validate_spec,
)
from cv_core.runs import cost as cost_module
from cv_core.runs.cost import COARSE_MARGIN, MEMORY_BUDGET_ENV, coarse_cost, memory_bytes

QUICK = preset_spec("quick")

#: One spec per architecture of the task table, plus variants that change its size a lot.
SPECS = [
    *(preset_spec("tiny", task=task, model=name, filters=architecture.default_filters[:3],
                  image_size=48 if task != "classification" else 64)
      for task, entry in TASKS.items() for name, architecture in entry.architectures.items()),
    QUICK.replace(conv_type="conv2d"),
    QUICK.replace(batchnorm="none", residual=False, augmentation=True),
    QUICK.replace(filters=(8, 8, 8, 8, 512), image_size=64),
    QUICK.replace(model="small_convnet", filters=(32, 64, 128, 256, 256), image_size=180),
    preset_spec("book", dataset_root="/data/cats"),
    preset_spec("book", task="segmentation", dataset_root="/data/pets"),
    preset_spec("tiny", task="segmentation", model="unet", conv_type="separable", filters=(8, 16, 32, 64),
                image_size=64),
    preset_spec("tiny", task="detection", model="centernet_s8", filters=(8, 16, 32), image_size=48),
]


def _label(spec) -> str:
    return f"{spec.model}-{'-'.join(map(str, spec.filters))}-{spec.image_size}px-{spec.conv_type}"


@pytest.fixture
def no_building(monkeypatch):
    """Any attempt to build or measure a model fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("a model was built")

    cost_module.clear_measurements()
    monkeypatch.setattr("cv_core.runs.model.build_model", refuse)
    monkeypatch.setattr("cv_core.anatomy.summarise_in_subprocess", refuse)
    yield
    cost_module.clear_measurements()


@pytest.mark.parametrize("spec", SPECS[:6] + SPECS[-4:], ids=_label)
def test_the_reported_size_is_the_built_models(spec):
    from cv_core.anatomy import total_mult_adds
    from cv_core.runs.model import build_model

    classes = 3 if spec.task == "segmentation" else 5
    model = build_model(spec, classes)
    cost = architecture_cost(spec, classes)
    assert cost.params == model.count_params()
    assert cost.mult_adds == total_mult_adds(model)
    assert cost.largest_map == max(int(__import__("math").prod(layer.output.shape[1:])) for layer in model.layers)


def test_the_books_model_is_721857_parameters():
    book = preset_spec("book", dataset_root="/data/cats")
    assert architecture_cost(book, 2).params == 721_857  # the book's mini-Xception (chapter 9)


@pytest.mark.parametrize("spec", SPECS, ids=_label)
def test_the_coarse_guard_is_within_its_margin_of_every_model(spec):
    """What the guard refuses unbuilt is over the limit for real: its estimate is never more than
    COARSE_MARGIN times off the model's real size, either way."""
    coarse, real = coarse_cost(spec), architecture_cost(spec, 5)
    for name in ("params", "activations"):
        ratio = getattr(coarse, name) / getattr(real, name)
        assert 1 / COARSE_MARGIN < ratio < COARSE_MARGIN, (name, ratio)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"filters": (100_000,)}, "parameters; the lab's limit is 100,000,000"),
        ({"filters": (16, 32, 64, 100_000)}, "the lab's limit is 100,000,000"),
        ({"filters": (10**300,)}, "the lab's limit is 100,000,000"),
        ({"image_size": 4000}, "of memory to train"),
        ({"image_size": 10**300}, "of memory to train"),
        ({"batch_size": 4096, "image_size": 256, "filters": (64, 128, 256, 512)}, "of memory to train"),
        ({"model": "small_convnet", "image_size": 4000}, "of memory to train"),
    ],
)
def test_absurd_specs_are_refused_before_any_model_is_built(changes, message, no_building):
    budget = ResourceBudget(memory_bytes=8 * 1024**3)
    with pytest.raises(SpecError, match="limit") as info:
        check_resources(QUICK.replace(**changes), num_classes=5, budget=budget)
    assert message in str(info.value) and "roughly" in str(info.value)


@pytest.mark.parametrize("filters", [(100_000,), (16, 32, 64, 99_999), (10**300,)])
def test_an_absurd_spec_has_no_time_estimate_and_builds_nothing(filters, no_building):
    # the Train tab asks for an estimate before the spec is validated: timing a width of
    # 100,000 once built it in a child process for half a minute
    with pytest.raises(SpecError, match="the lab's limit is 100,000,000"):
        estimate_seconds(QUICK.replace(filters=filters))


def test_the_coarse_guard_alone_builds_nothing(no_building):
    assert check_resources(QUICK, measure=False) == coarse_cost(QUICK)


@pytest.mark.parametrize("filters", [(100_000,), (16, 32, 64, 99_999)])
def test_the_time_estimate_refuses_an_absurd_width_before_building(filters, no_building):
    """The Train tab estimates the time of whatever is typed: an absurd width must be refused by
    the coarse guard, not built (building a 100,000-filter model took half a minute)."""
    from cv_core.runs import estimate_seconds

    with pytest.raises(SpecError, match="the lab's limit is 100,000,000"):
        estimate_seconds(QUICK.replace(filters=filters))


def test_the_exact_limit_is_the_built_models_size():
    from cv_core.runs.model import build_model

    params = build_model(QUICK, 5).count_params()
    assert check_resources(QUICK, num_classes=5, budget=ResourceBudget(max_params=params)).params == params
    with pytest.raises(SpecError, match=f"This model would have {params:,} parameters; the lab's limit is "
                                        f"{params - 1:,}"):
        check_resources(QUICK, num_classes=5, budget=ResourceBudget(max_params=params - 1))


def test_the_exact_memory_limit_is_checked_on_the_built_models_outputs():
    from cv_core.runs.model import build_model

    model = build_model(QUICK, 5)
    activations = sum(int(__import__("math").prod(layer.output.shape[1:])) for layer in model.layers)
    need = memory_bytes(QUICK, 5)
    check_resources(QUICK, num_classes=5, budget=ResourceBudget(memory_bytes=need))
    with pytest.raises(SpecError, match=f"about .* of memory to train \\({activations:,} activations per image"):
        check_resources(QUICK, num_classes=5, budget=ResourceBudget(memory_bytes=need - 1))


def test_a_builder_refusal_is_a_spec_error():
    spec = preset_spec("tiny", task="detection", model="centernet_s8")  # stride 8 needs three blocks
    with pytest.raises(SpecError, match="Expected `output_stride` to be one of \\(2, 4\\).*len\\(filters\\)"):
        architecture_cost(spec, 5)


def test_measuring_leaves_the_random_state_as_it_was(monkeypatch, tmp_path):
    """A worker seeds the generators, then checks the budget, then builds its model: the check
    must not change the model's initial weights."""
    import random

    import numpy as np

    from cv_core import measurements

    monkeypatch.setattr(measurements, "measurements_dir", lambda: tmp_path)  # nothing kept: it is built here
    cost_module.clear_measurements()
    random.seed(7)
    np.random.seed(7)
    architecture_cost(QUICK.replace(filters=(8, 16)), 5)
    assert random.random() == random.Random(7).random()
    assert np.random.random() == np.random.RandomState(7).random_sample()


def test_validate_spec_applies_the_budget_and_names_the_setting(monkeypatch):
    monkeypatch.setenv(MEMORY_BUDGET_ENV, "64")
    with pytest.raises(SpecError, match=f"limit on this machine is 64 MB \\(set \\${MEMORY_BUDGET_ENV}"):
        validate_spec(QUICK.replace(image_size=128, dataset_options={**QUICK.dataset_options, "image_size": 128}))
    monkeypatch.setenv(MEMORY_BUDGET_ENV, "lots")
    with pytest.raises(SpecError, match="number of megabytes"):
        validate_spec(QUICK)


def test_budget_counts_the_cached_images():
    spec = QUICK.replace(dataset_options={**QUICK.dataset_options, "train_size": 1_000_000})
    side = spec.image_size
    assert memory_bytes(spec, 5, 1_000_000) > 1_000_000 * side * side * 3
    with pytest.raises(SpecError, match="of memory to train"):
        check_resources(spec, num_classes=5, train_images=1_000_000, budget=ResourceBudget(memory_bytes=2 * 1024**3))


def test_the_default_budget_is_half_this_machines_memory(monkeypatch):
    import os

    monkeypatch.delenv(MEMORY_BUDGET_ENV, raising=False)
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert ResourceBudget.for_this_machine().memory_bytes == physical // 2
    assert ResourceBudget.for_this_machine().max_params == 100_000_000


@pytest.mark.slow
def test_validating_and_estimating_keep_tensorflow_out_of_the_process():
    """The command line validates and estimates before its worker decides how TensorFlow starts
    (oneDNN off for narrow models): neither may import it first."""
    code = ("import sys; from cv_core.runs import validate_spec, preset_spec, estimate_seconds;"
            "spec = validate_spec(preset_spec('tiny')); estimate_seconds(spec);"
            "print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    assert out.stdout.strip() == "False"


def test_the_cli_refuses_a_huge_width_at_once(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "cv_core.train", "--filters", "100000", "--runs-root", str(tmp_path / "runs")],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "the lab's limit is 100,000,000" in result.stderr
    assert not (tmp_path / "runs").exists()


def test_a_model_measured_once_is_read_from_disk_by_the_next_process(monkeypatch, tmp_path):
    """Measured in this process and kept (cv_core.measurements): a new server process (here: the
    in-memory table emptied and building refused) answers from disk, without TensorFlow."""
    from cv_core import measurements

    monkeypatch.setattr(measurements, "measurements_dir", lambda: tmp_path)
    spec = QUICK.replace(filters=(8, 16))
    cost_module.clear_measurements()
    first = architecture_cost(spec, 5)
    assert len(list(tmp_path.glob("*.json"))) == 1
    cost_module.clear_measurements()

    def refuse(*args, **kwargs):
        raise AssertionError("a model was built")

    monkeypatch.setattr("cv_core.runs.model.build_model", refuse)
    monkeypatch.setattr("cv_core.anatomy.summarise_in_subprocess", refuse)
    assert architecture_cost(spec, 5) == first
    assert architecture_cost(spec, 5).params == first.params > 0
    cost_module.clear_measurements()
