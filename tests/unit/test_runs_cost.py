"""The cost of a spec, known before building: exact sizes, the resource budget, refusals."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cv_core.runs import ResourceBudget, SpecError, architecture_cost, check_resources, preset_spec, validate_spec
from cv_core.runs.cost import MEMORY_BUDGET_ENV, memory_bytes

QUICK = preset_spec("quick")


@pytest.mark.parametrize(
    "changes, num_classes",
    [
        ({}, 5),
        ({}, 2),
        ({"conv_type": "conv2d"}, 5),
        ({"batchnorm": "after_activation"}, 5),
        ({"batchnorm": "none", "residual": False}, 3),
        ({"augmentation": True, "dropout_rate": 0.0}, 5),
        ({"filters": (8, 16, 24), "image_size": 33}, 7),
        ({"model": "small_convnet", "filters": (8, 16, 32), "image_size": 64}, 5),
        ({"model": "small_convnet", "filters": (4, 8), "image_size": 20}, 2),
        ({"image_size": 180, "filters": (32, 64, 128, 256, 512), "augmentation": True}, 2),  # the book's
    ],
)
def test_cost_from_the_spec_equals_the_built_model(changes, num_classes):
    from cv_core.anatomy import total_mult_adds
    from cv_core.runs.model import build_model

    spec = QUICK.replace(**changes)
    model = build_model(spec, num_classes)
    cost = architecture_cost(spec, num_classes)
    assert cost.params == model.count_params()
    assert cost.mult_adds == total_mult_adds(model)
    outputs = [layer.output for layer in model.layers]
    assert cost.activations == sum(int(__import__("math").prod(t.shape[1:])) for t in outputs)


def test_the_books_model_is_721857_parameters_by_the_cost_walk_too():
    book = preset_spec("book", dataset_root="/data/cats")
    assert architecture_cost(book, 2).params == 721_857


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"filters": (100_000,)}, "parameters; the lab's limit is 100,000,000"),
        ({"filters": (16, 32, 64, 100_000)}, "the lab's limit is 100,000,000"),
        ({"image_size": 4000}, "of memory to train"),
        ({"batch_size": 4096, "image_size": 256, "filters": (64, 128, 256, 512)}, "of memory to train"),
    ],
)
def test_specs_over_the_budget_are_refused_before_anything_is_built(changes, message):
    budget = ResourceBudget(memory_bytes=8 * 1024**3)
    with pytest.raises(SpecError, match="limit") as info:
        check_resources(QUICK.replace(**changes), num_classes=5, budget=budget)
    assert message in str(info.value)


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


def test_the_cli_refuses_a_huge_width_at_once(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "cv_core.train", "--filters", "100000", "--runs-root", str(tmp_path / "runs")],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "the lab's limit is 100,000,000" in result.stderr
    assert not (tmp_path / "runs").exists()
