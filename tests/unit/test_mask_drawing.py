"""cv_core.mask_drawing: palettes that map back exactly, canvas pixels to classes (antialiased
borders, low alpha, blends of two strokes), sizes, polygons, checks and re-labelling."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from cv_core.mask_drawing import (
    ALPHA_DRAWN,
    EXACT_BLEND_CLASSES,
    MIN_BLEND_CLEARANCE,
    MIN_COLOUR_DISTANCE,
    NOT_DRAWN,
    MaskError,
    apply_strokes,
    blank_mask,
    blend_clearance,
    canvas_size,
    canvas_to_labels,
    drawing_palette,
    fill_polygon,
    hex_colour,
    parse_class_names,
    prepare_for_storage,
    remap_mask,
    resize_labels,
    storage_size,
    validate_mask,
)
from cv_core.overlays import class_palette


def _min_distance(palette: np.ndarray) -> float:
    p = palette.astype(float)
    d = np.sqrt(((p[:, None] - p[None]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    return float(d.min())


# -- palettes -----------------------------------------------------------------------------------
@pytest.mark.parametrize("num_classes, background", [(2, 0), (3, 0), (6, 0), (6, 1), (20, 0), (21, 5),
                                                     (37, 0), (100, 99), (256, 0), (256, 255)])
def test_palette_is_distinct_with_a_black_background(num_classes, background):
    palette = drawing_palette(num_classes, background)
    assert palette.shape == (num_classes, 3) and palette.dtype == np.uint8
    assert tuple(palette[background]) == (0, 0, 0)
    assert _min_distance(palette) >= MIN_COLOUR_DISTANCE


def test_palette_matches_the_labs_colours_when_few_classes():
    assert np.array_equal(drawing_palette(6), class_palette(6))


@pytest.mark.parametrize("num_classes, background", [(1, 0), (257, 0), (3, 3), (3, -1), (True, 0), (3.0, 0)])
def test_palette_refuses_bad_arguments(num_classes, background):
    with pytest.raises(MaskError, match="Expected"):
        drawing_palette(num_classes, background)


def test_hex_colour():
    assert hex_colour((255, 0, 16)) == "#ff0010"
    assert hex_colour(np.array([0, 128, 255], np.uint8)) == "#0080ff"


# -- canvas pixels to classes -------------------------------------------------------------------
def _canvas(height=20, width=30) -> np.ndarray:
    return np.zeros((height, width, 4), np.uint8)


def test_transparent_canvas_is_not_drawn():
    labels = canvas_to_labels(_canvas(), drawing_palette(3))
    assert labels.shape == (20, 30) and labels.dtype == np.int16
    assert (labels == NOT_DRAWN).all()


def test_opaque_palette_colours_give_their_class():
    palette = drawing_palette(4)
    rgba = _canvas()
    rgba[2:5, 3:9] = (*palette[2], 255)
    rgba[10:12, :] = (*palette[0], 255)  # the eraser paints background, which is drawn too
    labels = canvas_to_labels(rgba, palette)
    assert (labels[2:5, 3:9] == 2).all() and (labels[10:12] == 0).all()
    assert (labels[:2] == NOT_DRAWN).all() and (labels[13:] == NOT_DRAWN).all()


def test_low_alpha_is_not_drawn_and_half_covered_edges_snap():
    palette = drawing_palette(3)
    rgba = _canvas()
    colour = palette[1].astype(int)
    rgba[0, 0] = (*colour, ALPHA_DRAWN - 1)  # less than half covered
    rgba[0, 1] = (*np.clip(colour + (2, -1, 1), 0, 255), ALPHA_DRAWN)  # un-premultiplying rounding
    rgba[0, 2] = (*colour, 30)
    labels = canvas_to_labels(rgba, palette)
    assert labels[0, 0] == NOT_DRAWN and labels[0, 2] == NOT_DRAWN
    assert labels[0, 1] == 1


def test_blend_between_two_strokes_never_invents_a_third_class():
    # Red and blue; their antialiased border is purple, nearest to class 3's purple (but not
    # within the tolerance of it, as the lab's palettes guarantee).
    palette = np.array([(0, 0, 0), (255, 0, 0), (0, 0, 255), (140, 0, 140)], np.uint8)
    rgba = _canvas(10, 10)
    rgba[:, :5] = (255, 0, 0, 255)
    rgba[:, 5] = (127, 0, 128, 255)  # the blend
    rgba[:, 6:] = (0, 0, 255, 255)
    labels = canvas_to_labels(rgba, palette)
    assert set(np.unique(labels).tolist()) == {1, 2}
    assert (labels[:, :5] == 1).all() and (labels[:, 6:] == 2).all()
    # Plain nearest-colour snapping would have made it class 3:
    assert np.argmin(((palette.astype(int) - (127, 0, 128)) ** 2).sum(1)) == 3


@pytest.mark.parametrize("num_classes", range(2, EXACT_BLEND_CLASSES + 1))
def test_every_mix_of_two_classes_maps_to_one_of_them(num_classes):
    """Where a stroke of class c covers a fraction t of a pixel of class a, the pixel is the mix
    (1 - t) a + t c: for every pair and every t it must read as a or c, never a third class."""
    palette = drawing_palette(num_classes)
    assert blend_clearance(palette) >= MIN_BLEND_CLEARANCE
    t = np.linspace(0, 1, 64)[:, None]
    first, second = np.triu_indices(num_classes, 1)
    for a, c in zip(first, second):
        mix = np.rint((1 - t) * palette[a] + t * palette[c]).astype(np.uint8)
        rgba = np.zeros((3, 64, 4), np.uint8)
        rgba[0], rgba[2] = (*palette[a], 255), (*palette[c], 255)  # clean neighbours above and below
        rgba[1, :, :3], rgba[1, :, 3] = mix, 255
        assert set(np.unique(canvas_to_labels(rgba, palette)[1]).tolist()) <= {a, c}


def test_colours_far_from_every_class_snap_when_nothing_is_clean():
    palette = np.array([(0, 0, 0), (250, 0, 0), (0, 250, 0)], np.uint8)
    rgba = _canvas(4, 4)
    rgba[:2] = (200, 40, 20, 255)
    rgba[2:] = (30, 190, 60, 255)
    labels = canvas_to_labels(rgba, palette)
    assert (labels[:2] == 1).all() and (labels[2:] == 2).all()


def test_antialiased_overlapping_strokes_map_to_their_classes():
    """Strokes drawn at 4x and shrunk with an area filter: real antialiasing on every border."""
    palette = drawing_palette(6)
    big = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    draw = ImageDraw.Draw(big)
    draw.line([(40, 200), (360, 200)], fill=(*palette[2], 255), width=60)
    draw.line([(200, 40), (200, 360)], fill=(*palette[4], 255), width=60)  # on top of the first
    rgba = np.asarray(big.resize((100, 100), Image.Resampling.BOX))
    assert len(np.unique(rgba.reshape(-1, 4), axis=0)) > 10  # borders really are antialiased
    labels = canvas_to_labels(rgba, palette)
    assert set(np.unique(labels).tolist()) <= {NOT_DRAWN, 2, 4}
    assert (labels[46:54, 12:40] == 2).all() and (labels[12:40, 46:54] == 4).all()
    assert (labels[46:54, 46:54] == 4).all()  # the later stroke wins where they cross
    assert (labels[:30, :30] == NOT_DRAWN).all()


def test_many_classes_and_many_colours():
    palette = drawing_palette(256)
    rng = np.random.default_rng(0)
    classes = rng.integers(0, 256, size=(64, 80))
    rgba = np.concatenate([palette[classes], np.full((64, 80, 1), 255, np.uint8)], axis=2)
    assert np.array_equal(canvas_to_labels(rgba, palette), classes)


@pytest.mark.parametrize("rgba", [np.zeros((5, 5, 3), np.uint8), np.zeros((5, 5, 4), np.float32),
                                  np.zeros((5, 5), np.uint8)])
def test_canvas_must_be_rgba_uint8(rgba):
    with pytest.raises(MaskError, match="RGBA"):
        canvas_to_labels(rgba, drawing_palette(3))


# -- sizes ------------------------------------------------------------------------------------
def test_resize_labels_round_trip_and_not_drawn():
    rng = np.random.default_rng(1)
    labels = rng.integers(-1, 5, size=(13, 17)).astype(np.int16)
    big = resize_labels(labels, (65, 85))
    assert big.dtype == np.int16 and (big[:5, :5] == labels[0, 0]).all()
    assert np.array_equal(resize_labels(big, (13, 17)), labels)


def test_resize_labels_non_integer_factor_keeps_values():
    labels = np.arange(12).reshape(3, 4)
    out = resize_labels(labels, (7, 5))
    assert out.shape == (7, 5) and set(np.unique(out)) <= set(range(12))


def test_apply_strokes_keeps_the_start_where_nothing_is_painted():
    start = np.zeros((96, 96), np.uint8)
    start[60:, 60:] = 3
    labels = np.full((480, 480), NOT_DRAWN, np.int16)  # a canvas enlarged 5x
    labels[100:150, 50:400] = 2
    mask = apply_strokes(start, labels)
    assert mask.dtype == np.uint8 and mask.shape == (96, 96)
    assert (mask[20:30, 10:80] == 2).all()
    assert (mask[60:, 80:] == 3).all() and (mask[:20] == 0).all()
    assert start.max() == 3 and (start[20:30] == 0).all()  # the start is not modified
    assert np.array_equal(apply_strokes(start, None), start)


def test_storage_size():
    assert storage_size(96, 96) == (96, 96)
    assert storage_size(3072, 4096) == (768, 1024)
    assert storage_size(1024, 200) == (1024, 200)
    with pytest.raises(MaskError, match="too long and thin"):
        storage_size(8, 4096)
    with pytest.raises(MaskError, match="too small"):
        storage_size(7, 20)


def test_canvas_size():
    assert canvas_size(96, 96) == (480, 480)  # enlarged by a whole factor
    assert canvas_size(32, 64) == (224, 448)
    assert canvas_size(768, 1024) == (360, 480)
    assert canvas_size(480, 300) == (480, 300)
    assert canvas_size(768, 1024, side=800) == (600, 800)


def test_prepare_for_storage_shrinks_picture_and_mask_together():
    image = np.zeros((2000, 3000, 3), np.uint8)
    image[:, 1500:] = 200
    mask = np.zeros((2000, 3000), np.uint8)
    mask[:, 1500:] = 1
    small, small_mask = prepare_for_storage(image, mask)
    assert small.shape == (683, 1024, 3) and small_mask.shape == (683, 1024)
    assert set(np.unique(small_mask).tolist()) == {0, 1}
    assert (small_mask[:, 520:] == 1).all() and (small[:, 520:] == 200).all()
    same, same_mask = prepare_for_storage(image[:100, :100], mask[:100, :100])
    assert same.shape == (100, 100, 3) and same_mask.shape == (100, 100)
    with pytest.raises(MaskError, match="same size"):
        prepare_for_storage(image[:100, :100], mask[:90, :100])


# -- polygons, checks, re-labelling -----------------------------------------------------------------
def test_fill_polygon_square_fills_pixels_whose_centre_is_inside():
    mask = np.zeros((10, 10), np.uint8)
    out = fill_polygon(mask, [(2, 2), (6, 2), (6, 6), (2, 6)], 3)
    expected = np.zeros((10, 10), np.uint8)
    expected[2:6, 2:6] = 3
    assert np.array_equal(out, expected) and mask.max() == 0


def test_fill_polygon_triangle_and_clipping():
    out = fill_polygon(np.zeros((20, 20), np.int32), [(0, 0), (30, 0), (0, 30)], 1)  # corners outside
    assert out[0, 0] == 1 and out[19, 0] == 1 and out[0, 19] == 1 and out[19, 19] == 0
    assert out.dtype == np.int32


@pytest.mark.parametrize("points, class_index, match", [
    ([(0, 0), (5, 5)], 1, "three or more"),
    ([(0, 0), (5, 5), (np.nan, 1)], 1, "finite"),
    ([(0, 0), (5, 0), (5, 5)], 256, "class_index"),
    ([(0, 0), (5, 0), (5, 5)], -1, "class_index"),
])
def test_fill_polygon_refuses(points, class_index, match):
    with pytest.raises(MaskError, match=match):
        fill_polygon(np.zeros((8, 8), np.uint8), points, class_index)


def test_blank_mask():
    mask = blank_mask((4, 6, 3), 2)
    assert mask.shape == (4, 6) and mask.dtype == np.uint8 and (mask == 2).all()


def test_validate_mask_accepts_and_converts():
    out = validate_mask(np.array([[0, 1], [2, 1]], np.int64), (2, 2, 3), 3)
    assert out.dtype == np.uint8
    assert validate_mask(np.ones((2, 2), bool), (2, 2), 2).dtype == np.uint8


@pytest.mark.parametrize("mask, match", [
    (np.zeros((4, 5), np.uint8), r"The mask is 5 × 4 pixels but the picture is 6 × 4"),
    (np.full((4, 6), 3, np.uint8), r"value 3, outside the 3 classes \(values 0 to 2\)"),
    (np.full((4, 6), -1, np.int16), r"value -1"),
    (np.zeros((4, 6), np.float32), "whole-number"),
    (np.zeros((4, 6, 3), np.uint8), "2-D"),
])
def test_validate_mask_refuses_with_a_clear_message(mask, match):
    with pytest.raises(MaskError, match=match):
        validate_mask(mask, (4, 6, 3), 3)


def test_remap_shapes_to_a_user_dataset_by_name():
    shapes = ["background", "circle", "square", "triangle", "star", "cross"]
    mask = np.array([[0, 1], [2, 2]], np.uint8)
    out = remap_mask(mask, shapes, ["background", "Square", "circle"])
    assert np.array_equal(out, [[0, 2], [1, 1]])
    with pytest.raises(MaskError, match="'star'"):
        remap_mask(np.array([[0, 4]]), shapes, ["background", "circle"])


def test_remap_pets_background_moves_to_the_targets_background():
    pets = ["foreground", "background", "boundary"]
    mask = np.array([[0, 1, 2]], np.uint8)
    out = remap_mask(mask, pets, ["background", "foreground", "boundary"], source_background=1, target_background=0)
    assert np.array_equal(out, [[1, 0, 2]])
    with pytest.raises(MaskError, match="values from 0 to 5"):
        remap_mask(np.array([[0, 5]]), pets, ["background", "foreground"], 1, 0)


def test_parse_class_names():
    assert parse_class_names("  background \n\ncat\r\ndog\n") == ["background", "cat", "dog"]
    assert parse_class_names("fond\nchat été 🐱") == ["fond", "chat été 🐱"]


@pytest.mark.parametrize("text, match", [
    ("", "at least two"),
    ("background", "at least two"),
    ("background\nCat\ncat", "repeats class 2"),
    ("background\n" + "x" * 65, "too long"),
    ("\n".join(f"c{i}" for i in range(257)), "at most 256"),
    ("background\ncat\x07", "control characters"),
])
def test_parse_class_names_refuses(text, match):
    with pytest.raises(MaskError, match=match):
        parse_class_names(text)


def _canvas_with_rect(size, left, top, width, height, stroke_width, colour, supersample=8) -> np.ndarray:
    """What the canvas draws for a Fabric rect at origin left/top: the fill over
    [left, left + width) and, with an outline, the outline's full width added on the right and
    bottom (the stroke is centred on a path offset by half its width). Coverage is antialiased
    as a browser does: alpha = the covered share of each pixel."""
    h, w = size
    s = supersample
    ys = (np.arange(h * s) + 0.5) / s
    xs = (np.arange(w * s) + 0.5) / s
    inside = ((ys >= top) & (ys < top + height + stroke_width))[:, None] & \
             ((xs >= left) & (xs < left + width + stroke_width))[None, :]
    coverage = inside.reshape(h, s, w, s).mean(axis=(1, 3))
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[..., :3] = colour
    rgba[..., 3] = np.round(coverage * 255).astype(np.uint8)
    return rgba


def _cells(shape, x0, y0, x1, y1) -> np.ndarray:
    rows = (np.arange(shape[0]) + 0.5)[:, None]
    cols = (np.arange(shape[1]) + 0.5)[None, :]
    return (rows > y0) & (rows < y1) & (cols > x0) & (cols < x1)


@pytest.mark.parametrize("left, top, width, height", [
    (264, 264, 144, 120),            # the browser test's rectangle, on whole canvas pixels
    (263.4, 101.7, 77.9, 40.2),      # fractional edges: antialiased borders
    (0, 0, 480, 480),                # the whole canvas
    (31, 402, 6, 5),                 # about one picture pixel
])
def test_a_rectangle_without_outline_covers_exactly_the_dragged_pixels(left, top, width, height):
    """Issue 19: rectangles saved one outline width wider and taller than dragged. The Mask
    studio now draws filled shapes with ``strokeWidth`` 0; the canvas-to-mask conversion then
    maps the dragged box (canvas px, 5 per picture px) to exactly the picture pixels whose centres
    lie inside it."""
    palette = drawing_palette(6)
    rgba = _canvas_with_rect((480, 480), left, top, width, height, 0, palette[4])
    mask = apply_strokes(blank_mask((96, 96)), canvas_to_labels(rgba, palette))
    expected = _cells((96, 96), left / 5, top / 5, (left + width) / 5, (top + height) / 5)
    assert np.array_equal(mask == 4, expected), (np.argwhere(mask == 4).min(0), np.argwhere(mask == 4).max(0))


def test_a_rectangle_with_an_outline_would_cover_more_than_was_dragged():
    """Why the studio draws filled shapes without an outline: an outline of 18 canvas px (the
    default brush) adds 18 px on the right and bottom, 3 to 4 picture pixels."""
    palette = drawing_palette(6)
    rgba = _canvas_with_rect((480, 480), 264, 264, 144, 120, 18, palette[4])
    mask = apply_strokes(blank_mask((96, 96)), canvas_to_labels(rgba, palette))
    dragged = _cells((96, 96), 52.8, 52.8, 81.6, 76.8)
    assert np.array_equal(mask == 4, _cells((96, 96), 52.8, 52.8, (408 + 18) / 5, (384 + 18) / 5))
    assert (mask[dragged] == 4).all() and (mask[~dragged] == 4).any()  # rows to 79 and columns to 84, not 76 and 81
