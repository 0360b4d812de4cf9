"""Plotly figure builders: compute functions return numpy, these turn results into pictures.

Importing any of them registers the lab's plotly template (``convnet_lab``, added to the default
template): a font family list that starts with the browser's usual sans-serif faces and goes on to
Noto Sans CJK TC (Debian's ``fonts-noto-cjk``, installed by ``.ci/run``), so chart titles, axes, legends
and hover labels in Traditional Chinese render with Taiwan's glyph forms, offline, without boxes.
"""

from cv_core.plots.style import FONT_FAMILY, install_template

__all__ = ["FONT_FAMILY", "install_template"]

install_template()
