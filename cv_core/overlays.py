"""Pictures drawn over pictures: label masks and boxes, and heatmaps in the turbo colours.

Labels: masks coloured with a class palette and blended over images, boxes drawn with
captions, a legend, and a nearest-neighbour upscale for small pictures. Heatmaps: a float map
resized bilinearly (:func:`cv_core.images.resize_bilinear`), coloured with plotly's ``Turbo``
scale (Google's turbo map, sampled once into a 256-entry table) and alpha-blended over a photo.

Pure numpy/Pillow, so notebooks and the app draw the same pictures.
"""

from __future__ import annotations

import colorsys
import functools

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from cv_core.images import resize_bilinear

__all__ = [
    "class_palette",
    "colorize",
    "colorize_mask",
    "draw_boxes",
    "mask_legend",
    "overlay",
    "overlay_mask",
    "resize_map",
    "scale_boxes",
    "turbo_table",
    "upscale",
]


def class_palette(n: int, background_first: bool = True) -> np.ndarray:
    """``n`` well-separated RGB colours as an (n, 3) uint8 array.

    With ``background_first`` the first colour is black, for mask value 0 = background.
    """
    colours = []
    offset = 1 if background_first else 0
    for k in range(n - offset):
        hue = (k * 0.618033988749895 + 0.02) % 1.0  # golden-ratio hues stay apart
        r, g, b = colorsys.hsv_to_rgb(hue, 0.85, 0.95)
        colours.append((int(r * 255), int(g * 255), int(b * 255)))
    if background_first:
        colours.insert(0, (0, 0, 0))
    return np.array(colours[:n], dtype=np.uint8).reshape(n, 3)


def colorize_mask(mask: np.ndarray, num_classes: int, palette: np.ndarray | None = None) -> np.ndarray:
    """Colour a (H, W) class-index mask: returns (H, W, 3) uint8, one colour per class."""
    palette = class_palette(num_classes) if palette is None else palette
    return palette[np.clip(mask, 0, len(palette) - 1)]


def overlay_mask(image: np.ndarray, mask: np.ndarray, num_classes: int, opacity: float = 0.5,
                 ignore: tuple[int, ...] = (0,), palette: np.ndarray | None = None) -> np.ndarray:
    """Blend a coloured mask over an image.

    Args:
        image: (H, W, 3) uint8.
        mask: (H, W) class indices, same height and width.
        num_classes: number of mask classes (sets the palette).
        opacity: 0 shows only the image, 1 only the mask colours.
        ignore: mask values left uncoloured (background by default).

    Returns:
        (H, W, 3) uint8.
    """
    if mask.shape != image.shape[:2]:
        raise ValueError(f"Expected a mask of shape {image.shape[:2]}. Received: {mask.shape}")
    colours = colorize_mask(mask, num_classes, palette).astype(np.float32)
    alpha = np.where(np.isin(mask, ignore), 0.0, float(np.clip(opacity, 0, 1)))[..., None]
    out = image.astype(np.float32) * (1 - alpha) + colours * alpha
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def upscale(image: np.ndarray, min_side: int = 192) -> np.ndarray:
    """Enlarge a small image by a whole factor (nearest neighbour) so pixels stay crisp on screen."""
    factor = max(1, int(np.ceil(min_side / max(1, min(image.shape[:2])))))
    if factor == 1:
        return image
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def scale_boxes(boxes, factor: float) -> list[tuple[int, int, int, int, int]]:
    """Boxes (class_index, x0, y0, x1, y1) for a picture enlarged by ``factor``."""
    return [(int(c), round(x0 * factor), round(y0 * factor), round(x1 * factor), round(y1 * factor))
            for c, x0, y0, x1, y1 in boxes]


#: Fonts with Traditional Chinese glyphs (Debian's fonts-noto-cjk, which .ci/run installs), tried in order.
CJK_FONT_FILES = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                  "/usr/share/fonts/opentype/noto/NotoSansCJK-Medium.ttc",
                  "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc")


@functools.lru_cache(maxsize=32)
def _cjk_font(size: int):
    for path in CJK_FONT_FILES:
        for index in range(10):  # the collection's Traditional Chinese face ("Noto Sans CJK TC")
            try:
                font = ImageFont.truetype(path, size, index=index)
            except OSError:
                break
            if "TC" in font.getname()[0]:
                return font
    return None


def label_font(size: int, *texts: str):
    """PIL's built-in font for Latin text; a CJK font (when installed) once any text needs one, so
    Chinese class names are drawn rather than boxes."""
    if any(ord(ch) > 0x2FFF for text in texts for ch in text):
        font = _cjk_font(size)
        if font is not None:
            return font
    return ImageFont.load_default(size=size)


