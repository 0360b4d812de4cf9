"""Safe image input: every picture that enters the lab goes through :func:`decode_image`.

Uploads and dataset files are untrusted bytes. Decoding them well means more than
``Image.open``: only a short list of formats is accepted, absurd sizes are refused from
the header before any pixel is decoded (decompression bombs), EXIF orientation is applied,
every odd mode (1-bit, palette with transparency, LA/RGBA, CMYK, 16-bit) becomes plain
8-bit RGB the same way, and very large photos are shrunk while they are decoded so memory
stays bounded. Anything that goes wrong becomes an :class:`ImageInputError` whose message a
non-programmer understands.

It also holds the lab's three resizers, each written once: :func:`resize_image` for 8-bit
pictures, :func:`resize_bilinear` for float maps of any number of channels (heatmaps, class
probabilities) and :func:`resize_nearest` for label maps (masks), which must never mix classes.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps

from cv_core.i18n import N_, TranslatedError

__all__ = [
    "ALLOWED_FORMATS",
    "MAX_DECLARED_PIXELS",
    "MAX_SIDE",
    "MIN_SIDE",
    "ImageInputError",
    "decode_image",
    "decode_label_map",
    "resize_bilinear",
    "resize_image",
    "resize_nearest",
]

#: Formats Pillow may even try to parse. Everything else is refused unread.
ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF")
#: Larger declared sizes are treated as decompression bombs and refused from the header.
#: 120 megapixels admits a 108 MP phone photo (12000 x 9000) and little more.
MAX_DECLARED_PIXELS = 120_000_000
#: Images whose long side is larger are downscaled to this long side while decoding.
MAX_SIDE = 4096
#: Images smaller than this on either side are refused: a convnet cannot use them.
MIN_SIDE = 8
#: Colour that transparent pixels are composited onto (white, like a page).
BACKGROUND = (255, 255, 255)

_FRIENDLY_FORMATS = "PNG, JPEG, WebP, BMP or GIF"


class ImageInputError(TranslatedError, ValueError):
    """An image could not be used; the message says why in plain words (in the reader's language when shown)."""


def _open(data: bytes) -> Image.Image:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ImageInputError(N_("Expected the image file's bytes. Received: {kind}."), kind=type(data).__name__)
    if len(data) == 0:
        raise ImageInputError(N_("The file is empty: there is no picture in it."))
    try:
        with warnings.catch_warnings():
            # Our own header check (below) decides what is too large; Pillow's warning
            # threshold is lower than a legitimate 108 MP photo.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(bytes(data)), formats=ALLOWED_FORMATS)
    except Image.UnidentifiedImageError:
        raise ImageInputError(N_("This file is not a picture the lab can read. Please use a {formats} image."),
                              formats=_FRIENDLY_FORMATS) from None
    except Image.DecompressionBombError:
        raise ImageInputError(N_("This image declares an enormous size and was refused for safety.")) from None
    except Exception as exc:  # any parser failure is the file's fault, not ours
        raise ImageInputError(N_("This file looks damaged and could not be read ({detail})."), detail=str(exc)) from None
    return image


def _check_header(image: Image.Image) -> None:
    if image.format not in ALLOWED_FORMATS:
        raise ImageInputError(N_("{kind} images are not supported. Please use a {formats} image."),
                              kind=image.format or "?", formats=_FRIENDLY_FORMATS)
    width, height = image.size
    if width * height > MAX_DECLARED_PIXELS or max(width, height) > 65_000:
        raise ImageInputError(N_("This image declares a size of {width} x {height} pixels, which is far larger than any "
                                 "real photo; it was refused for safety (it may be a 'decompression bomb')."),
                              width=width, height=height)
    if min(width, height) < MIN_SIDE:
        raise ImageInputError(N_("This image is only {width} x {height} pixels. Please use one at least "
                                 "{side} x {side} pixels."), width=width, height=height, side=MIN_SIDE)


#: Integer grey modes that may hold 16-bit values (Pillow opens 16-bit PNG grey as I;16).
_WIDE_GREY_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")


def _to_rgb_array(image: Image.Image) -> np.ndarray:
    """Convert any Pillow mode to (H, W, 3) uint8 RGB, compositing alpha onto white."""
    mode = image.mode
    if mode in _WIDE_GREY_MODES:
        # 16-bit (or 32-bit integer holding 16-bit data) grey: scale, never clip.
        grey = np.asarray(image, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or grey.max(initial=0) > 255 else 255.0
        grey = np.clip(np.rint(grey * (255.0 / top)), 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if mode == "F":
        grey = np.asarray(image, dtype=np.float64)
        lo, hi = float(np.nanmin(grey)), float(np.nanmax(grey))
        grey = np.zeros_like(grey) if hi <= lo else (grey - lo) / (hi - lo) * 255.0
        grey = np.nan_to_num(np.rint(grey)).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if mode in ("P", "PA", "LA", "La", "RGBa") or (
        mode in ("1", "L", "RGB") and "transparency" in image.info
    ):
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        rgba = np.asarray(image, dtype=np.float32)
        alpha = rgba[:, :, 3:4] / 255.0
        background = np.asarray(BACKGROUND, dtype=np.float32)
        # Straight (non-premultiplied) compositing: a fully transparent pixel is exactly
        # the background, whatever colour is stored under it.
        rgb = rgba[:, :, :3] * alpha + background * (1.0 - alpha)
        return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
    if image.mode != "RGB":
        image = image.convert("RGB")  # 1, L, CMYK, YCbCr, LAB, HSV
    return np.asarray(image, dtype=np.uint8)


def decode_image(data: bytes) -> np.ndarray:
    """Decode untrusted image bytes into an RGB array.

    Args:
        data: the raw bytes of a PNG, JPEG, WebP, BMP or GIF file (an upload or a dataset file).

    Returns:
        ``numpy.ndarray`` of shape (H, W, 3), dtype uint8, RGB, C-contiguous. EXIF orientation
        is applied; transparency is composited onto white; 16-bit images are scaled to 8 bits;
        animated images give their first frame. Images whose long side exceeds
        :data:`MAX_SIDE` (4096) are downscaled to that long side, keeping the aspect ratio;
        smaller images keep their exact size.

    Raises:
        ImageInputError: empty or non-image bytes, truncated or damaged files, formats outside
            :data:`ALLOWED_FORMATS`, a declared size above :data:`MAX_DECLARED_PIXELS`
            (refused from the header, before decoding), or a side below :data:`MIN_SIDE`.
    """
    image = _open(data)
    try:
        _check_header(image)
        if getattr(image, "n_frames", 1) > 1:
            image.seek(0)
        if image.format == "JPEG" and max(image.size) > MAX_SIDE:
            # Let the JPEG decoder shrink by a power of two while decoding: a 48 MP photo
            # never exists in memory at full size.
            image.draft(image.mode, (MAX_SIDE, MAX_SIDE))
        image.load()
        image = ImageOps.exif_transpose(image)
        if max(image.size) > MAX_SIDE:
            image = _downscale(image)
        array = _to_rgb_array(image)
    except ImageInputError:
        raise
    except MemoryError:
        raise ImageInputError(N_("This image is too large to open on this machine.")) from None
    except Exception as exc:
        raise ImageInputError(N_("This file looks damaged or incomplete and could not be decoded ({detail})."),
                              detail=str(exc)) from None
    finally:
        image.close()
    if min(array.shape[:2]) < MIN_SIDE:
        raise ImageInputError(N_("This image is only {width} x {height} pixels. Please use one at least "
                                 "{side} x {side} pixels."), width=array.shape[1], height=array.shape[0], side=MIN_SIDE)
    return np.ascontiguousarray(array)


def _downscale(image: Image.Image) -> Image.Image:
    if image.mode in _WIDE_GREY_MODES or image.mode == "F":
        # Pillow's own conversion of 16-bit grey to RGB clips (1000 -> 255): scale first.
        image = Image.fromarray(_to_rgb_array(image))
    elif image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "A" in image.getbands() or image.mode == "P" else "RGB")
    scale = MAX_SIDE / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def decode_label_map(data: bytes) -> np.ndarray:
    """Decode an annotation image (e.g. a trimap) whose pixel values are class codes.

    Unlike :func:`decode_image`, values are kept as they are (no colour conversion, no
    resizing), so a label map must be a single-channel PNG, BMP or GIF of a sane size.

    Args:
        data: the raw bytes of the annotation file.

    Returns:
        ``numpy.ndarray`` of shape (H, W), dtype uint8, the stored values.

    Raises:
        ImageInputError: anything :func:`decode_image` refuses, or a map that is not
            single-channel 8-bit (modes L or P).
    """
    image = _open(data)
    try:
        _check_header(image)
        image.load()
        if image.mode not in ("L", "P"):
            raise ImageInputError(N_("Expected a single-channel label map (mode L or P). Received mode {mode}."),
                                  mode=image.mode)
        return np.array(image, dtype=np.uint8)
    except ImageInputError:
        raise
    except Exception as exc:
        raise ImageInputError(N_("This label map looks damaged and could not be decoded ({detail})."),
                              detail=str(exc)) from None
    finally:
        image.close()


# --------------------------------------------------------------------------------------
# Resizing
# --------------------------------------------------------------------------------------


def _target(size) -> tuple[int, int]:
    height, width = (int(side) for side in size)
    if height < 1 or width < 1:
        raise ValueError(f"Expected a positive size (height, width). Received: {tuple(size)}")
    return height, width


def resize_image(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize an (H, W, 3) uint8 picture to ``size`` = (height, width) with bilinear filtering.

    Pillow's 8-bit path (a triangle filter that widens when shrinking, so a smaller picture is
    not aliased). Returns the picture itself when it already has that size.
    """
    height, width = _target(size)
    if image.shape[:2] == (height, width):
        return image
    return np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.BILINEAR))


def resize_bilinear(values: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a float map, (H, W) or (H, W, C), to ``size`` = (height, width), bilinearly.

    ``tf.image.resize(..., method="bilinear", antialias=True)``: the same triangle filter as
    :func:`resize_image` (it widens when shrinking), applied to every channel at once.

    Args:
        values: (H, W) or (H, W, C) numbers (NaN stays NaN where it reaches).
        size: (height, width) of the result.

    Returns:
        float32 of shape (height, width) or (height, width, C); a float32 copy of the input
        when it already has that size.

    Raises:
        ValueError: an array that is not 2-D or 3-D, or a size that is not positive.
    """
    values = np.asarray(values, dtype=np.float32)
    height, width = _target(size)
    if values.ndim not in (2, 3):
        raise ValueError(f"Expected a map of shape (H, W) or (H, W, C). Received: shape {values.shape}")
    if values.shape[:2] == (height, width):
        return values.copy()
    from cv_core._tf import tensorflow

    tf = tensorflow()
    channels = values if values.ndim == 3 else values[..., None]
    out = tf.image.resize(channels, (height, width), method="bilinear", antialias=True).numpy()
    return (out if values.ndim == 3 else out[..., 0]).astype(np.float32, copy=False)


def resize_nearest(labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a (H, W) label map to ``size`` = (height, width) by nearest neighbour.

    Each output pixel takes the input pixel under its centre (computed in whole numbers, so
    no rounding error picks a neighbour), so no class is ever mixed, any dtype works, and a
    map enlarged by a whole factor and shrunk back comes back bit-exact. Returns the map itself
    when it already has that size.

    Raises:
        ValueError: a map that is not 2-D, or a size that is not positive.
    """
    labels = np.asarray(labels)
    height, width = _target(size)
    if labels.ndim != 2:
        raise ValueError(f"Expected a 2-D map. Received: shape {labels.shape}")
    if labels.shape == (height, width):
        return labels
    rows = ((2 * np.arange(height) + 1) * labels.shape[0]) // (2 * height)
    cols = ((2 * np.arange(width) + 1) * labels.shape[1]) // (2 * width)
    return labels[rows[:, None], cols[None, :]]
