"""Chinese renders offline: the theme's and charts' fonts list a Traditional Chinese face that CI installs."""

import tomllib
from pathlib import Path

import plotly.graph_objects as go

from cv_core.overlays import label_font, mask_legend
from cv_core.plots import FONT_FAMILY

ROOT = Path(__file__).resolve().parents[2]


def test_theme_and_charts_name_noto_sans_cjk_tc_and_ci_installs_it():
    theme = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"]
    assert theme["font"].split(",")[0].strip() == "Source Sans"  # English looks as before
    assert "Noto Sans CJK TC" in theme["font"] and "Noto Sans CJK TC" in FONT_FAMILY
    assert "fonts-noto-cjk" in (ROOT / ".ci" / "run").read_text()
    assert "http" not in theme["font"]  # no web font: nothing is fetched


def test_figures_get_the_font_list_from_the_template():
    from cv_core.plots import install_template

    # Importing streamlit after cv_core.plots makes "streamlit" the default again (the app's charts then
    # take the theme's font, .streamlit/config.toml); installing again adds the lab's template back.
    assert "convnet_lab" in install_template().split("+")
    assert go.Figure().layout.template.layout.font.family == FONT_FAMILY


def test_pictures_draw_chinese_names_with_a_cjk_font_when_installed():
    """Class names drawn into pictures (legends, box captions): a CJK face, so no boxes (tofu)."""
    font = label_font(14, "圓形")
    name = font.getname()[0] if hasattr(font, "getname") else ""
    if not name.startswith("Noto Sans CJK"):
        import pytest

        pytest.skip("fonts-noto-cjk is not installed here (.ci/run installs it)")
    # A CJK face draws two different characters differently (tofu would draw the same box twice).
    from PIL import Image, ImageDraw

    def drawn(text):
        picture = Image.new("L", (40, 40))
        ImageDraw.Draw(picture).text((2, 2), text, fill=255, font=font)
        return picture.tobytes()

    assert drawn("圓") != drawn("形") and any(drawn("圓"))
    import numpy as np

    strip = mask_legend(["背景", "圓形"], np.array([[0, 0, 0], [255, 0, 0]], dtype=np.uint8), 200)
    assert strip.shape[1] == 200
