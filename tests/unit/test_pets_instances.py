"""Oxford pets' one instance a picture, from its trimap (issue 17 §1), on a tiny local fixture."""

import io

import numpy as np
from PIL import Image

from cv_core.datasets import SPLITS, open_dataset
from cv_core.instances.data import instances_from_maps, sample_instances
from tests.unit.fixtures_data import PET_FOREGROUND, PET_SIZE, pet_files, write_tree


def _root(tmp_path, files=None):
    return write_tree(tmp_path / "pets", files or pet_files())


def test_pets_have_one_instance_per_picture(tmp_path):
    ds = open_dataset("oxford_pets", _root(tmp_path))
    assert ds.has_instances
    width, height = PET_SIZE
    x0, y0, x1, y1 = PET_FOREGROUND
    # The fixture's trimap: foreground inside PET_FOREGROUND, a one-pixel boundary ring around it.
    expected = np.zeros((height, width), bool)
    expected[y0 - 1:y1 + 1, x0 - 1:x1 + 1] = True
    seen = 0
    for split in SPLITS:
        for sample in ds.samples(split, count=10):
            assert sample.instances.dtype == np.uint16 and sample.instances.shape == (height, width)
            assert np.array_equal(sample.instances == 1, expected)
            assert set(np.unique(sample.instances).tolist()) == {0, 1}
            objects = sample_instances(sample)
            assert len(objects) == 1
            assert objects[0]["class"] == sample.label
            assert objects[0]["box"] == (x0 - 1, y0 - 1, x1 + 1, y1 + 1)
            # The same object the class mask says (foreground + boundary are not background).
            checked = instances_from_maps(sample.mask, sample.instances, sample.image.shape,
                                          background=ds.mask_background)
            # its class there is the mask's majority, foreground (0): 12 x 9 px against a 46 px ring
            assert checked.boxes == [(0, x0 - 1, y0 - 1, x1 + 1, y1 + 1)]
            seen += 1
    assert seen == 10


def test_a_trimap_without_a_pet_has_no_instance(tmp_path):
    files = pet_files()
    empty = np.full(PET_SIZE[::-1], 2, np.uint8)  # all background (trimap code 2)
    buffer = io.BytesIO()
    Image.fromarray(empty, "L").save(buffer, "PNG")
    name = next(k for k in files if k.startswith("annotations/trimaps/") and "/._" not in k)
    files[name] = buffer.getvalue()
    ds = open_dataset("oxford_pets", _root(tmp_path, files))
    stem = name.rsplit("/", 1)[1][:-4]
    for split in SPLITS:
        for index, (image_path, _, _) in enumerate(ds.files[split]):
            if image_path.stem == stem:
                sample = ds.sample(split, index)
                assert sample.boxes == [] and not sample.instances.any() and sample_instances(sample) == []
                return
    raise AssertionError("the emptied picture was not found")
