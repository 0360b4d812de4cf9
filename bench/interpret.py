"""Speed of the interpretation library, as ratios against references measured in the same run.

Usage: python bench/interpret.py [--repeats 15] [--skip-browser]

1. Grad-CAM (ours: a cached tap model and one compiled pass) vs the book's eager
   ``GradientTape`` recipe (two sub-models, run eagerly), and vs one bare compiled
   forward + backward pass (the gradient of the top class with respect to the input).
   Goals: at least 5x faster than the book; at most 1.5x the bare pass.
2. All activations of every conv/pool/norm/activation layer vs one ``model.predict`` and vs
   one compiled forward call. Goal: at most 1.3x one predict.
3. Score-CAM with its masked passes batched (8 per pass) vs one pass per mask: our own
   compiled pass called once per mask (what batching alone buys), and the straightforward
   Keras recipe, one ``model.predict`` per masked image. Goal: >= 3x.
4. In the browser (headless Chromium, the real page): from the end of an upload to the
   heatmap shown, warm, for SqueezeNet and for a book-sized mini-Xception run (180 px).
   Goal: under 1 s.

Each model is measured on the same picture (scikit-image's ``chelsea``); the numbers are
medians over ``--repeats`` after warm-up. Filter patterns have their own script,
``bench/interpret_filters.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def median_seconds(function, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def book_grad_cam(model, image, last_conv_layer_name, classifier_layer_names):
    """The book's recipe (listing 9.x, also keras-io's grad_cam.py), eager, as printed."""
    import tensorflow as tf
    from cv_core._tf import keras

    k = keras()
    last_conv_layer = model.get_layer(last_conv_layer_name)
    last_conv_layer_model = k.Model(model.inputs, last_conv_layer.output)
    classifier_input = k.Input(shape=last_conv_layer.output.shape[1:])
    x = classifier_input
    for layer_name in classifier_layer_names:
        x = model.get_layer(layer_name)(x)
    classifier_model = k.Model(classifier_input, x)
    with tf.GradientTape() as tape:
        last_conv_layer_output = last_conv_layer_model(image)
        tape.watch(last_conv_layer_output)
        preds = classifier_model(last_conv_layer_output)
        top_pred_index = tf.argmax(preds[0])
        top_class_channel = preds[:, top_pred_index]
    grads = tape.gradient(top_class_channel, last_conv_layer_output)
    pooled_grads = tf.reduce_mean(grads, axis=(0, 1, 2)).numpy()
    last_conv_layer_output = last_conv_layer_output.numpy()[0]
    for i in range(pooled_grads.shape[-1]):
        last_conv_layer_output[:, :, i] *= pooled_grads[i]
    heatmap = np.mean(last_conv_layer_output, axis=-1)
    heatmap = np.maximum(heatmap, 0) / max(np.max(heatmap), 1e-12)
    return heatmap


def bare_forward_backward(model):
    """One compiled forward pass and the gradient of the top class with respect to the input."""
    import tensorflow as tf

    @tf.function
    def run(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            preds = model(x, training=False)
            top = tf.reduce_max(preds, axis=-1)
        return tape.gradient(top, x)

    return run


def naive_score_cam(model, batch: np.ndarray, channels: int) -> np.ndarray:
    """Score-CAM the straightforward Keras way: one ``model.predict`` per masked image."""
    import tensorflow as tf

    from cv_core.interpret import last_conv_layer
    from cv_core.interpret._graph import find_layer
    from cv_core._tf import keras

    layer = find_layer(model, last_conv_layer(model))
    features = keras().Model(model.inputs, layer.output).predict(batch, verbose=0)[0]
    order = np.argsort(-features.mean(axis=(0, 1)))[:channels]
    maps = np.asarray(tf.image.resize(features[None][..., order], batch.shape[1:3]))[0]
    low, high = maps.min(axis=(0, 1)), maps.max(axis=(0, 1))
    masks = (maps - low) / np.where(high > low, high - low, 1.0)
    top = int(np.argmax(model.predict(batch, verbose=0)[0]))
    scores = [model.predict(batch * masks[None, ..., k, None], verbose=0)[0, top] for k in range(len(order))]
    cam = np.maximum(np.tensordot(features[..., order], np.asarray(scores), axes=([-1], [0])), 0)
    return cam / max(cam.max(), 1e-12)


def library_numbers(name: str, model, image: np.ndarray, last_conv: str, head: list[str], repeats: int) -> dict:
    import tensorflow as tf

    from cv_core.interpret import activations, grad_cam, score_cam

    batch = image[None].astype(np.float32)
    tensor = tf.constant(batch)
    ours = median_seconds(lambda: grad_cam(model, batch), repeats)
    book = median_seconds(lambda: book_grad_cam(model, tensor, last_conv, head), max(3, repeats // 3))
    bare_fn = bare_forward_backward(model)
    bare = median_seconds(lambda: bare_fn(tensor).numpy(), repeats)
    acts = median_seconds(lambda: activations(model, batch), repeats)
    predict = median_seconds(lambda: model.predict(batch, verbose=0), repeats)
    forward = tf.function(lambda x: model(x, training=False))
    compiled = median_seconds(lambda: forward(tensor).numpy(), repeats)
    channels = 64
    batched = median_seconds(lambda: score_cam(model, batch, batch_size=8, max_channels=channels), max(3, repeats // 3))
    single = median_seconds(lambda: score_cam(model, batch, batch_size=1, max_channels=channels), 3, warmup=1)
    naive = median_seconds(lambda: naive_score_cam(model, batch, channels), 1, warmup=1)
    return {"model": name, "grad_cam": ours, "book": book, "bare": bare, "activations": acts, "predict": predict,
            "forward": compiled, "score_cam_batched": batched, "score_cam_single": single,
            "score_cam_naive": naive, "channels": channels}


def print_library(rows: list[dict]) -> None:
    print("\n## Library (seconds, median; ratios measured in the same run)\n")
    print("| model | Grad-CAM (ours) | book's eager recipe | speed-up (goal >= 5x) | bare fwd+bwd | ours / bare (goal <= 1.5) |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['model']} | {r['grad_cam']:.4f} | {r['book']:.4f} | {r['book'] / r['grad_cam']:.1f}x | "
              f"{r['bare']:.4f} | {r['grad_cam'] / r['bare']:.2f} |")
    print("\n| model | all activations | one `predict` | ratio (goal <= 1.3) | one compiled forward | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['model']} | {r['activations']:.4f} | {r['predict']:.4f} | {r['activations'] / r['predict']:.2f} | "
              f"{r['forward']:.4f} | {r['activations'] / r['forward']:.2f} |")
    print("\n| model | Score-CAM, 8 masks per pass | ours, one compiled pass per mask | speed-up | "
          "one `model.predict` per mask | speed-up (goal >= 3x) |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['model']} ({r['channels']} masks) | {r['score_cam_batched']:.3f} | {r['score_cam_single']:.3f} | "
              f"{r['score_cam_single'] / r['score_cam_batched']:.1f}x | {r['score_cam_naive']:.3f} | "
              f"{r['score_cam_naive'] / r['score_cam_batched']:.1f}x |")


# --------------------------------------------------------------------------------------
# Through the page, in a real browser
# --------------------------------------------------------------------------------------


def fake_book_run(root: Path) -> str:
    """A run folder holding a book-sized mini-Xception (180 px, 2 classes): speed needs no training."""
    from cv_core.models import build_mini_xception
    from cv_core.runs import best_model_path, create_run, preset_spec
    from cv_core.runs.files import SUMMARY_FILE, update_status, write_json_atomic

    run_dir = create_run(preset_spec("tiny"), root)
    model = build_mini_xception(input_shape=(180, 180, 3), num_classes=2)
    model.save(best_model_path(run_dir))
    write_json_atomic(run_dir / SUMMARY_FILE, {"class_names": ["cat", "dog"]})
    update_status(run_dir, state="completed")
    return run_dir.name


def browser_numbers(repeats: int) -> list[tuple[str, list[float]]]:
    from PIL import Image
    from playwright.sync_api import sync_playwright
    from skimage import data

    sys.path.insert(0, str(ROOT / "tests" / "e2e"))
    from tests.e2e.conftest import running_app, wait_idle

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        runs = tmp / "runs"
        run_id = fake_book_run(runs)
        photos = []
        base = data.chelsea()
        for i in range(repeats + 2):  # a different picture each time: no cached result
            shifted = np.roll(base, 7 * i, axis=1)
            path = tmp / f"photo{i}.jpg"
            Image.fromarray(shifted).save(path, quality=90)
            photos.append(path)
        with running_app(runs, tmp) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"])
            for label, model_key in (("SqueezeNet (224 px)", "pretrained:squeezenet"),
                                     ("mini-Xception run (180 px)", f"run:{run_id}")):
                page = browser.new_page(viewport={"width": 1400, "height": 1400})
                page.goto(f"{url}/heatmaps?model={model_key}&source=Upload")
                wait_idle(page, timeout=180_000)
                uploader = page.locator('[data-testid="stFileUploader"] input[type="file"]')
                times = []
                overlay = page.locator('[data-testid="stImage"] img')
                for i, photo in enumerate(photos):
                    before = overlay.nth(1).get_attribute("src") if overlay.count() > 1 else None
                    start = time.perf_counter()
                    uploader.set_input_files(str(photo))
                    # the overlay (the page's second picture) of *this* upload, decoded and painted
                    page.wait_for_function(
                        "prev => { const imgs = document.querySelectorAll('[data-testid=\"stImage\"] img');"
                        " return imgs.length > 1 && imgs[1].getAttribute('src') !== prev"
                        " && imgs[1].complete && imgs[1].naturalWidth > 0; }",
                        arg=before, timeout=180_000)
                    elapsed = time.perf_counter() - start
                    wait_idle(page, timeout=180_000)  # let the trust scores below finish before the next upload
                    if i >= 2:  # the first uploads trace the compiled functions
                        times.append(elapsed)
                results.append((label, times))
                page.close()
            browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--skip-browser", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    from cv_core.models import build_mini_xception
    from cv_core.pretrained import load_pretrained, sample_photos

    photo = sample_photos()["chelsea"]
    squeeze = load_pretrained("squeezenet")
    mini = build_mini_xception(input_shape=(180, 180, 3), num_classes=2)
    from cv_core.datasets import resize_image

    rows = [
        library_numbers("SqueezeNet 1.1, 224 px", squeeze.model, squeeze.preprocess(photo)[0], "conv10",
                        ["pool10", "predictions"], args.repeats),
        library_numbers("book's mini-Xception, 180 px", mini, resize_image(photo, (180, 180)).astype(np.float32),
                        "block5_add", ["global_pool", "dropout", "predictions"], args.repeats),
    ]
    print(f"CPU cores: {os.cpu_count()}")
    print_library(rows)
    if not args.skip_browser:
        print("\n## In the browser: end of an upload -> heatmap shown (warm)\n")
        print("| model | median s | min s | max s | goal |")
        print("|---|---:|---:|---:|---|")
        for label, times in browser_numbers(max(3, args.repeats // 3)):
            print(f"| {label} | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} | < 1 s |")


if __name__ == "__main__":
    main()
