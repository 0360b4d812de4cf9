"""decode_image and decode_label_map: what is refused, and how every accepted picture decodes."""

from __future__ import annotations

import io
import struct
import time
import warnings

import numpy as np
import pytest
from PIL import Image

from cv_core.images import MAX_SIDE, ImageInputError, decode_image, decode_label_map
from tests.unit.fixtures_data import (
    bmp_declaring, encode, gif_declaring, noise, png_declaring, raw_png, solid,
)

WHITE = (255, 255, 255)


def assert_rgb(array: np.ndarray, height: int, width: int) -> None:
    assert isinstance(array, np.ndarray)
    assert array.shape == (height, width, 3)
    assert array.dtype == np.uint8
    assert array.flags.c_contiguous


def assert_refused(data: bytes, *words: str) -> ImageInputError:
    """decode_image refuses ``data`` with ImageInputError (and nothing else) in plain words."""
    with pytest.raises(ImageInputError) as info:
        decode_image(data)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "Traceback" not in message and len(message) > 20
    for word in words:
        assert word.lower() in message.lower(), message
    return info.value


# -- refused --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", ["empty"]),
        (b"Hello, this is a text file, not a picture.\n" * 5, ["PNG", "JPEG"]),
        (np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes(), ["PNG"]),
        (b"\x89PNG\r\n\x1a\n", []),  # a signature and nothing else
    ],
    ids=["empty", "text", "random", "signature-only"],
)
def test_non_images_are_refused(data, words):
    assert_refused(data, *words)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
@pytest.mark.parametrize("keep", [0.5, 0.8])
def test_truncated_files_are_refused(fmt, keep):
    data = noise((64, 64), fmt, quality=95) if fmt == "JPEG" else noise((64, 64), fmt)
    assert decode_image(data).shape == (64, 64, 3)  # the whole file is fine
    assert_refused(data[: int(len(data) * keep)])


@pytest.mark.parametrize("fmt", ["TIFF", "ICO", "PPM", "EPS"])
def test_formats_outside_the_allow_list_are_refused(fmt):
    data = solid((255, 0, 0), (32, 32), fmt)
    assert Image.open(io.BytesIO(data)).format == fmt  # Pillow itself reads it
    assert_refused(data, "PNG", "JPEG", "WebP", "BMP", "GIF")


@pytest.mark.parametrize(
    "data",
    [
        png_declaring(100_000, 100_000),
        png_declaring(20_000, 7_000),  # 140 MP: under Pillow's own bomb limit, over ours
        png_declaring(65_535, 8),  # few pixels but an absurd side
        gif_declaring(65_535, 65_535),
        bmp_declaring(50_000, 50_000),
    ],
    ids=["png-100k", "png-140MP", "png-long-strip", "gif-64k", "bmp-50k"],
)
def test_absurd_declared_sizes_are_refused_from_the_header(data):
    start = time.perf_counter()
    assert_refused(data, "size")
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("size", [(7, 100), (100, 7), (1, 1)])
def test_images_under_eight_pixels_a_side_are_refused(size):
    assert_refused(solid((10, 20, 30), size, "PNG"), "8 x 8")


def test_eight_pixels_is_enough():
    assert_rgb(decode_image(solid((10, 20, 30), (8, 8), "PNG")), 8, 8)


def test_non_bytes_are_refused():
    with pytest.raises(ImageInputError):
        decode_image("picture.png")


# -- formats and modes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "fmt, options",
    [("PNG", {}), ("BMP", {}), ("GIF", {}), ("WEBP", {"lossless": True}), ("JPEG", {"quality": 100})],
)
def test_formats_decode_to_rgb(fmt, options):
    out = decode_image(solid((10, 200, 30), (16, 12), fmt, **options))
    assert_rgb(out, 12, 16)
    tolerance = 3 if fmt == "JPEG" else 0
    assert np.abs(out.astype(int) - (10, 200, 30)).max() <= tolerance


def test_grayscale_l():
    out = decode_image(solid(77, (16, 16), "PNG", mode="L"))
    assert_rgb(out, 16, 16)
    assert (out == 77).all()


