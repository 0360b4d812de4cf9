"""Home: what the lab does, shown on a built-in picture, and a map of the pages."""

import numpy as np
import streamlit as st

from cv_core.datasets import SHAPE_CLASSES, showcase_sample
from cv_core.overlays import class_palette, colorize_mask, draw_boxes, mask_legend
from ui import install_streamlit_patches

install_streamlit_patches()  # first: a deep link opened on a fresh server runs this page before app.py

st.title("Convnet Lab")
st.markdown(
    "A hands-on lab for **chapter 9 of *Deep Learning with Python***: train small modern convnets, "
    "compare their building blocks side by side, and look inside them. Everything runs on this "
    "machine, on a CPU if that is all you have, and works offline with the built-in data."
)

st.subheader("The three basic vision tasks")
st.caption("One built-in picture from the *shapes* dataset, labelled three ways.")


@st.cache_data(show_spinner=False)
def _showcase():
    sample = showcase_sample(image_size=320)
    names = ["background", *SHAPE_CLASSES]
    palette = class_palette(len(names))
    legend = mask_legend(names, palette, sample.image.shape[1])
    return (
        sample,
        sample.image,
        np.concatenate([colorize_mask(sample.mask, len(names), palette), legend]),
        draw_boxes(sample.image, sample.boxes, SHAPE_CLASSES),
    )


sample, picture, masked, boxed = _showcase()
present = sorted({SHAPE_CLASSES[c] for c, *_ in sample.boxes})
cols = st.columns(3)
with cols[0]:
    st.image(picture, width="stretch", output_format="PNG")
    st.markdown(f"**Image classification** — one label for the whole picture: **{SHAPE_CLASSES[sample.label]}**, "
                "the largest shape.")
with cols[1]:
    st.image(masked, width="stretch", output_format="PNG")
    st.markdown("**Semantic segmentation** — a class for every pixel: " + ", ".join(present) + " and background.")
with cols[2]:
    st.image(boxed, width="stretch", output_format="PNG")
    st.markdown(f"**Object detection** — a box and a class for each object: {len(sample.boxes)} objects here.")

st.subheader("Where to go")
pages = [
    ("pages/datasets.py", "Datasets", ":material/photo_library:",
     "Browse the built-in shapes or your own folders: samples, masks, boxes, class balance. Check a picture of your own."),
    ("pages/architecture_lab.py", "Architecture lab", ":material/science:",
     "Build a mini-Xception variant (Conv2D or separable, batch-norm placement, residuals), see its anatomy, "
     "train it in the background, and measure vanishing gradients and batch normalisation."),
    ("pages/compare_runs.py", "Compare runs", ":material/compare:",
     "Overlay training curves of any runs, compare their cost and accuracy, and run the whole "
     "conv type × batch-norm grid over several seeds."),
    ("pages/heatmaps.py", "Heatmaps", ":material/local_fire_department:",
     "Upload a photo or take one with your camera: see what an ImageNet convnet (or your run) thinks it is, "
     "where it looked, with five methods side by side, and whether the heatmap deserves trust."),
    ("pages/activations.py", "Activations", ":material/layers:",
     "Step through a model layer by layer and see what every channel makes of one picture."),
    ("pages/filters.py", "Filters", ":material/blur_on:",
     "Watch the patterns each filter responds to appear, found by gradient ascent in input space."),
    ("pages/segmentation.py", "Segmentation", ":material/category:",
     "Train the book's segmentation model or a U-Net, then see its masks beside the truth, how sure it is "
     "pixel by pixel, the objects and boxes in each mask, and where it looked."),
    ("pages/mask_studio.py", "Mask studio", ":material/brush:",
     "Paint or correct segmentation masks on samples or your own pictures and save them as a dataset "
     "you can train on."),
    ("pages/detection.py", "Detection", ":material/center_focus_strong:",
     "Train a single-shot detector, move its score and overlap thresholds over a picture's boxes, see hits, misses "
     "and false positives, and score it with mAP beside the boxes a segmentation model finds."),
    ("pages/similarity.py", "Similarity", ":material/join_inner:",
     "Read how alike two pictures are three ways (pixels, pretrained features, an embedding you train), find "
     "a picture's nearest neighbours, see why two pictures look alike, and watch classes gather on the map."),
    ("pages/keypoints.py", "Keypoints and pose", ":material/accessibility_new:",
     "Find every person's joints or a face's landmarks, read which way each leans and whether it stands, sits or "
     "lies, look at a joint's heatmap, check the joints against the truth, and set heatmaps against regression."),
    ("pages/keypoint_studio.py", "Keypoint studio", ":material/ads_click:",
     "Click the named points of people, faces or a skeleton of your own on your pictures, save them as a COCO "
     "keypoint dataset, and train the keypoints task on it."),
]
for row in range(0, len(pages), 3):
    cols = st.columns(3)
    for col, (path, label, icon, text) in zip(cols, pages[row:row + 3]):
        with col.container(border=True, height="stretch"):
            st.page_link(path, label=label, icon=icon)
            st.caption(text)
