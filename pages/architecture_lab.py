"""Architecture lab: build a mini-Xception variant, see its anatomy, train it, and measure the chapter's ideas."""

import streamlit as st

from cv_core.i18n import N_, _
from cv_core.runs.labels import dataset_id_label, variant_label
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
from ui.i18n import tabs
from ui.memory import remember, remembered
from ui.run_panel import current_run, live_run_panel
from ui.training import CONV_LABELS, class_count, show_flash, start_button, variant_form

install_streamlit_patches()  # first: a deep link opened on a fresh server runs this page before app.py

st.title(_("Architecture lab"))
st.caption(_("Build a variant of the book's mini-Xception — convolution type, batch-norm placement, residual "
             "connections — see what it costs, train it in the background and watch it learn."))
show_flash()

form, main = st.columns([1, 2.2], gap="large")
with form:
    st.subheader(_("Variant"))
    spec = variant_form("architecture_lab")

with main:
    # The open tab is kept in the URL (by its English name, in every language); only the open tab's content runs.
    anatomy_tab, train_tab, residual_tab, batchnorm_tab = tabs(
        [N_("Anatomy"), N_("Train"), N_("Residual connections"), N_("Batch normalisation")], key="architecture_lab_tab")

    if anatomy_tab.open:
        with anatomy_tab:
            classes, why = class_count(spec) if spec is not None else (None, None)
            if spec is None:
                st.info(_("Fix the variant's settings on the left to see its anatomy."))
            elif classes is None:
                st.info(_("The anatomy appears once the dataset is known. {reason}").format(reason=why),
                        icon=":material/folder_open:")
            else:
                this = describe_spec(spec, classes)
                caption = (_("Exactly the model **Train** builds: {size} × {size} px input, {classes} classes ({dataset}), "
                             "augmentation layers included (they have no weights), dropout {dropout}.")
                           if spec.augmentation else
                           _("Exactly the model **Train** builds: {size} × {size} px input, {classes} classes ({dataset}), "
                             "dropout {dropout}."))
                info = show_anatomy(
                    this, title=_("{model}: feature maps shrink while filters grow").format(model=variant_label(spec.variant)),
                    caption=caption.format(size=spec.image_size, classes=classes, dataset=dataset_id_label(spec.dataset),
                                           dropout=f"{spec.dropout_rate:g}"))
                if info is not None:
                    st.markdown(_("##### Compare with"))
                    other_conv = "conv2d" if spec.conv_type == "separable" else "separable"
                    # English names are the options (and the URL's value); the person reads them translated.
                    choices = {f"the same model with {CONV_LABELS[other_conv]}": other_conv,
                               **{k: k for k in REFERENCE_MODELS}}
                    if spec.model != "mini_xception":
                        choices = {k: v for k, v in choices.items() if v in REFERENCE_MODELS}
                    names = list(choices)
                    start = remembered("architecture_lab_compare", "architecture_lab_compare", names, names[0])
                    choice = st.selectbox(_("Reference model"), names, index=names.index(start),
                                          key="architecture_lab_compare",
                                          format_func=lambda name: name if name in REFERENCE_MODELS else
                                          _("the same model with {conv}").format(conv=CONV_LABELS[choices[name]]),
                                          label_visibility="collapsed")
                    remember("architecture_lab_compare", "architecture_lab_compare", choice)
                    if choices[choice] in REFERENCE_MODELS:
                        other, label = describe_reference(choice), choice.split(" (")[0]
                        with st.container(border=True):
                            st.markdown(_("**Anatomy of {model}** (built without weights: nothing is downloaded)").format(
                                model=label))
                            shown = show_anatomy(other, title=_("{model}: feature maps shrink while filters grow").format(
                                model=label))
                    else:
                        other = describe_spec(spec.replace(conv_type=other_conv), classes)
                        label, shown = CONV_LABELS[other_conv], True
                    if shown:
                        this_label = CONV_LABELS[spec.conv_type] if spec.model == "mini_xception" else _("this model")
                        show_comparison(other, this, labels=(label, this_label))

    if train_tab.open:
        with train_tab:
            if spec is not None:
                start_button(spec, "architecture_lab")
            run_dir = current_run("architecture_lab", task="classification")
            if run_dir is None:
                st.info(_("No runs yet. Press **Train** to start one; its curves appear here as it learns."))
            else:
                if run_dir.is_dir():  # (a run deleted elsewhere has nothing left to compare)
                    st.page_link("pages/compare_runs.py", label=_("Compare this run with others"),
                                 icon=":material/compare:")
                live_run_panel(run_dir, "architecture_lab")

    if residual_tab.open:
        with residual_tab:
            show_gradient_demo("architecture_lab")

    if batchnorm_tab.open:
        with batchnorm_tab:
            show_batchnorm_demo("architecture_lab")
