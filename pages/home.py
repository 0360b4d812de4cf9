"""Home: what the lab does, shown on a built-in picture, and a map of the pages."""

import numpy as np
import streamlit as st

from cv_core.datasets import SHAPE_CLASSES, showcase_sample
from cv_core.i18n import N_, _, ngettext
from cv_core.overlays import class_palette, colorize_mask, draw_boxes, mask_legend
from ui import install_streamlit_patches

install_streamlit_patches()  # first: a deep link opened on a fresh server runs this page before app.py

st.title("Convnet Lab")
st.markdown(_(
    "A hands-on lab for **chapter 9 of *Deep Learning with Python***: train small modern convnets, "
    "compare their building blocks side by side, and look inside them. Everything runs on this "
    "machine, on a CPU if that is all you have, and works offline with the built-in data."
))

st.subheader(_("The three basic vision tasks"))
st.caption(_("One built-in picture from the *shapes* dataset, labelled three ways."))


@st.cache_data(show_spinner=False)
def _showcase():
    """The picture and its three labellings (drawn in the data's own class names: no words are cached)."""
    sample = showcase_sample(image_size=320)
    names = ["background", *SHAPE_CLASSES]
    palette = class_palette(len(names))
    return (
        sample,
        sample.image,
        colorize_mask(sample.mask, len(names), palette),
        palette,
    )


sample, picture, coloured, palette = _showcase()
# Words drawn on pictures are in the reader's language (outside the cache: the cached pictures hold none).
boxed = draw_boxes(sample.image, sample.boxes, [_(name) for name in SHAPE_CLASSES])
legend = mask_legend([_(name) for name in ["background", *SHAPE_CLASSES]], palette, sample.image.shape[1])
present = sorted({_(SHAPE_CLASSES[c]) for c, *_rest in sample.boxes})
cols = st.columns(3)
with cols[0]:
    st.image(picture, width="stretch", output_format="PNG")
    st.markdown(_("**Image classification** — one label for the whole picture: **{label}**, the largest shape.")
                .format(label=_(SHAPE_CLASSES[sample.label])))
with cols[1]:
    st.image(np.concatenate([coloured, legend]), width="stretch", output_format="PNG")
    st.markdown(_("**Semantic segmentation** — a class for every pixel: {classes} and background.")
                .format(classes=_(", ").join(present)))
with cols[2]:
    st.image(boxed, width="stretch", output_format="PNG")
    st.markdown(ngettext("**Object detection** — a bounding box and a class for each object: {n} object here.",
                         "**Object detection** — a bounding box and a class for each object: {n} objects here.",
                         len(sample.boxes)).format(n=len(sample.boxes)))

st.subheader(_("Where to go"))
# Titles are the navigation's (the same msgids); descriptions are marked here, translated when shown.
pages = [
    ("pages/datasets.py", N_("Datasets"), ":material/photo_library:",
     N_("Browse the built-in shapes or your own folders: samples, masks, boxes, class balance. Check a picture of your own.")),
    ("pages/architecture_lab.py", N_("Architecture lab"), ":material/science:",
     N_("Build a mini-Xception variant (Conv2D or separable, batch-norm placement, residuals), see its anatomy, "
        "train it in the background, and measure vanishing gradients and batch normalisation.")),
    ("pages/compare_runs.py", N_("Compare runs"), ":material/compare:",
     N_("Overlay training curves of any runs, compare their cost and accuracy, and run the whole "
        "conv type × batch-norm grid over several seeds.")),
    ("pages/heatmaps.py", N_("Heatmaps"), ":material/local_fire_department:",
     N_("Upload a photo or take one with your camera: see what an ImageNet convnet (or your run) thinks it is, "
        "where it looked, with five methods side by side, and whether the heatmap deserves trust.")),
    ("pages/activations.py", N_("Activations"), ":material/layers:",
     N_("Step through a model layer by layer and see what every channel makes of one picture.")),
    ("pages/filters.py", N_("Filters"), ":material/blur_on:",
     N_("Watch the patterns each filter responds to appear, found by gradient ascent in input space.")),
    ("pages/segmentation.py", N_("Segmentation"), ":material/category:",
     N_("Train the book's segmentation model or a U-Net, then see its masks beside the truth, how sure it is "
        "pixel by pixel, the objects and boxes in each mask, and where it looked.")),
    ("pages/instances.py", N_("Instance segmentation"), ":material/interests:",
     N_("Tell touching objects of one class apart: every object's own mask, class, score and box, hits and misses "
        "against the truth, connected components of a semantic mask beside it, and COCO JSON to take away.")),
    ("pages/mask_studio.py", N_("Mask studio"), ":material/brush:",
     N_("Paint or correct segmentation masks on samples or your own pictures and save them as a dataset "
        "you can train on.")),
    ("pages/detection.py", N_("Detection"), ":material/center_focus_strong:",
     N_("Train a single-shot detector, move its score and overlap thresholds over a picture's boxes, see hits, misses "
        "and false positives, and score it with mAP beside the boxes a segmentation model finds.")),
    ("pages/similarity.py", N_("Similarity"), ":material/join_inner:",
     N_("Read how alike two pictures are three ways (pixels, pretrained features, an embedding you train), find "
        "a picture's nearest neighbours, see why two pictures look alike, and watch classes gather on the map.")),
    ("pages/keypoints.py", N_("Keypoints and pose"), ":material/accessibility_new:",
     N_("Find every person's joints or a face's landmarks, read which way each leans and whether it stands, sits or "
        "lies, look at a joint's heatmap, check the joints against the truth, and set heatmaps against regression.")),
    ("pages/keypoint_studio.py", N_("Keypoint studio"), ":material/ads_click:",
     N_("Click the named points of people, faces or a skeleton of your own on your pictures, save them as a COCO "
        "keypoint dataset, and train the keypoints task on it.")),
]
for row in range(0, len(pages), 3):
    cols = st.columns(3)
    for col, (path, label, icon, text) in zip(cols, pages[row:row + 3]):
        with col.container(border=True, height="stretch"):
            st.page_link(path, label=_(label), icon=icon)
            st.caption(_(text))
