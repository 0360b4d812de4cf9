"""Architecture lab: build a mini-Xception variant, see its anatomy, train it, and measure the chapter's ideas."""

import streamlit as st

from ui import install_streamlit_patches
from ui.architecture import (
    REFERENCE_MODELS,
    describe_reference,
    describe_spec,
    show_anatomy,
    show_batchnorm_demo,
    show_comparison,
    show_gradient_demo,
)
from ui.run_panel import current_run, live_run_panel
from ui.training import CONV_LABELS, class_count, show_flash, start_button, variant_form

install_streamlit_patches()  # first: a deep link opened on a fresh server runs this page before app.py

st.title("Architecture lab")
st.caption("Build a variant of the book's mini-Xception — convolution type, batch-norm placement, residual "
           "connections — see what it costs, train it in the background and watch it learn.")
show_flash()

form, main = st.columns([1, 2.2], gap="large")
with form:
    st.subheader("Variant")
    spec = variant_form("architecture_lab")

with main:
    # The open tab is kept in the URL; only the open tab's content runs.
    anatomy_tab, train_tab, residual_tab, batchnorm_tab = st.tabs(
        ["Anatomy", "Train", "Residual connections", "Batch normalisation"],
        key="architecture_lab_tab", bind="query-params")

    if anatomy_tab.open:
        with anatomy_tab:
            classes, why = class_count(spec) if spec is not None else (None, None)
            if spec is None:
                st.info("Fix the variant's settings on the left to see its anatomy.")
            elif classes is None:
                st.info(f"The anatomy appears once the dataset is known. {why}", icon=":material/folder_open:")
            else:
                this = describe_spec(spec, classes)
                info = show_anatomy(
                    this, title=f"{spec.variant}: feature maps shrink while filters grow",
                    caption=f"Exactly the model **Train** builds: {spec.image_size} × {spec.image_size} px input, "
                            f"{classes} classes ({spec.dataset}), "
                            + ("augmentation layers included (they have no weights), " if spec.augmentation else "")
                            + f"dropout {spec.dropout_rate:g}.")
                if info is not None:
                    st.markdown("##### Compare with")
                    other_conv = "conv2d" if spec.conv_type == "separable" else "separable"
                    choices = {f"the same model with {CONV_LABELS[other_conv]}": other_conv,
                               **{k: k for k in REFERENCE_MODELS}}
                    if spec.model != "mini_xception":
                        choices = {k: v for k, v in choices.items() if v in REFERENCE_MODELS}
                    choice = st.selectbox("Reference model", list(choices), key="architecture_lab_compare",
                                          label_visibility="collapsed", bind="query-params")
                    if choices[choice] in REFERENCE_MODELS:
                        other, label = describe_reference(choice), choice.split(" (")[0]
                        with st.container(border=True):
                            st.markdown(f"**Anatomy of {label}** (built without weights: nothing is downloaded)")
                            shown = show_anatomy(other, title=f"{label}: feature maps shrink while filters grow")
                    else:
                        other = describe_spec(spec.replace(conv_type=other_conv), classes)
                        label, shown = CONV_LABELS[other_conv], True
                    if shown:
                        this_label = CONV_LABELS[spec.conv_type] if spec.model == "mini_xception" else "this model"
                        show_comparison(other, this, labels=(label, this_label))

    if train_tab.open:
        with train_tab:
            if spec is not None:
                start_button(spec, "architecture_lab")
            run_dir = current_run("architecture_lab", task="classification")
            if run_dir is None:
                st.info("No runs yet. Press **Train** to start one; its curves appear here as it learns.")
            else:
                if run_dir.is_dir():  # (a run deleted elsewhere has nothing left to compare)
                    st.page_link("pages/compare_runs.py", label="Compare this run with others", icon=":material/compare:")
                live_run_panel(run_dir, "architecture_lab")

    if residual_tab.open:
        with residual_tab:
            show_gradient_demo("architecture_lab")

    if batchnorm_tab.open:
        with batchnorm_tab:
            show_batchnorm_demo("architecture_lab")