def test_one_bit():
    image = Image.new("1", (16, 16), 0)
    image.paste(1, (0, 0, 8, 16))
    out = decode_image(encode(image, "PNG"))
    assert_rgb(out, 16, 16)
    assert (out[:, :8] == 255).all() and (out[:, 8:] == 0).all()


def _palette_image() -> Image.Image:
    image = Image.new("P", (16, 16), 0)
    image.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)  # index 0 red, index 1 green
    image.paste(1, (0, 0, 8, 16))
    return image


def test_palette():
    out = decode_image(encode(_palette_image(), "PNG"))
    assert_rgb(out, 16, 16)
    assert (out[:, :8] == (0, 255, 0)).all() and (out[:, 8:] == (255, 0, 0)).all()


@pytest.mark.parametrize("fmt", ["PNG", "GIF"])
def test_palette_transparency_becomes_white(fmt):
    # Index 0 (red) is transparent: its pixels must be exactly white, not red.
    out = decode_image(encode(_palette_image(), fmt, transparency=0))
    assert (out[:, 8:] == WHITE).all()
    assert (out[:, :8] == (0, 255, 0)).all()


def _alpha_columns() -> np.ndarray:
    alpha = np.zeros((16, 16), np.uint8)
    alpha[:, 8:12] = 128
    alpha[:, 12:] = 255
    return alpha


@pytest.mark.parametrize("fmt, options", [("PNG", {}), ("WEBP", {"lossless": True, "exact": True})])
def test_rgba_is_composited_on_white(fmt, options):
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[..., 0] = 255  # pure red everywhere, even under alpha 0
    rgba[..., 3] = _alpha_columns()
    out = decode_image(encode(Image.fromarray(rgba, "RGBA"), fmt, **options))
    assert_rgb(out, 16, 16)
    assert (out[:, :8] == WHITE).all()  # no red leaks from transparent pixels
    half = out[:, 8:12].astype(int)
    assert (half[..., 0] == 255).all() and (np.abs(half[..., 1:] - 127) <= 1).all()
    assert (out[:, 12:] == (255, 0, 0)).all()


def test_la_is_composited_on_white():
    grey_alpha = np.stack([np.zeros((16, 16), np.uint8), _alpha_columns()], axis=-1)
    out = decode_image(encode(Image.fromarray(grey_alpha, "LA"), "PNG"))
    assert_rgb(out, 16, 16)
    assert (out[:, :8] == WHITE).all()
    assert (np.abs(out[:, 8:12].astype(int) - 127) <= 1).all()
    assert (out[:, 12:] == 0).all()


def test_rgb_png_with_a_transparent_colour_key():
    pixels = np.zeros((16, 16, 3), np.uint8)
    pixels[:, :8] = (255, 0, 0)
    pixels[:, 8:] = (0, 0, 255)
    out = decode_image(encode(Image.fromarray(pixels), "PNG", transparency=(255, 0, 0)))
    assert (out[:, :8] == WHITE).all() and (out[:, 8:] == (0, 0, 255)).all()


def test_cmyk_jpeg():
    data = solid((0, 255, 255, 0), (16, 16), "JPEG", mode="CMYK", quality=100)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    out = decode_image(data)
    assert_rgb(out, 16, 16)
    assert np.abs(out.astype(int) - (255, 0, 0)).max() <= 3


def test_sixteen_bit_grey_is_scaled_not_clipped():
    values = np.array([65535, 32768, 1000, 0], np.uint16)
    grey = np.tile(np.repeat(values, 4), (16, 1))  # 16 x 16
    data = encode(Image.fromarray(grey), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    out = decode_image(data)
    assert_rgb(out, 16, 16)
    assert out[0, ::4, 0].tolist() == [255, 128, 4, 0]
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()


def test_large_sixteen_bit_grey_is_scaled_not_clipped_when_downscaled():
    grey = np.full((20, 5000), 1000, np.uint16)
    out = decode_image(raw_png(grey, 16, 0))
    assert out.shape == (16, MAX_SIDE, 3)
    assert (out == 4).all()  # 1000 / 65535 * 255, not 255


@pytest.mark.parametrize("colour_type", [2, 6], ids=["rgb16", "rgba16"])
def test_sixteen_bit_rgb_is_scaled_not_clipped(colour_type):
    pixels = np.zeros((16, 16, 4 if colour_type == 6 else 3), np.uint16)
    pixels[..., 0], pixels[..., 1], pixels[..., 2] = 65535, 32768, 1000
    if colour_type == 6:
        pixels[..., 3] = 65535
    out = decode_image(raw_png(pixels, 16, colour_type))
    assert_rgb(out, 16, 16)
    red, green, blue = (int(v) for v in out[5, 5])
    assert red == 255 and green == 128 and blue in (3, 4)


def test_animated_images_give_their_first_frame():
    frames = [Image.new("RGB", (16, 16), colour) for colour in ("red", "blue", "green")]
    for fmt, options in [("GIF", {}), ("WEBP", {"lossless": True})]:
        data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0, **options)
        assert Image.open(io.BytesIO(data)).n_frames == 3
        out = decode_image(data)
        assert_rgb(out, 16, 16)
        assert (out == (255, 0, 0)).all(), fmt


