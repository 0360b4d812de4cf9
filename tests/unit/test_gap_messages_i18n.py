"""The last cv_core messages of issue 18's "Other gaps": the Train form's model-size refusals, the
built-in datasets' own errors, the keypoint files' CocoFormatError and the niche task tables'
summaries read in Chinese under ``use_language("zh-TW")`` and exactly as before in English."""

from __future__ import annotations

import pickle

import pytest

from cv_core.i18n import use_language
from cv_core.runs import SpecError
from cv_core.runs.cost import MEMORY_BUDGET_ENV, ArchitectureCost, ResourceBudget, _gigabytes, _refuse
from cv_core.runs.spec import preset_spec

QUICK = preset_spec("quick")
COST = ArchitectureCost(params=123_456_789, mult_adds=1, activations=9_876_543, largest_map=1)


def _old_refusal(cost, spec, budget, need, training, margin):
    """The English the f-strings of cv_core/runs/cost.py wrote before they were marked."""
    rough = "roughly " if margin > 1 else ""
    if cost.params > margin * budget.max_params:
        return (f"This model would have {rough}{cost.params:,} parameters; the lab's limit is {budget.max_params:,}. "
                f"Use fewer or narrower filters (received filters={list(spec.filters)}).")
    what = "to train" if training else "to build"
    return (f"This run would need {rough or 'about '}{_gigabytes(need)} of memory {what} "
            f"({cost.activations:,} activations per image at {spec.image_size} px, batch {spec.batch_size}, "
            f"{rough}{cost.params:,} parameters); the limit on this machine is {_gigabytes(budget.memory_bytes)} "
            f"(set ${MEMORY_BUDGET_ENV} to change it). Use smaller images, a smaller batch or fewer filters.")


@pytest.mark.parametrize("margin", [1, 4])
@pytest.mark.parametrize("case", ["params", "train", "build"])
def test_the_model_size_refusals_read_as_before_in_english_and_in_chinese(case, margin):
    budget = ResourceBudget(max_params=10 if case == "params" else 10**12, memory_bytes=1024**3)
    need, training = 5 * 1024**3 + 7 * 1024**2, case != "build"
    with pytest.raises(SpecError) as caught:
        _refuse(COST, QUICK, budget, need, training, margin)
    error = caught.value
    assert str(error) == _old_refusal(COST, QUICK, budget, need, training, margin)
    with use_language("zh-TW"):
        chinese = str(error)
        assert chinese != str(caught.value.message)
        assert "123,456,789" in chinese and "\u7684" in chinese  # the number, in a Chinese sentence
        if case == "params":
            assert chinese.startswith("這個模型") and "過濾器" in chinese
        else:
            assert "5.0 GB" in chinese and "1.0 GB" in chinese and MEMORY_BUDGET_ENV in chinese
            assert ("訓練" in chinese) == training and ("建立" in chinese) == (not training)
        assert ("大約" in chinese) == (margin > 1)
        assert str(pickle.loads(pickle.dumps(error))) == chinese
    assert str(error) == _old_refusal(COST, QUICK, budget, need, training, margin)


def test_the_memory_budget_variable_refusal_in_both_languages(monkeypatch):
    monkeypatch.setenv(MEMORY_BUDGET_ENV, "lots")
    with pytest.raises(SpecError) as caught:
        ResourceBudget.for_this_machine()
    assert str(caught.value) == f"Expected ${MEMORY_BUDGET_ENV} to be a number of megabytes > 0. Received: 'lots'"
    with use_language("zh-TW"):
        assert str(caught.value) == f"${MEMORY_BUDGET_ENV} 應為大於 0 的 MB 數。收到：'lots'"


def test_an_empty_grid_is_refused_in_both_languages(tmp_path):
    from cv_core.runs.jobs import submit_grid

    with pytest.raises(SpecError) as caught:
        submit_grid(QUICK, conv_types=(), batchnorms=("none",), seeds=(0,), runs_root=tmp_path)
    assert str(caught.value) == ("Expected at least one conv type, batch norm placement and seed. Received: "
                                 "conv_types=(), batchnorms=('none',), seeds=(0,)")
    with use_language("zh-TW"):
        assert str(caught.value).startswith("至少需要一種卷積類型、一種批次正規化位置和一個隨機種子。")
