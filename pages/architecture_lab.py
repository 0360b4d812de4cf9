"""Architecture lab: build a mini-Xception variant, see its anatomy, train it, and measure the chapter's ideas."""

import streamlit as st

from ui.architecture import REFERENCE_MODELS, describe, show_anatomy, show_batchnorm_demo, show_comparison, show_gradient_demo
from ui.training import CONV_LABELS, current_run, live_run_panel, start_button, variant_form

st.title("Architecture lab")
st.caption("Build a variant of the book's mini-Xception — convolution type, batch-norm placement, residual "
           "connections — see what it costs, train it in the background and watch it learn.")

form, main = st.columns([1, 2.2], gap="large")
with form:
    st.subheader("Variant")
    spec = variant_form("architecture_lab")

with main:
    anatomy_tab, train_tab, residual_tab, batchnorm_tab = st.tabs(
        ["Anatomy", "Train", "Residual connections", "Batch normalisation"])

    with anatomy_tab:
        if spec is None:
            st.info("Fix the variant's settings on the left to see its anatomy.")
        else:
            shape = [spec.image_size, spec.image_size, 3]
            if spec.model == "mini_xception":
                this = describe("mini_xception", input_shape=shape, conv_type=spec.conv_type, batchnorm=spec.batchnorm,
                                residual=spec.residual, filters=list(spec.filters), augmentation=False,
                                dropout_rate=spec.dropout_rate)
            else:
                this = describe("small_convnet", input_shape=shape, filters=list(spec.filters))
            try:
                show_anatomy(this, title=f"{spec.variant}: feature maps shrink while filters grow")
            except ValueError as exc:
                st.error(f"This variant cannot be built: {exc}", icon=":material/block:")
            else:
                st.markdown("##### Compare with")
                other_conv = "conv2d" if spec.conv_type == "separable" else "separable"
                choices = {f"the same model with {CONV_LABELS[other_conv]}": other_conv, **{k: k for k in REFERENCE_MODELS}}
                if spec.model != "mini_xception":
                    choices = {k: v for k, v in choices.items() if v in REFERENCE_MODELS}
                choice = st.selectbox("Reference model", list(choices), key="architecture_lab_compare",
                                      label_visibility="collapsed")
                if choices[choice] in REFERENCE_MODELS:
                    other, label = describe(choice), choice.split(" (")[0]
                    with st.container(border=True):
                        st.markdown(f"**Anatomy of {label}** (built without weights: nothing is downloaded)")
                        show_anatomy(other, title=f"{label}: feature maps shrink while filters grow")
                else:
                    other = describe("mini_xception", input_shape=shape, conv_type=other_conv, batchnorm=spec.batchnorm,
                                     residual=spec.residual, filters=list(spec.filters), augmentation=False,
                                     dropout_rate=spec.dropout_rate)
                    label = other_conv
                show_comparison(other, this, labels=(label, spec.conv_type if spec.model == "mini_xception" else "this model"))

    with train_tab:
        run_dir = None
        if spec is not None:
            run_dir = start_button(spec, "architecture_lab")
        run_dir = run_dir or current_run("architecture_lab")
        if run_dir is None:
            st.info("No runs yet. Press **Train** to start one; its curves appear here as it learns.")
        else:
            live_run_panel(run_dir, "architecture_lab")
            st.page_link("pages/compare_runs.py", label="Compare this run with others", icon=":material/compare:")

    with residual_tab:
        show_gradient_demo("architecture_lab")

    with batchnorm_tab:
        show_batchnorm_demo("architecture_lab")
