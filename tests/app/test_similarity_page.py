"""AppTest for the Similarity page: two pictures read three ways, the nearest neighbours of a picture,
why they look alike, the embedding map, every choice in the URL, and bad input.

The tests run the real offline SqueezeNet (loaded once per process, so every test after the
first finds it warm) on a small folder dataset written by the test: searching and mapping it
embeds a dozen pictures, not the 500 of shapes' validation split.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")

PAGE = "pages/similarity.py"
COLOURS = {"blue": (30, 60, 220), "green": (40, 200, 60), "red": (220, 40, 30)}


@pytest.fixture
def roots(lab_roots, tmp_path, monkeypatch):
    monkeypatch.setenv("CONVNET_LAB_CACHE", str(tmp_path / "cache"))  # embeddings of pretrained models go here
    return lab_roots


def colour_folder(root: Path, per_split: dict[str, int]) -> Path:
    """``root/<split>/<colour>/<n>.png``: a square of each class's colour on a grey field, placed and sized
    differently in every picture, so that pixels differ within a class while the colour stays."""
    rng = np.random.default_rng(0)
    for split, count in per_split.items():
        for name, colour in COLOURS.items():
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for n in range(count):
                picture = np.full((48, 48, 3), 128, np.uint8)
                side = int(rng.integers(16, 32))
                y, x = rng.integers(0, 48 - side, size=2)
                picture[y:y + side, x:x + side] = colour
                Image.fromarray(picture).save(folder / f"{n}.png")
    return root


def open_page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params.update(query or {})
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def folder_query(root: Path, **more) -> dict:
    # A bound selectbox keeps the option's label in the URL.
    return {"similarity_dataset": "Image folder (your own)", "similarity_root": str(root), **more}


def png(array: np.ndarray, mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, format="PNG")
    return buffer.getvalue()


def text(at: AppTest) -> str:
    kinds = ("markdown", "caption", "info", "warning", "error", "success", "subheader")
    return " ".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def scores(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def captions(at: AppTest) -> list[str]:
    return [image.proto.imgs[0].caption for image in at.get("image")]


def plotly_values(values) -> np.ndarray:
    """A figure's array as sent to the browser: a list, or plotly's typed array ({"dtype", "bdata"})."""
    import base64

    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return np.asarray(values)


def squeezenet_cosine(a: np.ndarray, b: np.ndarray) -> float:
    from cv_core.similarity import cosine_similarity, embed_pretrained

    embeddings = embed_pretrained([a, b])
    return float(cosine_similarity(embeddings[:1], embeddings[1:])[0, 0])


def test_two_dataset_pictures_read_three_ways(roots, tmp_path):
    from cv_core.datasets import open_dataset
    from cv_core.similarity import ssim

    root = colour_folder(tmp_path / "colours", {"train": 2, "validation": 3})
    at = open_page(folder_query(root))
    assert at.title[0].value == "Similarity"
    values = scores(at)
    assert set(values) == {"Pixels · SSIM", "Pretrained · SqueezeNet 1.1 features", "Learned embedding"}
    dataset = open_dataset("image_folder", str(root))
    first, second = dataset.sample("validation", 0), dataset.sample("validation", 1)
    assert first.label == second.label  # the second picture starts as another of the first one's class
    assert values["Pixels · SSIM"] == f"{ssim(first.image, second.image):.3f}"
    assert values["Pretrained · SqueezeNet 1.1 features"] == f"{squeezenet_cosine(first.image, second.image):.3f}"
    assert values["Learned embedding"] == "—"
    assert "Why they look alike" in text(at)
    assert any(c.endswith("what looks like the second picture") for c in captions(at))


def test_the_same_picture_twice_reads_one(roots, tmp_path):
    root = colour_folder(tmp_path / "colours", {"train": 2, "validation": 3})
    at = open_page(folder_query(root, similarity_b_index="0"))
    values = scores(at)
    assert values["Pixels · SSIM"] == "1.000"
    assert values["Pretrained · SqueezeNet 1.1 features"] == "1.000"
    assert "SSIM is 1 only when the two pictures are identical" in text(at)
    assert "nothing moves their similarity" in text(at)  # the why-similar maps: nothing to highlight


def test_two_uploads_of_other_sizes_and_modes_and_a_blank_picture(roots):
    at = open_page({"similarity_a_source": "Upload", "similarity_b_source": "Upload"})
    grey = (np.arange(50 * 80).reshape(50, 80) % 256).astype(np.uint8)
    rgba = np.zeros((120, 60, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 255
    at.file_uploader(key="similarity_a_upload").set_value(("grey.png", png(grey, "L"), "image/png")).run()
    at.file_uploader(key="similarity_b_upload").set_value(("red.png", png(rgba, "RGBA"), "image/png")).run()
    assert not at.exception
    values = scores(at)
    assert values["Pixels · SSIM"] != "—" and values["Pretrained · SqueezeNet 1.1 features"] != "—"
    assert "your upload grey.png (80 × 50 px)" in captions(at)
    blank = np.zeros((64, 64, 3), np.uint8)
    at.file_uploader(key="similarity_b_upload").set_value(("blank.png", png(blank), "image/png")).run()
    assert not at.exception
    values = scores(at)
    assert set(values) >= {"Pixels · SSIM", "Pretrained · SqueezeNet 1.1 features"}
    assert "your upload blank.png (64 × 64 px)" in captions(at)


def test_a_bad_upload_gets_a_message_and_the_page_goes_on(roots, tmp_path):
    root = colour_folder(tmp_path / "colours", {"train": 2, "validation": 3})
    at = open_page(folder_query(root, similarity_b_source="Upload"))
    at.file_uploader(key="similarity_b_upload").set_value(("broken.png", b"\x89PNG not really", "image/png")).run()
    assert not at.exception
    assert any("broken.png" in e.value and "could not be used" in e.value for e in at.error)
    assert "Choose two pictures" in text(at)
    assert any(c.startswith("validation picture 0") for c in captions(at))  # the first picture is still there


def test_choices_come_from_the_url(roots, tmp_path):
    # The widgets write their values into the URL in the browser (tests/e2e/test_similarity_browser.py);
    # AppTest sees the other half: a link's values become the widgets' values.
    root = colour_folder(tmp_path / "colours", {"train": 2, "validation": 3})
    at = open_page(folder_query(root, similarity_a_index="4", similarity_b_source="Photo", similarity_b_photo="coffee",
                                similarity_a_split="train"))
    assert at.selectbox(key="similarity_dataset").value == "image_folder"
    assert at.text_input(key="similarity_root").value == str(root)
    assert at.selectbox(key="similarity_a_split").value == "train"
    assert at.number_input(key="similarity_a_index").value == 4
    assert at.selectbox(key="similarity_b_photo").value == "coffee"
    assert "train picture 4 · red (48 × 48 px)" in captions(at)
    assert "the photo coffee (600 × 400 px)" in captions(at)
    at = open_page(folder_query(root, similarity_tab="Nearest neighbours", similarity_k="5", similarity_limit="7",
                                similarity_search_split="validation"))
    assert at.slider(key="similarity_k").value == 5 and at.number_input(key="similarity_limit").value == 7
    assert at.button(key="similarity_embed").label == "Embed the 7 validation pictures"


def test_nearest_neighbours_of_a_picture_with_why_and_the_map(roots, tmp_path):
    from cv_core.datasets import open_dataset
    from cv_core.similarity import cosine_similarity, embed_pretrained

    root = colour_folder(tmp_path / "colours", {"train": 2, "validation": 4})
    at = open_page(folder_query(root, similarity_tab="Nearest neighbours", similarity_k="3"))
    assert at.button(key="similarity_embed").label == "Embed the 12 validation pictures"
    at.button(key="similarity_embed").click().run()
    assert not at.exception
    found = [c for c in captions(at) if c.startswith("#")]
    assert len(found) == 3
    dataset = open_dataset("image_folder", str(root))
    pictures = [dataset.sample("validation", i).image for i in range(12)]
    similarity = cosine_similarity(*np.split(embed_pretrained(pictures), [1]))[0]  # query: picture 0
    expected = np.argsort(-similarity[:11], kind="stable")[:3] + 1  # picture 0 itself is left out
    for caption, index in zip(found, expected):
        rank_score, name = caption.split(" · ")[1], caption.split(" · ")[-1]
        assert name == f"validation picture {index}"
        assert rank_score == f"{similarity[index - 1]:.3f}"
    assert "The query is a picture of this split: it is left out of its own neighbours." in text(at)
    assert "Exact search (every embedding compared) over 12 embeddings" in text(at)
    assert any(c.startswith("Neighbour #1: what looks like the query") for c in captions(at))

    at = open_page(folder_query(root, similarity_tab="Embedding map"))  # the embeddings are on disk now
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = [trace["name"] for trace in figure["data"]]
    assert names == ["blue", "green", "red", "your picture"]
    shown = np.concatenate([plotly_values(trace["customdata"]) for trace in figure["data"][:3]])
    assert sorted(shown.tolist()) == list(range(12))  # every validation picture, by its number
    star = (plotly_values(figure["data"][3]["x"])[0], plotly_values(figure["data"][3]["y"])[0])
    for trace in figure["data"][:3]:  # the query is validation picture 0: the star sits on its point
        numbers = plotly_values(trace["customdata"]).tolist()
        if 0 in numbers:
            at_zero = numbers.index(0)
            point = (plotly_values(trace["x"])[at_zero], plotly_values(trace["y"])[at_zero])
            assert np.allclose(star, point, atol=1e-3)


def test_one_picture_searched_and_a_folder_of_one_class(roots, tmp_path):
    root = colour_folder(tmp_path / "colours", {"train": 2, "validation": 2})
    at = open_page(folder_query(root, similarity_tab="Nearest neighbours", similarity_limit="1"))
    at.button(key="similarity_embed").click().run()
    assert not at.exception
    assert "The only picture searched is the query itself" in text(at)
    single = tmp_path / "single"
    (single / "cats").mkdir(parents=True)
    Image.new("RGB", (20, 20), (200, 100, 0)).save(single / "cats" / "0.png")
    at = open_page(folder_query(single))
    assert not at.exception
    assert any("single class" in e.value for e in at.error)


def test_shapes_drawn_otherwise_are_another_dataset_to_every_cache():
    # A run's shapes (48 px, "medium") and the page's (48 px, "hard") shared one key: cached labels,
    # embeddings and samples of one were served for the other.
    from cv_core.datasets import open_dataset
    from ui.data import dataset_key

    keys = {dataset_key(open_dataset("shapes", image_size=48, **options))
            for options in ({}, {"difficulty": "medium"}, {"validation_size": 100}, {"seed": 1})}
    assert len(keys) == 4


def test_cached_scores_follow_the_model_and_the_pictures():
    """Every input of a cached score is in its key: another model version or another picture gives another result."""
    from ui.similarity import Embedder, pair_ssim, picture_embedding

    def embedder(version: str, scale: float) -> Embedder:
        fake = Embedder(f"fake:{version}", "fake", version, None, (8, 8), None, None, Path("."))
        object.__setattr__(fake, "embed", lambda pictures: np.stack([p.mean(axis=(0, 1)) * scale for p in pictures]))
        return fake

    picture = np.full((8, 8, 3), 100, np.uint8)
    one = picture_embedding(embedder("test-v1", 1.0), "test-v1", "test-picture", picture)
    two = picture_embedding(embedder("test-v2", 2.0), "test-v2", "test-picture", picture)
    assert not np.allclose(one, two)
    other = np.full((8, 8, 3), 10, np.uint8)
    assert pair_ssim("test-a", "test-a", picture, picture) != pair_ssim("test-a", "test-b", picture, other)


def test_search_leaves_out_unreadable_pictures_and_turns_approximate_past_the_threshold(monkeypatch):
    import ui.similarity_data as data
    from cv_core.similarity import cosine_similarity

    rng = np.random.default_rng(1)
    rows = rng.normal(size=(300, 8)).astype(np.float32)
    rows[5] = np.nan  # an unreadable picture
    rows[9] = 0.0  # a picture that gave no features
    collection = data.SplitEmbeddings(rows, np.zeros(300, np.int64), ["a"], "test-search-exact")
    query = rows[:1] + 0.01
    found = data.nearest(collection, query, 10)
    reference = rows.copy()
    reference[[5, 9]] = 1.0  # any direction: both are ranked last below
    similarity = cosine_similarity(query, reference)[0]
    similarity[[5, 9]] = -np.inf
    assert found.kind == "exact" and found.searched == 298
    assert found.indices.tolist() == np.argsort(-similarity, kind="stable")[:10].tolist()
    assert found.indices[0] == 0
    left_out = data.nearest(collection, query, 10, leave_out=0)
    assert 0 not in left_out.indices.tolist() and len(left_out.indices) == 10
    monkeypatch.setattr(data, "APPROXIMATE_FROM", 100)
    approximate = data.nearest(data.SplitEmbeddings(rows, np.zeros(300, np.int64), ["a"], "test-search-faiss"),
                               query, 10)
    assert approximate.kind == "approximate" and approximate.searched == 298
    assert len(set(approximate.indices.tolist()) & set(found.indices.tolist())) >= 9
