"""`predict_keypoint_outputs`: the forward pass a page keeps (heatmaps to draw) decodes to exactly what
`predict_raw_keypoints` gives, so one pass serves the skeletons and the heatmap view."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.slow
@pytest.mark.parametrize("builder", ["build_pose_model", "build_keypoint_heatmap_model",
                                     "build_keypoint_regression_model"])
def test_outputs_decode_to_the_same_candidates(builder):
    from cv_core import keypoints
    from cv_core._tf import keras

    keras().utils.set_random_seed(0)
    model = getattr(keypoints, builder)((32, 32), num_joints=6, backbone_filters=(8, 16))
    picture = np.random.default_rng(0).integers(0, 255, (32, 32, 3)).astype(np.float32)
    outputs = keypoints.predict_keypoint_outputs(model, picture)
    geometry = keypoints.keypoint_model_geometry(model)
    assert set(outputs) == set(keypoints.KEYPOINT_KINDS[geometry.kind])
    if geometry.kind != "regression":
        assert outputs["joint_heatmap"].shape == (1, 8, 8, 6)
    decoded = keypoints.raw_keypoints(outputs, geometry.output_stride or 1, geometry.image_size)
    direct = keypoints.predict_raw_keypoints(model, picture)
    np.testing.assert_allclose(decoded.points, direct.points, atol=1e-5)
    np.testing.assert_allclose(decoded.scores, direct.scores, atol=1e-6)
    with pytest.raises(ValueError, match=r"\(B, 32, 32, 3\)"):
        keypoints.predict_keypoint_outputs(model, np.zeros((16, 16, 3)))