# -- orientation and size -------------------------------------------------------------------


@pytest.mark.parametrize(
    "orientation, corner",
    [(1, (0, 0)), (3, (-1, -1)), (6, (0, -1)), (8, (-1, 0))],
    ids=["upright", "rotate-180", "rotate-cw", "rotate-ccw"],
)
def test_exif_orientation_is_applied(orientation, corner):
    pixels = np.zeros((20, 40, 3), np.uint8)  # 40 wide, 20 high
    pixels[:10, :10] = (255, 0, 0)  # red top-left corner
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = decode_image(encode(Image.fromarray(pixels), "JPEG", exif=exif, quality=95))
    turned = orientation in (6, 8)
    assert_rgb(out, *((40, 20) if turned else (20, 40)))
    y, x = corner
    red = out[3 if y == 0 else -4, 3 if x == 0 else -4].astype(int)
    assert red[0] > 200 and red[1:].max() < 50, red
    reds = (out[..., 0] > 200) & (out[..., 1] < 50)
    assert 80 <= reds.sum() <= 120  # exactly one red corner of ~10 x 10


def test_broken_exif_does_not_spoil_a_good_photo():
    jpeg = solid((255, 0, 0), (32, 32), "JPEG", quality=95)
    payload = b"Exif\x00\x00MM\x00\x2a\xff\xff\xff\xf0"  # an IFD offset past the end
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = decode_image(jpeg[:2] + app1 + jpeg[2:])
    assert_rgb(out, 32, 32)
    assert out[16, 16, 0] > 240


def test_huge_photo_is_downscaled_to_the_long_side_keeping_aspect():
    data = solid((20, 120, 220), (8000, 6000), "JPEG", quality=20)
    out = decode_image(data)
    assert_rgb(out, 3072, 4096)
    assert np.abs(out[100, 100].astype(int) - (20, 120, 220)).max() <= 6


def test_huge_portrait_photo_with_exif_rotation():
    exif = Image.Exif()
    exif[0x0112] = 6
    data = solid((200, 50, 50), (6000, 3000), "JPEG", quality=20, exif=exif)
    assert_rgb(decode_image(data), MAX_SIDE, 2048)


@pytest.mark.parametrize("size", [(4096, 100), (100, 4096), (4000, 30), (500, 300)])
def test_images_up_to_the_limit_keep_their_exact_size(size):
    width, height = size
    assert_rgb(decode_image(solid((1, 2, 3), size, "PNG")), height, width)


def test_just_over_the_limit_is_downscaled():
    assert_rgb(decode_image(solid((1, 2, 3), (4097, 40), "PNG")), 40, 4096)


# -- label maps -----------------------------------------------------------------------------


def test_label_map_keeps_raw_values_of_l_png():
    values = np.tile(np.array([1, 2, 3, 0, 7], np.uint8), (10, 4))  # 10 x 20
    out = decode_label_map(encode(Image.fromarray(values, "L"), "PNG"))
    assert out.dtype == np.uint8 and out.shape == (10, 20)
    np.testing.assert_array_equal(out, values)


def test_label_map_keeps_palette_indices():
    out = decode_label_map(encode(_palette_image(), "PNG"))
    assert out.shape == (16, 16)
    assert (out[:, :8] == 1).all() and (out[:, 8:] == 0).all()


