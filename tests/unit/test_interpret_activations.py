"""How active a layer is: a measure that means the same for a ReLU, a softmax and a raw convolution."""

from __future__ import annotations

import numpy as np
import pytest

from cv_core.interpret.activations import ACTIVE_SHARE_OF_PEAK, active_share


def test_a_softmax_is_not_all_active_because_it_is_all_positive():
    probabilities = np.array([0.9, 0.095, 0.004, 0.001])  # every value above zero
    assert (probabilities > 0).mean() == 1.0
    # only values of at least 1% of the peak (0.009) count: 0.9 and 0.095
    assert ACTIVE_SHARE_OF_PEAK == 0.01
    assert active_share(probabilities) == 0.5


def test_relu_zeros_and_negative_values_of_a_raw_convolution():
    relu = np.array([0.0, 0.0, 0.0, 2.0, 4.0, 0.01])  # 0.01 is below 1% of 4
    assert active_share(relu) == pytest.approx(2 / 6)
    raw = np.array([-3.0, 3.0, -0.001, 0.5])  # sizes count, whatever the sign
    assert active_share(raw) == pytest.approx(3 / 4)
    assert active_share(np.zeros((4, 4, 2))) == 0.0 and active_share(np.array([])) == 0.0
    assert active_share(relu, share_of_peak=1.0) == pytest.approx(1 / 6)
    with pytest.raises(ValueError, match="share_of_peak"):
        active_share(relu, share_of_peak=0)
