"""Oxford-IIIT Pets head boxes: the detection annotations in ``annotations/xmls/*.xml``.

Each trainval image with a head annotation has a PASCAL VOC file like::

    <annotation>
      <filename>Abyssinian_1.jpg</filename>
      <size><width>600</width><height>400</height><depth>3</depth></size>
      <object><name>cat</name>
        <bndbox><xmin>333</xmin><ymin>72</ymin><xmax>425</xmax><ymax>158</ymax></bndbox>
      </object>
    </annotation>

**Coordinates.** VOC numbers pixels from 1 and includes both ends: ``xmin=1, xmax=600``
covers a whole 600-pixel-wide image. The lab numbers pixels from 0 with x1/y1 exclusive,
so ``x0 = xmin - 1``, ``y0 = ymin - 1``, ``x1 = xmax``, ``y1 = ymax`` (same width:
``xmax - xmin + 1``). Boxes are clipped to the image when ``<size>`` is given.

**Safety.** The files are parsed with the standard library's ``xml.etree.ElementTree``
after two checks: at most :data:`MAX_XML_BYTES` bytes, and no ``<!DOCTYPE`` (so no entity
declarations at all; the real files have none). ElementTree never fetches external
entities, and the expat it ships with (2.4.1+) also limits entity expansion, so a hostile
file can at worst be refused as malformed.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from cv_core.i18n import N_, LazyText, TranslatedError

__all__ = ["MAX_XML_BYTES", "PetsXmlError", "read_pet_head_box", "read_pet_head_boxes"]

#: The real files are under 1 KB; anything larger is not one of them.
MAX_XML_BYTES = 64 * 1024


class PetsXmlError(TranslatedError, ValueError):
    """An annotation file that is missing, too large or not a valid head box."""


def _number(node, tag: str, name: str) -> float:
    text = node.findtext(tag)
    if text is None:
        raise PetsXmlError(N_("{name}: no <{tag}>."), name=name, tag=tag)
    try:
        return float(text.strip())
    except ValueError:
        raise PetsXmlError(N_("{name}: <{tag}> is {text!r}, not a number."), name=name, tag=tag,
                           text=text.strip()) from None


def read_pet_head_box(xml_bytes_or_path) -> tuple[int, int, int, int]:
    """The head box of one Oxford-IIIT Pets annotation file.

    Args:
        xml_bytes_or_path: the file's bytes, or its path (``str`` or ``os.PathLike``).

    Returns:
        ``(x0, y0, x1, y1)`` in 0-based pixels with x1/y1 exclusive (see the module
        docstring for the conversion from VOC's 1-based inclusive corners). With several
        ``<object>`` elements, the first one's box.

    Raises:
        PetsXmlError: unreadable, too large, a DOCTYPE, malformed XML, no ``<bndbox>``,
            non-numeric or empty boxes. (A ``ValueError``.)
    """
    if isinstance(xml_bytes_or_path, (bytes, bytearray)):
        data, name = bytes(xml_bytes_or_path), "annotation"
    elif isinstance(xml_bytes_or_path, (str, os.PathLike)):
        path = Path(xml_bytes_or_path)
        name = path.name
        try:
            if path.stat().st_size > MAX_XML_BYTES:
                raise PetsXmlError(N_("{name}: larger than {limit} bytes."), name=name, limit=MAX_XML_BYTES)
            data = path.read_bytes()
        except OSError as exc:
            raise PetsXmlError(N_("{name}: cannot be read ({error})."), name=name, error=exc.strerror or exc) from None
    else:
        raise PetsXmlError(N_("Expected XML bytes or a path. Received: {type}"), type=type(xml_bytes_or_path).__name__)
    if len(data) > MAX_XML_BYTES:
        raise PetsXmlError(N_("{name}: larger than {limit} bytes."), name=name, limit=MAX_XML_BYTES)
    if b"<!DOCTYPE" in data.upper():
        raise PetsXmlError(N_("{name}: has a DOCTYPE, which annotation files never have."), name=name)
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise PetsXmlError(N_("{name}: malformed XML ({error})."), name=name, error=exc) from None
    box = root.find("./object/bndbox")
    if box is None:
        raise PetsXmlError(N_("{name}: no <object><bndbox>."), name=name)
    xmin, ymin, xmax, ymax = (_number(box, tag, name) for tag in ("xmin", "ymin", "xmax", "ymax"))
    x0, y0, x1, y1 = round(xmin) - 1, round(ymin) - 1, round(xmax), round(ymax)
    x0, y0 = max(x0, 0), max(y0, 0)
    size = root.find("./size")
    if size is not None and size.findtext("width") and size.findtext("height"):
        width, height = _number(size, "width", name), _number(size, "height", name)
        x1, y1 = min(x1, round(width)), min(y1, round(height))
    if x1 <= x0 or y1 <= y0:
        raise PetsXmlError(N_("{name}: empty box (xmin {xmin}, ymin {ymin}, xmax {xmax}, ymax {ymax})."), name=name,
                           xmin=f"{xmin:g}", ymin=f"{ymin:g}", xmax=f"{xmax:g}", ymax=f"{ymax:g}")
    return int(x0), int(y0), int(x1), int(y1)


def read_pet_head_boxes(root) -> tuple[dict[str, tuple[int, int, int, int]], list[str]]:
    """Every head box of an Oxford-IIIT Pets folder.

    Args:
        root: the dataset folder holding ``annotations/xmls/`` (as unpacked from
            ``annotations.tar.gz``).

    Returns:
        ``(boxes, skipped)``: ``boxes`` maps an image's stem (``"Abyssinian_1"``) to its
        ``(x0, y0, x1, y1)``; ``skipped`` says, one line each, which files were left out and
        why (malformed, empty box, ...) and, when ``annotations/trainval.txt`` is there,
        which trainval images have no XML file (head boxes exist for trainval images only).
        Dot-files (``._x.xml``) are ignored.

    Raises:
        PetsXmlError: ``root/annotations/xmls`` is not a folder.
    """
    xml_dir = Path(root) / "annotations" / "xmls"
    if not xml_dir.is_dir():
        raise PetsXmlError(N_("{folder!r} is not a folder. Expected the Oxford-IIIT Pets annotations "
                              "(annotations/xmls/*.xml, from annotations.tar.gz)."), folder=str(xml_dir))
    boxes: dict[str, tuple[int, int, int, int]] = {}
    skipped: list[str] = []
    for path in sorted(xml_dir.glob("*.xml")):
        if path.name.startswith("."):
            continue
        try:
            boxes[path.stem] = read_pet_head_box(path)
        except PetsXmlError as exc:
            skipped.append(LazyText(exc.message, exc.fields))  # English as a str, read in the reader's language
    trainval = Path(root) / "annotations" / "trainval.txt"
    if trainval.is_file():
        malformed = {line.split(":", 1)[0].rsplit(".", 1)[0] for line in skipped}
        for line in trainval.read_text(encoding="utf-8", errors="replace").splitlines():
            stem = line.split(" ", 1)[0].strip()
            if stem and not stem.startswith("#") and stem not in boxes and stem not in malformed:
                skipped.append(f"{stem}: no XML file")
    return boxes, skipped