@pytest.mark.parametrize("mode, colour", [("RGB", (1, 2, 3)), ("RGBA", (1, 2, 3, 4))])
def test_label_map_refuses_colour_images(mode, colour):
    with pytest.raises(ImageInputError, match="single-channel"):
        decode_label_map(solid(colour, (16, 16), "PNG", mode=mode))


@pytest.mark.parametrize("data", [b"", b"not a png at all, just words", png_declaring(100_000, 100_000)])
def test_label_map_refuses_what_decode_image_refuses(data):
    with pytest.raises(ImageInputError):
        decode_label_map(data)


# -- resizing: one resizer per kind of array --------------------------------------------------


def pillow_bilinear(values: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Pillow's float bilinear resize, channel by channel: what the callers did before."""
    height, width = size
    planes = values if values.ndim == 3 else values[..., None]
    out = np.stack([np.asarray(Image.fromarray(planes[..., c].astype(np.float32), mode="F").resize(
        (width, height), Image.Resampling.BILINEAR)) for c in range(planes.shape[-1])], axis=-1)
    return out if values.ndim == 3 else out[..., 0]


@pytest.mark.parametrize("shape, size", [
    ((10, 10), (180, 180)),        # a heatmap onto a photo
    ((7, 9, 3), (13, 4)),          # up one way, down the other
    ((64, 64, 3), (37, 53)),       # probabilities shrunk to a picture
    ((150, 150, 1), (125, 125)),   # the test-time zoom's crop
])
def test_resize_bilinear_is_the_antialiased_triangle_filter(shape, size):
    from cv_core.images import resize_bilinear

    values = np.random.default_rng(0).random(shape).astype(np.float32)
    out = resize_bilinear(values, size)
    assert out.shape == size + shape[2:] and out.dtype == np.float32
    np.testing.assert_allclose(out, pillow_bilinear(values, size), atol=2e-5)


def test_resize_bilinear_copies_at_the_same_size_and_refuses_other_shapes():
    from cv_core.images import resize_bilinear

    values = np.ones((4, 5), np.float64)
    same = resize_bilinear(values, (4, 5))
    assert same.dtype == np.float32 and np.array_equal(same, values)
    same[0, 0] = 7
    assert values[0, 0] == 1
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, C\)"):
        resize_bilinear(np.ones((2, 2, 2, 2)), (3, 3))
    with pytest.raises(ValueError, match="positive size"):
        resize_bilinear(values, (0, 3))


def test_resize_nearest_takes_the_pixel_under_each_centre():
    from fractions import Fraction

    from cv_core.images import resize_nearest

    rng = np.random.default_rng(1)
    for _ in range(40):
        h, w, height, width = (int(n) for n in rng.integers(1, 60, 4))
        labels = rng.integers(-3, 300, (h, w)).astype(np.int16)
        out = resize_nearest(labels, (height, width))
        rows = [int((Fraction(2 * i + 1, 2) * h) // height) for i in range(height)]
        cols = [int((Fraction(2 * j + 1, 2) * w) // width) for j in range(width)]
        assert out.dtype == labels.dtype and np.array_equal(out, labels[np.ix_(rows, cols)])


def test_resize_nearest_a_centre_on_a_border_takes_the_pixel_that_starts_there():
    """161 rows from 100: row 80's centre is exactly at input row 50.0 (Pillow's float maths picks 49)."""
    from cv_core.images import resize_nearest

    labels = np.arange(100, dtype=np.uint8)[:, None]
    assert resize_nearest(labels, (161, 1))[80, 0] == 50


def test_the_mask_resizers_are_one():
    from cv_core.datasets import resize_mask
    from cv_core.images import resize_nearest
    from cv_core.mask_drawing import resize_labels

    mask = np.random.default_rng(2).integers(0, 4, (23, 31)).astype(np.uint8)
    for size in [(23, 31), (64, 48), (7, 9)]:
        assert np.array_equal(resize_mask(mask, size), resize_nearest(mask, size))
        assert np.array_equal(resize_labels(mask, size), resize_nearest(mask, size))
    assert resize_mask(mask, (23, 31)) is mask  # unchanged size: the mask itself
