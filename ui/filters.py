"""Filter-pattern glue: the regulariser switches, and grids that fill in chunk by chunk.

Each chunk of patterns is cached (model, layer, filters, settings), so a grid seen once
comes back instantly; a new grid shows its first chunk within seconds and a progress bar
while the rest are computed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass

import numpy as np
import streamlit as st

from cv_core.i18n import _, ngettext
from cv_core.interpret.subjects import Subject
from ui.memory import from_link, remember, remembered, set_link

#: Sizes of the successive chunks of a grid: the first two patterns appear within seconds, then
#: bigger chunks follow (on a CPU a batch costs about the same per image as one at a time).
CHUNKS = (2, 2, 4)
CHUNK = 8


@dataclass(frozen=True)
class FilterSettings:
    """The gradient-ascent settings a person can change (see ``cv_core.interpret.filter_patterns``)."""

    steps: int = 30
    parameterization: str = "fourier"
    jitter: int = 4
    blur: float = 0.0
    decay: float = 0.0
    count: int = 8


#: The choices of each setting, and where each is kept in the URL.
STEPS = [10, 20, 30, 50, 80, 120]
JITTERS = [0, 2, 4, 8]
BLURS = [0.0, 0.5, 1.0]
DECAYS = [0.0, 0.01, 0.03, 0.05]
COUNTS = [8, 16, 32, 64]


def _setting(prefix: str, name: str, param: str, options: list, default):
    """A setting's starting value (widget, URL, session memory), see :func:`ui.memory.remembered`."""
    return remembered(f"{prefix}_{name}", param, options, default)


def filter_settings(prefix: str) -> FilterSettings:
    """The settings form; returns plain values. Every setting is kept in the URL and the session."""
    st.markdown(_("##### How to search"))
    initial = _setting(prefix, "fourier", "fourier", ["on", "off"], "on")
    fourier = st.toggle(_("Fourier parameterisation"), value=initial == "on", key=f"{prefix}_fourier",
                        help=_("Optimise the picture's spectrum, scaled so that coarse patterns come first, with "
                               "decorrelated colours (the Lucid technique): far cleaner patterns than raw pixels. "
                               "Off: the book's plain pixel ascent."))
    remember(f"{prefix}_fourier", "fourier", "on" if fourier else "off")
    steps = st.select_slider(_("Steps"), STEPS, _setting(prefix, "steps", "steps", STEPS, 30), key=f"{prefix}_steps",
                             help=_("More steps give stronger, sharper patterns and take longer."))
    remember(f"{prefix}_steps", "steps", steps)
    jitter = st.select_slider(_("Jitter (pixels)"), JITTERS, _setting(prefix, "jitter", "jitter", JITTERS, 4),
                              key=f"{prefix}_jitter",
                              help=_("Shift the picture at random every step, so the pattern cannot rely on exact "
                                     "pixels."))
    remember(f"{prefix}_jitter", "jitter", jitter)
    blur = st.select_slider(_("Blur"), BLURS, _setting(prefix, "blur", "blur", BLURS, 0.0), key=f"{prefix}_blur",
                            help=_("Blur the picture now and then to suppress high-frequency noise."))
    remember(f"{prefix}_blur", "blur", blur)
    decay = st.select_slider(_("L2 decay"), DECAYS, _setting(prefix, "decay", "decay", DECAYS, 0.0), key=f"{prefix}_decay",
                             format_func=lambda v: f"{v:g}",
                             help=_("Each step pulls the picture towards grey by this fraction."))
    remember(f"{prefix}_decay", "decay", decay)
    count = st.select_slider(_("Filters per grid"), COUNTS, _setting(prefix, "count", "count", COUNTS, 8),
                             key=f"{prefix}_count")
    remember(f"{prefix}_count", "count", count)
    return FilterSettings(steps=int(steps), parameterization="fourier" if fourier else "pixels", jitter=int(jitter),
                          blur=float(blur), decay=float(decay), count=int(count))


@st.cache_data(max_entries=16, show_spinner=False)
def _visual_layers(_subject: Subject, subject_version: str) -> list[str]:
    from cv_core.interpret._graph import iter_layers, layer_kind

    return [layer.name for layer in iter_layers(_subject.model)
            if layer_kind(layer) in ("convolution", "activation") and len(layer.output.shape) == 4]


def visual_layers(subject: Subject) -> list[str]:
    """Layers whose filters can be visualised: convolutions and their activations (4-D outputs)."""
    from ui.interpret import version

    return _visual_layers(subject, version(subject))


