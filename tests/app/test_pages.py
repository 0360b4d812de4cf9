"""AppTest: every page runs without exception and shows its key elements."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVNET_LAB_RUNS", str(tmp_path / "runs"))
    return AppTest.from_file(APP, default_timeout=60)


def test_home_shows_three_tasks_and_links(app):
    app.run()
    assert not app.exception
    assert app.title[0].value == "Convnet Lab"
    text = " ".join(m.value for m in app.markdown)
    for task in ("Image classification", "Semantic segmentation", "Object detection"):
        assert task in text
    assert len(app.get("image")) == 3
    # The page map: every card links to a real page of the navigation, under that page's title.
    # That each link opens its page (not Home) is checked in a real browser: the link's address is a
    # sidebar page's, and every sidebar page is opened (e2e test_every_page_through_the_sidebar).
    links = [(e.proto.page, e.proto.label) for e in app.get("page_link")]
    pages = {path.name.removesuffix(".py") for path in (Path(APP).parent / "pages").glob("*.py")}
    assert {"datasets", "architecture_lab", "compare_runs"} <= {page for page, _ in links}
    titles = {"datasets": "Datasets", "architecture_lab": "Architecture lab", "compare_runs": "Compare runs"}
    for page, label in links:
        assert page in pages, f"Home links to {page!r}, which is not a page"
        if page in titles:
            assert label == titles[page]


def test_home_does_not_import_tensorflow():
    import subprocess
    import sys

    code = (
        "import sys; from streamlit.testing.v1 import AppTest; "
        f"at = AppTest.from_file({APP!r}, default_timeout=60).run(); "
        "at.switch_page('pages/datasets.py').run(); "
        "assert not at.exception; print('tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_datasets_page_shapes_by_default(app):
    app.run()
    app.switch_page("pages/datasets.py").run()
    assert not app.exception
    assert app.title[0].value == "Datasets"
    metrics = {m.label: m.value for m in app.metric}
    assert metrics == {"Classes": "5", "Train images": "2,000", "Validation images": "500", "Test images": "500"}
    charts = app.get("plotly_chart")
    assert len(charts) == 2
    captions = [c for img in app.get("image") for c in [img.proto.imgs[0].caption] if "shapes/" in c]
    assert len(captions) == 12 and captions[0].endswith("shapes/train/0")


def test_datasets_page_bad_folder_message(app):
    app.run()
    app.switch_page("pages/datasets.py").run()
    app.selectbox(key="datasets_dataset").select("image_folder").run()
    assert any("Type the path" in i.value for i in app.info)
    app.text_input(key="datasets_root").input("/definitely/not/here").run()
    assert not app.exception
    assert "does not exist" in app.error[0].value


def test_datasets_page_single_class_folder_message(app, tmp_path):
    folder = tmp_path / "one_class" / "cats"
    folder.mkdir(parents=True)
    Image.new("RGB", (16, 16)).save(folder / "a.png")
    app.run()
    app.switch_page("pages/datasets.py").run()
    app.selectbox(key="datasets_dataset").select("image_folder").run()
    app.text_input(key="datasets_root").input(str(tmp_path / "one_class")).run()
    assert "single class" in app.error[0].value


def test_datasets_page_upload(app):
    app.run()
    app.switch_page("pages/datasets.py").run()
    app.file_uploader(key="datasets_upload").set_value(("broken.png", b"\x89PNG\r\n\x1a\nnope", "image/png")).run()
    assert not app.exception
    assert "broken.png" in app.error[0].value and "could not be used" in app.error[0].value
    buffer = io.BytesIO()
    Image.fromarray(np.full((30, 50, 3), 200, np.uint8)).save(buffer, format="PNG")
    app.file_uploader(key="datasets_upload").set_value(("ok.png", buffer.getvalue(), "image/png")).run()
    assert not app.error
    assert app.success[0].value.startswith("This picture can be used")


def _open_local(app, name: str, root: str):
    app.run()
    app.switch_page("pages/datasets.py").run()
    app.selectbox(key="datasets_dataset").select(name).run()
    app.text_input(key="datasets_root").input(root).run()
    assert not app.exception
    return app


def test_datasets_page_image_folder_grid_and_skipped_files(app, tmp_path):
    from tests.unit.fixtures_data import write_bytes, write_picture

    for cls, colour in (("roses", (200, 30, 30)), ("tulips", (240, 200, 20))):
        for i in range(5):
            write_picture(tmp_path / "flowers" / cls / f"{cls}_{i}.png", colour)
    write_bytes(tmp_path / "flowers" / "roses" / "broken.jpg", b"\xff\xd8\xff not a jpeg")
    _open_local(app, "image_folder", str(tmp_path / "flowers"))
    assert not app.error
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Classes"] == "2"
    assert sum(int(metrics[f"{s} images"]) for s in ("Train", "Validation", "Test")) == 10
    assert "1 file(s) could not be read" in app.warning[0].value
    captions = [img.proto.imgs[0].caption for img in app.get("image")]
    assert any(c.startswith("roses · roses_") for c in captions)
    assert not app.toggle(key="datasets_show_mask").value  # no masks to show


def test_datasets_page_oxford_pets_masks(app, tmp_path):
    from tests.unit.fixtures_data import pet_files, write_tree

    write_tree(tmp_path / "pets", pet_files())
    _open_local(app, "oxford_pets", str(tmp_path / "pets"))
    assert not app.error
    assert {m.label: m.value for m in app.metric}["Classes"] == "2"
    assert app.toggle(key="datasets_show_mask").value
    captions = [img.proto.imgs[0].caption for img in app.get("image")]
    assert "Mask colours (the background is left clear)" in captions
    assert any(c.startswith(("cat · ", "dog · ")) for c in captions)


@pytest.mark.parametrize("folder, message", [("x" * 300, "cannot be read"), ("bad\x00name", "does not exist"),
                                             ("💥/☃", "does not exist"), ("   ", "Type the path")])
def test_datasets_page_extreme_folders_give_a_message(app, folder, message):
    app.run()
    app.switch_page("pages/datasets.py").run()
    app.selectbox(key="datasets_dataset").select("image_folder").run()
    app.text_input(key="datasets_root").input(folder).run()
    assert not app.exception
    assert any(message in e.value for e in [*app.error, *app.info]), [e.value for e in [*app.error, *app.info]]


@pytest.mark.parametrize("seed, size", [(0, 32), (10_000, 160)])
def test_datasets_page_number_widgets_at_their_limits(app, seed, size):
    app.run()
    app.switch_page("pages/datasets.py").run()
    app.number_input(key="datasets_seed").set_value(seed).run()
    app.select_slider(key="datasets_size").set_value(size).run()
    app.number_input(key="datasets_start").set_value(1999).run()  # the last training picture
    assert not app.exception
    captions = [img.proto.imgs[0].caption for img in app.get("image") if "shapes/" in img.proto.imgs[0].caption]
    assert captions == ["circle · shapes/train/1999"] or (len(captions) == 1 and captions[0].endswith("train/1999"))
