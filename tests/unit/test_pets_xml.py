"""Oxford-IIIT Pets head boxes from VOC XML files, including malformed and hostile ones."""

from __future__ import annotations

import pytest

from cv_core.datasets.pets_xml import MAX_XML_BYTES, PetsXmlError, read_pet_head_box, read_pet_head_boxes


def voc(xmin, ymin, xmax, ymax, width=600, height=400, name="Abyssinian_1") -> bytes:
    return (
        f"<annotation><folder>OXIIIT</folder><filename>{name}.jpg</filename>"
        "<source><database>OXFORD-IIIT Pet Dataset</database></source>"
        f"<size><width>{width}</width><height>{height}</height><depth>3</depth></size>"
        "<segmented>0</segmented><object><name>cat</name><pose>Frontal</pose>"
        "<truncated>0</truncated><occluded>0</occluded>"
        f"<bndbox><xmin>{xmin}</xmin><ymin>{ymin}</ymin><xmax>{xmax}</xmax><ymax>{ymax}</ymax></bndbox>"
        "<difficult>0</difficult></object></annotation>"
    ).encode()


def test_voc_corners_become_zero_based_exclusive():
    # VOC 333..425 inclusive, 1-based = 93 columns = 0-based 332..424 -> x0 332, x1 425.
    assert read_pet_head_box(voc(333, 72, 425, 158)) == (332, 71, 425, 158)


def test_a_box_over_the_whole_image_is_the_whole_image():
    assert read_pet_head_box(voc(1, 1, 600, 400)) == (0, 0, 600, 400)


def test_boxes_are_clipped_to_the_image():
    assert read_pet_head_box(voc(0, -3, 640, 401)) == (0, 0, 600, 400)


def test_a_one_pixel_box():
    assert read_pet_head_box(voc(5, 7, 5, 7)) == (4, 6, 5, 7)


def test_reads_a_path(tmp_path):
    path = tmp_path / "Abyssinian_1.xml"
    path.write_bytes(voc(10, 20, 30, 40))
    assert read_pet_head_box(path) == (9, 19, 30, 40)
    assert read_pet_head_box(str(path)) == (9, 19, 30, 40)


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    b"<annotation><object><bndbox><xmin>&lol2;</xmin></bndbox></object></annotation>"
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!doctype a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b"<annotation><filename>&xxe;</filename></annotation>"
)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"<annotation><object><bndbox><xmin>1</xmin>", "malformed"),
        (b"", "malformed"),
        (b"not xml at all", "malformed"),
        (b"<annotation><object><name>cat</name></object></annotation>", "no <object><bndbox>"),
        (voc("a", 1, 10, 10), "not a number"),
        (voc(1, 1, 10, 10).replace(b"<ymax>10</ymax>", b""), "no <ymax>"),
        (voc(10, 10, 5, 20), "empty box"),
        (BILLION_LAUGHS, "DOCTYPE"),
        (EXTERNAL_ENTITY, "DOCTYPE"),
        (b"<a>" + b" " * MAX_XML_BYTES + b"</a>", "larger than"),
    ],
)
def test_bad_files_are_refused_with_a_reason(data, message):
    with pytest.raises(PetsXmlError, match=message):
        read_pet_head_box(data)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(PetsXmlError, match="cannot be read"):
        read_pet_head_box(tmp_path / "nope.xml")


def test_read_all_boxes_skips_and_counts_bad_and_missing_files(tmp_path):
    xmls = tmp_path / "annotations" / "xmls"
    xmls.mkdir(parents=True)
    (xmls / "Abyssinian_1.xml").write_bytes(voc(333, 72, 425, 158))
    (xmls / "beagle_3.xml").write_bytes(voc(1, 1, 50, 60, name="beagle_3"))
    (xmls / "Bengal_2.xml").write_bytes(b"<annotation><object><bndbox><xmin>1</xmin>")  # truncated
    (xmls / "._Abyssinian_1.xml").write_bytes(b"\x00\x05\x16\x07 AppleDouble")  # ignored
    (xmls / "notes.txt").write_text("not an annotation")
    (tmp_path / "annotations" / "trainval.txt").write_text(
        "Abyssinian_1 1 1 1\nbeagle_3 11 2 5\nBengal_2 6 1 4\nboxer_7 13 2 6\n"
    )
    boxes, skipped = read_pet_head_boxes(tmp_path)
    assert boxes == {"Abyssinian_1": (332, 71, 425, 158), "beagle_3": (0, 0, 50, 60)}
    assert len(skipped) == 2
    assert skipped[0].startswith("Bengal_2.xml: malformed")
    assert skipped[1] == "boxer_7: no XML file"


def test_read_all_boxes_without_trainval_list(tmp_path):
    xmls = tmp_path / "annotations" / "xmls"
    xmls.mkdir(parents=True)
    (xmls / "pug_1.xml").write_bytes(voc(2, 3, 4, 5))
    assert read_pet_head_boxes(tmp_path) == ({"pug_1": (1, 2, 4, 5)}, [])


def test_read_all_boxes_needs_the_folder(tmp_path):
    with pytest.raises(PetsXmlError, match="annotations/xmls"):
        read_pet_head_boxes(tmp_path)
