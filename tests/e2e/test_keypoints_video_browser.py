"""A person opens the Video tab (no model yet), moves the frame slider and picks joints: the URL
follows every choice, a reload brings them back, and an uploaded clip is read (a broken one is
refused with a sentence)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import running_app, screenshot, wait_idle

pytestmark = pytest.mark.browser


def tab_app(logs):
    """``streamlit run tests/e2e/kpvideo_tab_app.py`` on a free port; yield its URL; stop it."""
    return running_app(logs, logs, script="tests/e2e/kpvideo_tab_app.py")


def frame_caption(page) -> str:
    return page.locator('[data-testid="stImage"] [data-testid="stImageCaption"], [data-testid="stCaptionContainer"]'
                        ).filter(has_text="Frame ").first.inner_text()


def test_the_frame_and_joints_follow_the_url_and_an_upload_is_read(browser, tmp_path):
    from cv_core.keypoints.video import walking_clip, write_clip

    with tab_app(tmp_path) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 2200})
        page.set_default_timeout(60_000)
        page.goto(url)
        wait_idle(page, timeout=120_000)
        expect(page.get_by_text("Train a keypoints model on the Keypoints and pose page's Train tab to see "
                                "predictions.")).to_be_visible()
        expect(page.locator(".js-plotly-plot")).to_have_count(1)
        slider = page.locator(".st-key-kpvideo_frame input[type=range]")
        slider.focus()
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        wait_idle(page)
        expect(page).to_have_url(re.compile(r"kpvideo_frame=5"))
        expect(page.get_by_text(re.compile(r"Frame 5 of 47, at 0\.42 seconds\."))).to_be_visible()
        picker = page.locator(".st-key-kpvideo_joints")
        picker.click()
        page.get_by_role("option", name="neck", exact=True).click()
        page.keyboard.press("Escape")
        wait_idle(page)
        expect(page).to_have_url(re.compile(r"kpvideo_joints=neck"))
        screenshot(page, "keypoints_video_truth")

        page.goto(url + "/?kpvideo_frame=20&kpvideo_joints=head")  # a shared link
        wait_idle(page, timeout=120_000)
        expect(page.get_by_text(re.compile(r"Frame 20 of 47"))).to_be_visible()
        expect(page.locator(".st-key-kpvideo_joints")).to_contain_text("head")

        page.locator(".st-key-kpvideo_source").get_by_role("radio", name="Your clip", exact=True).click()
        wait_idle(page)
        expect(page).to_have_url(re.compile(r"kpvideo_source=Your\+clip"))  # Streamlit binds the label shown
        uploader = page.locator('[data-testid="stFileUploader"] input[type="file"]')
        broken = tmp_path / "broken.webm"
        broken.write_bytes(b"\x1a\x45\xdf\xa3" + b"garbage" * 40)
        uploader.set_input_files(str(broken))
        wait_idle(page)
        expect(page.get_by_text(re.compile("could not be used. This WebM file's data cannot be read"))).to_be_visible()
        good = tmp_path / "walk.mp4"
        clip = walking_clip(num_frames=12, image_size=64)
        good.write_bytes(write_clip(clip.frames, 6, "mp4"))
        uploader.set_input_files(str(good))
        wait_idle(page)
        expect(page.get_by_text(re.compile(r"12 frames at 6 frames a second \(2\.0 seconds\)"))).to_be_visible()
        expect(page.get_by_test_id("stException")).to_have_count(0)
        screenshot(page, "keypoints_video_upload")
        page.close()
