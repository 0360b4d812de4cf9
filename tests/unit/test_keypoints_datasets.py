"""The generated keypoint sets (people, landmarks): deterministic, consistent with their own pictures."""

from __future__ import annotations

import numpy as np
import pytest

from cv_core.datasets import DATASETS, KEYPOINT_DATASETS, DatasetError, open_dataset
from cv_core.datasets.landmarks import render_landmarks
from cv_core.datasets.people import ARTICULATIONS, POSTURES, render_people
from cv_core.keypoints import FACE_LANDMARKS, PEOPLE, KeypointInstance

SIZE = 96


@pytest.fixture(scope="module")
def people():
    return [render_people(0, "train", i, SIZE) for i in range(60)]


@pytest.fixture(scope="module")
def faces():
    return [render_landmarks(0, "train", i, SIZE) for i in range(60)]


def test_registered_for_open_dataset_without_changing_the_other_tasks_pickers():
    assert set(DATASETS) == {"shapes", "image_folder", "cats_vs_dogs", "oxford_pets"}
    assert {"people", "landmarks", "coco_keypoints"} <= set(KEYPOINT_DATASETS)
    ds = open_dataset("people", image_size=64, train_size=3, validation_size=2, test_size=1)
    assert ds.has_keypoints and ds.skeleton is PEOPLE and ds.class_names == POSTURES
    assert [ds.count(s) for s in ("train", "validation", "test")] == [3, 2, 1]
    assert ds.sample("validation", 1).image.shape == (64, 64, 3)
    faces = open_dataset("landmarks", seed=3)
    assert faces.skeleton is FACE_LANDMARKS and faces.class_names == ["face"]
    assert not open_dataset("shapes").has_keypoints and open_dataset("shapes").skeleton is None


@pytest.mark.parametrize("name", ["people", "landmarks"])
@pytest.mark.parametrize("options", [{"image_size": 16}, {"seed": -1}, {"train_size": -2}, {"difficulty": "x"},
                                     {"colour": "red"}])
def test_bad_options_say_what_to_change(name, options):
    with pytest.raises(DatasetError):
        open_dataset(name, **options)


@pytest.mark.parametrize("render", [render_people, render_landmarks])
def test_same_seed_same_picture_and_points(render):
    a, b, c = render(4, "test", 7, SIZE), render(4, "test", 7, SIZE), render(5, "test", 7, SIZE)
    assert np.array_equal(a.image, b.image)
    assert all(np.array_equal(p.points, q.points) and np.array_equal(p.visibility, q.visibility)
               for p, q in zip(a.keypoints, b.keypoints))
    assert not np.array_equal(a.image, c.image)
    assert not np.array_equal(a.image, render(4, "validation", 7, SIZE).image)


def _inside(points):
    return (points[:, 0] >= 0) & (points[:, 0] < SIZE) & (points[:, 1] >= 0) & (points[:, 1] < SIZE)


def test_people_samples_expose_the_documented_structure(people):
    for sample in people:
        assert 1 <= len(sample.keypoints) <= 4
        assert len(sample.boxes) == len(sample.keypoints)
        for person, box in zip(sample.keypoints, sample.boxes):
            assert isinstance(person, KeypointInstance)
            assert person.points.shape == (14, 2) and person.points.dtype == np.float32
            assert person.visibility.shape == (14,) and person.visibility.dtype == np.uint8
            assert set(np.unique(person.visibility)) <= {0, 1, 2}
            assert np.array_equal(person.visibility > 0, _inside(person.points))  # 0 means outside the picture
            assert person.posture == ARTICULATIONS[person.articulation]
            assert box == (POSTURES.index(person.posture), *person.box)
            x0, y0, x1, y1 = person.box
            assert 0 <= x0 < x1 <= SIZE and 0 <= y0 < y1 <= SIZE and person.area >= 1
        areas = [p.area for p in sample.keypoints]
        assert sample.label == POSTURES.index(sample.keypoints[-1].posture)  # the tallest, drawn in front
        # The mask is every person's visible pixels, the areas their share of it (a fully hidden
        # person, whose area is set to 1, is the only way the two differ).
        assert abs(int(sample.mask.sum()) - sum(areas)) <= len(areas)


def test_labels_without_drawing_are_the_drawn_ones(people):
    ds = open_dataset("people", image_size=SIZE)
    assert ds._labels("train")[:len(people)].tolist() == [s.label for s in people]
    counts = ds.class_counts("validation")
    assert sum(counts.values()) == 500 and min(counts.values()) > 0


def test_visible_joints_lie_on_their_person_and_hidden_ones_exist(people):
    """A visible joint is on its figure: inside its box, widened by 2 px for the limb's soft edge."""
    hidden = 0
    for sample in people:
        for person in sample.keypoints:
            x0, y0, x1, y1 = person.box
            seen = person.points[person.visibility == 2]
            assert np.all((seen[:, 0] >= x0 - 2) & (seen[:, 0] <= x1 + 2) & (seen[:, 1] >= y0 - 2)
                          & (seen[:, 1] <= y1 + 2))
            hidden += int((person.visibility == 1).sum())
    assert hidden > 0  # people overlap and bars cross them


def test_with_nothing_in_front_every_joint_in_the_picture_is_visible():
    """Easy pictures have no bars; a picture of one person has no one in front of it."""
    checked = 0
    for index in range(40):
        sample = render_people(1, "train", index, SIZE, difficulty="easy")
        if len(sample.keypoints) == 1:
            person = sample.keypoints[0]
            assert np.array_equal(person.visibility, np.where(_inside(person.points), 2, 0))
            checked += 1
    assert checked >= 5


def test_people_vary_as_documented(people):
    persons = [p for s in people for p in s.keypoints]
    assert set(p.articulation for p in persons) == set(ARTICULATIONS)
    assert {len(s.keypoints) for s in people} == {1, 2, 3, 4}
    for p in persons:
        tilt = abs(p.orientation)
        assert (70 <= tilt <= 110) if p.posture == "lying" else tilt <= 20


def test_faces_expose_their_landmarks_turn_and_tilt(faces):
    turned_away = 0
    for sample in faces:
        assert len(sample.keypoints) == 1 and sample.label == 0
        face = sample.keypoints[0]
        assert face.points.shape == (6, 2) and face.visibility.shape == (6,)
        assert -55 <= face.turn <= 55 and -35 <= face.orientation <= 35
        assert sample.boxes == [(0, *face.box)]
        assert np.array_equal(face.visibility > 0, _inside(face.points))
        # eyes, nose and mouth corners that show lie on the face's pixels
        for j in range(5):
            if face.visibility[j] == 2:
                x, y = face.points[j]
                assert sample.mask[int(y), int(x)] == 1
        turned_away += int(abs(face.turn) > 50 and (face.visibility[:2] == 1).any())
    assert turned_away >= 1  # past about 50°, the far eye is on the other side of the head


@pytest.mark.parametrize("name", ["people", "landmarks"])
def test_figures_are_not_drawn_crowded(name):
    """"crowded" is the shapes' difficulty for instance segmentation; the figure sets refuse it by name."""
    from cv_core.datasets import KEYPOINT_DATASETS, DatasetError, ShapesDataset

    cls = KEYPOINT_DATASETS[name][0]
    assert "crowded" in ShapesDataset.DIFFICULTY_LEVELS and "crowded" not in cls.DIFFICULTY_LEVELS
    with pytest.raises(DatasetError, match=r"one of \('easy', 'medium', 'hard'\)"):
        cls(difficulty="crowded")
