"""A one-tab app for the Video tab's browser test: ``video_tab`` with no model, as a page shows it
before a keypoints run has finished (the Keypoints and pose page embeds the same call)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from cv_core.keypoints import PEOPLE  # noqa: E402
from ui.keypoints_video import video_tab  # noqa: E402

video_tab(None, PEOPLE, 96)
