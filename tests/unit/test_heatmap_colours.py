"""Heatmaps are coloured with plotly's Turbo scale: the colours come from plotly, not a copy of it."""

from __future__ import annotations

import numpy as np
from plotly import colors

from cv_core.interpret import colorize


def test_the_ends_are_plotlys_first_and_last_turbo_colours():
    ends = colorize(np.array([[0.0, 1.0]]))[0]
    assert [tuple(c) for c in ends] == [colors.hex_to_rgb(colors.sequential.Turbo[0]),
                                        colors.hex_to_rgb(colors.sequential.Turbo[-1])]


def test_every_value_gets_plotlys_colour_for_it():
    values = np.array([0.1, 0.25, 1 / 3, 0.5, 0.77, 0.9])
    quantised = np.rint(values * 255) / 255  # the table has 256 entries
    expected = [colors.unlabel_rgb(c) for c in colors.sample_colorscale(colors.sequential.Turbo, list(quantised))]
    np.testing.assert_allclose(colorize(values).astype(float), np.array(expected), atol=0.5)


def test_values_outside_zero_to_one_and_nan_are_clipped():
    out = colorize(np.array([-3.0, np.nan, 0.0, 7.0, 1.0]))
    assert out.dtype == np.uint8 and out.shape == (5, 3)
    assert np.array_equal(out[0], out[2]) and np.array_equal(out[1], out[2]) and np.array_equal(out[3], out[4])
