"""What the task pages' AppTests share: open a page through the app's navigation, read its words,
metrics and charts, write a picture as PNG bytes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")
#: The elements whose words :func:`text` reads.
TEXT_KINDS = ("markdown", "caption", "info", "warning", "error", "success", "subheader")


def page_opener(default_path: str, timeout: float = 240):
    """``open_page(query=None, path=default_path)``: the app started with ``query`` in its URL, then
    switched to ``path`` (as the sidebar does), with no exception on screen."""

    def open_page(query: dict | None = None, path: str = default_path) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=timeout)
        at.query_params.update(query or {})
        at.run()
        at.switch_page(path).run()
        assert not at.exception, at.exception
        return at

    return open_page


def open_in_chinese(page: str, query: dict | None = None, timeout: float = 240) -> AppTest:
    """The app opened with ``?lang=zh-TW`` (and ``query``) in its URL, then switched to ``page``."""
    return page_opener(page, timeout)({"lang": "zh-TW", **(query or {})})


def text(at: AppTest) -> str:
    """Every sentence on screen (markdown, captions, alerts, subheaders), joined by spaces."""
    return " ".join(str(e.value) for kind in TEXT_KINDS for e in getattr(at, kind))


def metrics(at: AppTest) -> dict:
    """``{label: value}`` of every ``st.metric``."""
    return {m.label: m.value for m in at.metric}


def figures(at: AppTest) -> dict:
    """Every plotly chart's figure, by its title."""
    return {json.loads(c.proto.spec)["layout"]["title"]["text"]: json.loads(c.proto.spec)
            for c in at.get("plotly_chart")}


def figures_by_id(at: AppTest) -> dict:
    """Every plotly chart's figure, by its element id (for charts without a title)."""
    return {chart.proto.id: json.loads(chart.proto.spec) for chart in at.get("plotly_chart")}


def png(array: np.ndarray) -> bytes:
    """``array`` as the bytes of a PNG file."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()
