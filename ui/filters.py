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

from cv_core.interpret.subjects import Subject

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


def filter_settings(prefix: str) -> FilterSettings:
    """The settings form; returns plain values."""
    st.markdown("##### How to search")
    fourier = st.toggle("Fourier parameterisation", value=True, key=f"{prefix}_fourier",
                        help="Optimise the picture's spectrum, scaled so that coarse patterns come first, with "
                             "decorrelated colours (the Lucid technique): far cleaner patterns than raw pixels. "
                             "Off: the book's plain pixel ascent.")
    steps = st.select_slider("Steps", [10, 20, 30, 50, 80, 120], 30, key=f"{prefix}_steps",
                             help="More steps give stronger, sharper patterns and take longer.")
    jitter = st.select_slider("Jitter (pixels)", [0, 2, 4, 8], 4, key=f"{prefix}_jitter",
                              help="Shift the picture at random every step, so the pattern cannot rely on exact pixels.")
    blur = st.select_slider("Blur", [0.0, 0.5, 1.0], 0.0, key=f"{prefix}_blur",
                            help="Blur the picture now and then to suppress high-frequency noise.")
    decay = st.select_slider("L2 decay", [0.0, 0.01, 0.03, 0.05], 0.0, key=f"{prefix}_decay",
                             format_func=lambda v: f"{v:g}",
                             help="Each step pulls the picture towards grey by this fraction.")
    count = st.select_slider("Filters per grid", [8, 16, 32, 64], 8, key=f"{prefix}_count")
    return FilterSettings(steps=int(steps), parameterization="fourier" if fourier else "pixels", jitter=int(jitter),
                          blur=float(blur), decay=float(decay), count=int(count))


@st.cache_data(max_entries=16, show_spinner=False)
def _visual_layers(_subject: Subject, subject_key: str) -> list[str]:
    from cv_core.interpret._graph import iter_layers, layer_kind

    return [layer.name for layer in iter_layers(_subject.model)
            if layer_kind(layer) in ("convolution", "activation") and len(layer.output.shape) == 4]


def visual_layers(subject: Subject) -> list[str]:
    """Layers whose filters can be visualised: convolutions and their activations (4-D outputs)."""
    return _visual_layers(subject, subject.key)


@st.cache_resource
def _pattern_store() -> dict:
    """Patterns already computed, shared by every session: {(model, layer, filters, settings): result}.

    A plain dict rather than ``st.cache_data``: computing a chunk reports progress to a bar
    that lives outside the computation, which a cached function may not touch.
    """
    return {"results": OrderedDict(), "lock": threading.Lock()}


#: Chunks kept in memory (each a few 8-bit pictures).
STORE_SIZE = 512


def _patterns(subject: Subject, layer: str, filters: tuple[int, ...], settings: dict,
              progress=None) -> tuple[np.ndarray, np.ndarray]:
    """(patterns (n, h, w, 3) uint8, activations (n, 2): own and grey noise's) of one chunk, computed once."""
    from cv_core.interpret.filters import filter_patterns

    store = _pattern_store()
    key = (subject.key, layer, filters, tuple(sorted(settings.items())))
    with store["lock"]:
        if key in store["results"]:
            store["results"].move_to_end(key)
            return store["results"][key]
    options = dict(settings)
    options.pop("count", None)
    steps = options.pop("steps")
    patterns = filter_patterns(subject.model, layer, list(filters), steps=steps, progress=progress,
                               preprocess=subject.preprocess_tensor, **options)
    result = (patterns, _gains(subject, layer, filters, patterns))
    with store["lock"]:
        store["results"][key] = result
        while len(store["results"]) > STORE_SIZE:
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
    """"#3 · ×4.2" (times the grey noise's activation), or both activations when the noise's is not positive."""
    if base > 1e-6:
        return f"#{index} · ×{own / base:.1f}"
    return f"#{index} · {own:.3g} (noise {base:.2g})"


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


def _show(columns, start: int, patterns: np.ndarray, gains: np.ndarray, filters: tuple[int, ...]) -> None:
    for offset, (pattern, (own, base), index) in enumerate(zip(patterns, gains, filters)):
        columns[(start + offset) % len(columns)].image(pattern, width="stretch",
                                                       caption=gain_caption(index, float(own), float(base)))


def pattern_grid(subject: Subject, layer: str, settings: FilterSettings, prefix: str, columns: int = 6) -> None:
    """The first ``settings.count`` (or a chosen page of) filter patterns of ``layer``, filling in chunk by chunk."""
    total = _filter_count(subject, layer)
    count = min(settings.count, total)
    pages = max(1, -(-total // count))
    head = st.columns([3, 1])
    page = head[1].number_input(f"Page (of {pages})", 1, pages, 1, key=f"{prefix}_page_{layer}_{count}")
    first = (int(page) - 1) * count
    indices = list(range(first, min(total, first + count)))
    head[0].markdown(f"**`{layer}`**: filters {indices[0]}–{indices[-1]} of {total}")
    head[0].caption("Under each pattern: its filter, and how many times more the pattern excites that filter than "
                    "the grey noise the search starts from.")
    run_grid(subject, layer, indices, settings, columns)


def run_grid(subject: Subject, layer: str, indices: list[int], settings: FilterSettings, columns: int) -> None:
    """Compute (or fetch) the patterns of ``indices`` chunk by chunk, showing each chunk as it lands."""
    key = asdict(settings)
    grid = st.columns(columns)
    chunks = _chunks(indices)
    shown = 0
    bar = None
    for n, chunk in enumerate(chunks):
        def report(done: int, total: int, n=n) -> None:
            if bar is not None:
                fraction = (n + done / max(1, total)) / len(chunks)
                bar.progress(min(1.0, fraction), text=f"Searching filters {chunk[0]}–{chunk[-1]}: step {done} of {total}")

        if bar is None:
            bar = st.progress(0.0, text="Searching…")
        try:
            patterns, gains = _patterns(subject, layer, chunk, key, progress=report)
        except ValueError as exc:
            st.error(f"These filters cannot be shown: {exc}", icon=":material/error:")
            return
        _show(grid, shown, patterns, gains, chunk)
        shown += len(chunk)
        bar.progress((n + 1) / len(chunks), text=f"{shown} of {len(indices)} patterns")
    if bar is not None:
        bar.empty()


def comparison_grid(subject: Subject, settings: FilterSettings, prefix: str, per_layer: int = 4) -> None:
    """The first filters of an early, a middle and a late layer, side by side."""
    layers = list(subject.comparison_layers)
    if not layers:
        st.info("This model has no convolution layers to compare.")
        return
    columns = st.columns(len(layers))
    for col, layer in zip(columns, layers):
        with col:
            st.markdown(f"**`{layer}`**")
            run_grid(subject, layer, list(range(min(per_layer, _filter_count(subject, layer)))), settings, 2)