def draw_boxes(image: np.ndarray, boxes, class_names: list[str], palette: np.ndarray | None = None,
               width: int | None = None) -> np.ndarray:
    """Draw (class_index, x0, y0, x1, y1) boxes with class captions; returns a new (H, W, 3) uint8."""
    canvas = Image.fromarray(image).convert("RGB")
    draw = ImageDraw.Draw(canvas)
    palette = class_palette(len(class_names), background_first=False) if palette is None else palette
    width = width or max(1, round(min(image.shape[:2]) / 100))
    font = label_font(max(10, min(image.shape[:2]) // 14), *class_names)
    for cls, x0, y0, x1, y1 in boxes:
        colour = tuple(int(c) for c in palette[int(cls) % len(palette)])
        draw.rectangle([x0, y0, x1 - 1, y1 - 1], outline=colour, width=width)
        text = class_names[int(cls)] if 0 <= int(cls) < len(class_names) else str(cls)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        tw, th = right - left + 4, bottom - top + 2
        tx = max(0, min(x0, canvas.width - tw))  # keep the caption inside the picture
        ty = y0 - th if y0 - th >= 0 else y0
        draw.rectangle([tx, ty, tx + tw, ty + th], fill=colour)
        draw.text((tx + 2 - left, ty + 1 - top), text, fill=(0, 0, 0), font=font)
    return np.asarray(canvas)


def mask_legend(names: list[str], palette: np.ndarray, width: int, skip: tuple[int, ...] = ()) -> np.ndarray:
    """A white strip with one colour swatch and name per mask class, ``width`` pixels wide.

    Returns:
        (h, width, 3) uint8, to stack under a mask picture.
    """
    font = label_font(14, *names)
    entries = [(names[i], tuple(int(c) for c in palette[i])) for i in range(len(names)) if i not in skip]
    line_height, x, y = 22, 6, 4
    positions = []
    for name, colour in entries:
        w = 22 + int(font.getlength(name)) + 14
        if x + w > width and x > 6:
            x, y = 6, y + line_height
        positions.append((x, y, name, colour))
        x += w
    strip = Image.new("RGB", (width, y + line_height + 2), (255, 255, 255))
    draw = ImageDraw.Draw(strip)
    for x, y, name, colour in positions:
        draw.rectangle([x, y + 3, x + 14, y + 17], fill=colour, outline=(80, 80, 80))
        draw.text((x + 20, y + 2), name, fill=(30, 30, 30), font=font)
    return np.asarray(strip)


# Heatmaps


def resize_map(heatmap: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a 2-D float map to ``size`` = (height, width) with bilinear filtering (float32)."""
    return resize_bilinear(np.asarray(heatmap, dtype=np.float32), size)


@functools.lru_cache(maxsize=1)
def turbo_table() -> np.ndarray:
    """The turbo colour map as a (256, 3) uint8 table: entry ``i`` is the colour of ``i / 255``.

    Sampled from ``plotly.colors.sequential.Turbo`` with ``plotly.colors.sample_colorscale``
    (linear between its anchors): dark blue, cyan, green, yellow, red.
    """
    from plotly import colors

    samples = colors.sample_colorscale(colors.sequential.Turbo, list(np.linspace(0.0, 1.0, 256)))
    table = np.array([colors.unlabel_rgb(colour) for colour in samples], dtype=np.float64)
    table = np.rint(table).clip(0, 255).astype(np.uint8)
    table.setflags(write=False)
    return table


def colorize(heatmap: np.ndarray) -> np.ndarray:
    """A (H, W) map in [0, 1] as an (H, W, 3) uint8 turbo-coloured picture (values are clipped; NaN is 0)."""
    values = np.clip(np.nan_to_num(np.asarray(heatmap, dtype=np.float32)), 0.0, 1.0)
    return turbo_table()[np.rint(values * 255).astype(np.intp)]


def overlay(photo: np.ndarray, heatmap: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """The heatmap over an (H, W, 3) uint8 photo, for display.

    Args:
        photo: (H, W, 3) uint8 RGB.
        heatmap: 2-D map in [0, 1] of any size (resized to the photo's).
        alpha: opacity of the heatmap in [0, 1]; 0 shows the photo, 1 only the heatmap.

    Returns:
        (H, W, 3) uint8 RGB.

    Raises:
        ValueError: a photo that is not (H, W, 3), a heatmap that is not 2-D, or alpha out of range.
    """
    photo = np.asarray(photo)
    heatmap = np.asarray(heatmap)
    if photo.ndim != 3 or photo.shape[-1] != 3:
        raise ValueError(f"Expected `photo` of shape (height, width, 3). Received: shape {photo.shape}")
    if heatmap.ndim != 2 or 0 in heatmap.shape:
        raise ValueError(f"Expected a 2-D `heatmap`. Received: shape {heatmap.shape}")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1:
        raise ValueError(f"Expected `alpha` in [0, 1]. Received: alpha={alpha!r}")
    if heatmap.dtype == np.uint8:
        heatmap = heatmap / 255.0
    colours = colorize(resize_map(heatmap, photo.shape[:2])).astype(np.float32)
    blended = (1 - alpha) * photo.astype(np.float32) + alpha * colours
    return blended.round().clip(0, 255).astype(np.uint8)
