"""The lab's plotly template: fonts that hold Traditional Chinese (no web fonts: nothing is downloaded)."""

from __future__ import annotations

#: Latin faces first (Streamlit's own, then common ones), then faces with Traditional Chinese glyphs
#: (Debian's fonts-noto-cjk, macOS, Windows), then any sans-serif. Inside the app Streamlit's plotly theme
#: draws charts in the theme's font instead (.streamlit/config.toml lists the same CJK face); this
#: template is for figures shown elsewhere (a notebook, an exported picture).
FONT_FAMILY = ('"Source Sans", "Source Sans Pro", "DejaVu Sans", Arial, "Noto Sans CJK TC", '
               '"Noto Sans TC", "PingFang TC", "Microsoft JhengHei", sans-serif')
TEMPLATE = "convnet_lab"


def install_template() -> str:
    """Register the ``convnet_lab`` template and add it to plotly's default (once); returns the default's name."""
    import plotly.graph_objects as go
    import plotly.io as pio

    if TEMPLATE not in pio.templates:
        pio.templates[TEMPLATE] = go.layout.Template(layout=dict(font=dict(family=FONT_FAMILY),
                                                                 hoverlabel=dict(font=dict(family=FONT_FAMILY))))
    default = pio.templates.default or "plotly"
    if TEMPLATE not in default.split("+"):
        pio.templates.default = f"{default}+{TEMPLATE}"
    return pio.templates.default