@st.cache_resource
def _pattern_store() -> dict:
    """Patterns already computed, shared by every session: {(model, layer, filters, settings): result}.

    A plain dict rather than ``st.cache_data``: computing a chunk reports progress to a bar
    that lives outside the computation, which a cached function may not touch.
    """
    return {"results": OrderedDict(), "lock": threading.Lock()}


#: Bytes of patterns kept in memory, shared by every session (a chunk of 8 SqueezeNet patterns
#: is 1.2 MB): the least recently seen chunks go first.
STORE_BYTES = 64 * 2**20


def _patterns(subject: Subject, layer: str, filters: tuple[int, ...], settings: dict,
              progress=None) -> tuple[np.ndarray, np.ndarray]:
    """(patterns (n, h, w, 3) uint8, activations (n, 2): own and grey noise's) of one chunk, computed once.

    Kept in memory for every session; a pretrained model's patterns are also kept on disk
    (:func:`cv_core.measurements.remember_arrays`, per code version), so a restarted server, or
    another one on this machine, shows them at once.
    """
    from cv_core import measurements
    from cv_core.interpret.filters import filter_patterns

    from ui.interpret import _file_version, version

    store = _pattern_store()
    key = (version(subject), layer, filters, tuple(sorted(settings.items())))
    with store["lock"]:
        if key in store["results"]:
            store["results"].move_to_end(key)
            return store["results"][key]
    options = dict(settings)
    options.pop("count", None)
    steps = options.pop("steps")
    # Only a pretrained model's (no file of its own): a run's best model changes with every better epoch.
    description = {"kind": "filter_patterns", "model": subject.key, "layer": layer, "filters": list(filters),
                   "settings": dict(sorted(options.items())), "steps": steps} if _file_version(subject.key) == "" \
        else None
    kept = measurements.recall_arrays(description) if description else None
    found = (kept or {}).get("patterns")
    if found is not None and found.dtype == np.uint8 and found.ndim == 4 and len(found) == len(filters):
        patterns = found
    else:
        patterns = filter_patterns(subject.model, layer, list(filters), steps=steps, progress=progress,
                                   preprocess=subject.preprocess_tensor, **options)
        if description:
            measurements.remember_arrays(description, {"patterns": patterns})
    result = (patterns, _gains(subject, layer, filters, patterns))
    with store["lock"]:
        store["results"][key] = result
        while len(store["results"]) > 1 and \
                sum(p.nbytes + g.nbytes for p, g in store["results"].values()) > STORE_BYTES:
            store["results"].popitem(last=False)
    return result


def _gains(subject: Subject, layer: str, filters: tuple[int, ...], patterns: np.ndarray) -> np.ndarray:
    """(n, 2): each pattern's mean activation of its own filter, and grey noise's (the ascent's start)."""
    from cv_core.datasets import resize_image
    from cv_core.interpret.filters import pattern_scores

    size = subject.input_size
    resized = np.stack([resize_image(p, size) for p in patterns]).astype(np.float32)
    noise = np.random.default_rng(0).uniform(0.4 * 255, 0.6 * 255, resized.shape).astype(np.float32)
    own = pattern_scores(subject.model, layer, resized, list(filters), preprocess=subject.preprocess_tensor)
    base = pattern_scores(subject.model, layer, noise, list(filters), preprocess=subject.preprocess_tensor)
    return np.stack([own, base], axis=1)


def gain_caption(index: int, own: float, base: float) -> str:
    """Under a pattern, in words: how much more it excites its filter than grey noise, or that the search failed."""
    from cv_core.interpret.filters import search_gain

    kind, value = search_gain(own, base)
    if kind == "failed":
        return _("⚠ Filter {index} · search failed: {own:.3g}, below the noise's {base:.3g}").format(
            index=index, own=own, base=base)
    if kind == "times":
        return _("Filter {index} · excited {times:.1f}× more than by noise").format(index=index, times=value)
    return _("Filter {index} · excited to {own:.3g} (noise: {base:.3g})").format(index=index, own=own, base=base)


def failed_note(failed: list[int]) -> str:
    """The warning under a grid whose searches failed for ``failed`` filters."""
    if len(failed) == 1:
        return _("The search failed for filter {index}: its pattern excites the filter less than the grey noise "
                 "the search started from. Try more steps, another parameterisation, or less decay.").format(
                     index=failed[0])
    listed = ", ".join(str(i) for i in failed)
    return _("The search failed for filters {listed}: their patterns excite them less than the grey noise the "
             "search started from. Try more steps, another parameterisation, or less decay.").format(listed=listed)


