"""The sanity chart shows every method, even when their correlations coincide, and marks vanished maps."""

from __future__ import annotations

from cv_core.plots.interpret import sanity_figure

STEPS = ["original", "conv10", "fire9", "fire8"]


def test_every_method_has_its_own_panel_dash_and_marker_even_when_lines_coincide():
    same = [1.0, -0.15, -0.2, 0.0]  # Grad-CAM and HiResCAM agree exactly at a 1 x 1 convolution
    correlations = {"grad_cam": same, "hires_cam": list(same), "grad_cam_plus_plus": list(same),
                    "score_cam": [1.0, 0.28, 0.0, 0.0], "smoothgrad": [1.0, 0.8, 0.85, 0.8]}
    labels = {"grad_cam": "Grad-CAM", "hires_cam": "HiResCAM", "grad_cam_plus_plus": "Grad-CAM++",
              "score_cam": "Score-CAM", "smoothgrad": "SmoothGrad (pixels)"}
    figure = sanity_figure(STEPS, correlations, labels)
    lines = [trace for trace in figure.data if trace.mode == "lines+markers"]
    assert [trace.name for trace in lines] == list(labels.values())
    assert len({trace.xaxis for trace in lines}) == len(lines)  # one panel each: none hidden under another
    assert len({trace.line.dash for trace in lines}) == len(lines)
    assert len({trace.marker.symbol for trace in lines}) == len(lines)
    titles = [annotation.text for annotation in figure.layout.annotations]
    assert titles[:len(labels)] == list(labels.values())


def test_a_vanished_map_breaks_its_line_and_is_marked():
    figure = sanity_figure(STEPS, {"score_cam": [1.0, 0.28, 0.0, 0.0]}, {"score_cam": "Score-CAM"},
                           vanished={"score_cam": [False, False, True, True]})
    line, crosses = figure.data
    assert list(line.y) == [1.0, 0.28, None, None]  # no correlation drawn where it means nothing
    assert crosses.name == "Score-CAM: map vanished" and list(crosses.x) == ["fire9", "fire8"]