def _chunks(indices: list[int]) -> list[tuple[int, ...]]:
    """2, 2, 4, then 8 at a time."""
    out, start = [], 0
    sizes = list(CHUNKS)
    while start < len(indices):
        size = sizes.pop(0) if sizes else CHUNK
        out.append(tuple(indices[start:start + size]))
        start += size
    return out


def _filter_count(subject: Subject, layer: str) -> int:
    from cv_core.interpret.filters import filter_count

    return filter_count(subject.model, layer)


class _Grid:
    """A grid filled row by row: each row is its own set of columns, so rows line up whatever the captions."""

    def __init__(self, columns: int):
        self.columns = columns
        self.box = st.container()
        self.rows: list = []

    def cell(self, position: int):
        row = position // self.columns
        while len(self.rows) <= row:
            self.rows.append(self.box.columns(self.columns))
        return self.rows[row][position % self.columns]


def _show(grid: _Grid, start: int, patterns: np.ndarray, gains: np.ndarray, filters: tuple[int, ...]) -> list[int]:
    """Show a chunk; returns the filters whose search failed."""
    from cv_core.interpret.filters import search_gain

    failed = []
    for offset, (pattern, (own, base), index) in enumerate(zip(patterns, gains, filters)):
        grid.cell(start + offset).image(pattern, width="stretch", caption=gain_caption(index, float(own), float(base)))
        if search_gain(own, base)[0] == "failed":
            failed.append(int(index))
    return failed


def pattern_grid(subject: Subject, layer: str, settings: FilterSettings, prefix: str, columns: int = 6) -> None:
    """The first ``settings.count`` (or a chosen page of) filter patterns of ``layer``, filling in chunk by chunk."""
    total = _filter_count(subject, layer)
    count = min(settings.count, total)
    pages = max(1, -(-total // count))
    head = st.columns([3, 1])
    widget = f"{prefix}_page_{layer}_{count}"
    start = from_link("filter_page", range(1, pages + 1)) or st.session_state.get(f"_keep_{widget}", 1)
    page = head[1].number_input(_("Page (of {pages})").format(pages=pages), 1, pages, min(int(start), pages), key=widget)
    st.session_state[f"_keep_{widget}"] = int(page)
    set_link("filter_page", int(page))
    first = (int(page) - 1) * count
    indices = list(range(first, min(total, first + count)))
    head[0].markdown(_("**`{layer}`**: filters {first}–{last} of {total}").format(
        layer=layer, first=indices[0], last=indices[-1], total=total))
    head[0].caption(_("Under each pattern: how many times more it excites its filter than the grey noise the search "
                      "starts from; ⚠ marks a search that ended below that noise."))
    run_grid(subject, layer, indices, settings, columns)


def run_grid(subject: Subject, layer: str, indices: list[int], settings: FilterSettings, columns: int) -> None:
    """Compute (or fetch) the patterns of ``indices`` chunk by chunk, showing each chunk as it lands."""
    key = asdict(settings)
    grid = _Grid(columns)
    chunks = _chunks(indices)
    shown = 0
    failed: list[int] = []
    bar = None
    # Translated here, in the page's thread: the search may report from elsewhere.
    searching = _("Searching filters {first}–{last}: step {done} of {total}")
    for n, chunk in enumerate(chunks):
        def report(done: int, total: int, n=n, chunk=chunk) -> None:
            if bar is not None:
                fraction = (n + done / max(1, total)) / len(chunks)
                bar.progress(min(1.0, fraction),
                             text=searching.format(first=chunk[0], last=chunk[-1], done=done, total=total))

        if bar is None:
            bar = st.progress(0.0, text=_("Searching…"))
        try:
            patterns, gains = _patterns(subject, layer, chunk, key, progress=report)
        except ValueError as exc:
            st.error(_("These filters cannot be shown: {error}").format(error=exc), icon=":material/error:")
            return
        failed += _show(grid, shown, patterns, gains, chunk)
        shown += len(chunk)
        bar.progress((n + 1) / len(chunks),
                     text=ngettext("{done} of {total} pattern", "{done} of {total} patterns", len(indices)).format(
                         done=shown, total=len(indices)))
    if bar is not None:
        bar.empty()
    if failed:
        st.warning(failed_note(failed), icon=":material/warning:")


def comparison_grid(subject: Subject, settings: FilterSettings, prefix: str, per_layer: int = 4) -> None:
    """The first filters of an early, a middle and a late layer, one row per layer, patterns side by side."""
    layers = list(subject.comparison_layers)
    if not layers:
        st.info(_("This model has no convolution layers to compare."))
        return
    for layer in layers:
        st.markdown(f"**`{layer}`**")
        run_grid(subject, layer, list(range(min(per_layer, _filter_count(subject, layer)))), settings, per_layer)
