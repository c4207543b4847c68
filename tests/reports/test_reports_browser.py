"""The report in a real browser: headless Debian Chromium (Selenium) opens the index and an
episode page of each run from disk with no console errors (a missing image or a blocked request
is a console error), the tables have rows, every image decodes, an episode's MP4 plays in a
``<video>`` (metadata loaded: its size and a duration of 0.8 s per frame), and a screenshot of the index is
kept as a test artefact (``$EGYM_TEST_ARTIFACTS`` or ``test-artifacts/`` at the repository root)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from embodied_gym.eval import EvalConfig, run_eval
from embodied_gym.reports.browser import chromium, missing
from embodied_gym.reports.runs import load_run, slug
from embodied_gym.reports.site import ReportConfig, write_report_site

ARTIFACTS = Path(os.environ.get("EGYM_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "test-artifacts")

ALL_IMAGES_DECODED = """
const imgs = Array.from(document.images);
imgs.forEach(i => { i.loading = 'eager'; });
return imgs.map(i => [i.getAttribute('src'), i.complete, i.naturalWidth]);
"""


def _wait_images(driver, timeout=20.0):
    end = time.time() + timeout
    while True:
        state = driver.execute_script(ALL_IMAGES_DECODED)
        if all(done for _, done, _ in state) or time.time() > end:
            return state
        time.sleep(0.2)


VIDEO_STATE = """
const v = document.querySelector('video');
return v && {ready: v.readyState, duration: v.duration, error: v.error && v.error.code, width: v.videoWidth};
"""


def _wait_video(driver, timeout=20.0):
    end = time.time() + timeout
    while True:
        state = driver.execute_script(VIDEO_STATE)
        assert state is not None, "no <video> element"
        if state["ready"] >= 1 or state["error"] is not None or time.time() > end:
            return state
        time.sleep(0.2)


@pytest.mark.slow
def test_report_pages_load_in_headless_chromium_without_console_errors(tmp_path):
    if missing():
        pytest.skip(missing())
    cl, bear = tmp_path / "oracle", tmp_path / "random-bear"
    run_eval(EvalConfig(env_id="EmbodiedTask-v0", episodes="house-v1:test", agent="oracle", out=cl, limit=2, progress=False))
    run_eval(EvalConfig(env_id="EmbodiedTask-v0", episodes="house-v1:test", agent="random", out=tmp_path / "random",
                        limit=2, progress=False))
    run_eval(EvalConfig(env_id="BearLongHorizon-v0", episodes="bear-lh-v2:test", agent="random", out=bear, limit=1,
                        progress=False))
    index = write_report_site(ReportConfig(runs=[cl, tmp_path / "random", bear], out=tmp_path / "site", videos=True))
    pages = [index]
    for run in (cl, bear):
        r = load_run(run)
        pages.append(index.parent / run.name / "ep" / f"{slug(r.order[0])}.html")
    pages.append(index.parent / "oracle" / "episodes-1.html")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with chromium() as driver:
        for page in pages:
            driver.get(page.resolve().as_uri())
            state = _wait_images(driver)
            assert state, f"{page}: no images"
            bad = [s for s, done, w in state if not done or not w]
            assert not bad, f"{page}: images that did not decode: {bad}"
            errors = [e for e in driver.get_log("browser") if e.get("level") in ("SEVERE", "ERROR")]
            assert not errors, f"{page}: console errors {errors}"
            if "episodes-" in page.name:  # a list page: a card per episode, each with a thumbnail
                assert driver.execute_script("return document.querySelectorAll('.card img').length") == 2
                continue
            rows = driver.execute_script("return document.querySelectorAll('table tbody tr').length")
            assert rows > 0, f"{page}: no table rows"
            if page == index:
                assert driver.execute_script("return document.querySelectorAll('svg rect').length") >= 3
                driver.set_window_size(1280, 1600)
                driver.save_screenshot(str(ARTIFACTS / "report-index.png"))
            elif "/ep/" in str(page):
                if page.parent.parent.name == "oracle":  # the episode's MP4 plays in Chromium's <video>
                    video = _wait_video(driver)
                    n = len(load_run(cl).steps[load_run(cl).order[0]])
                    assert video["error"] is None and video["ready"] >= 1, f"{page}: video not playable: {video}"
                    assert video["width"] == 320 and abs(video["duration"] - 0.8 * (n + 1)) < 0.05, video
                driver.set_window_size(1280, 1600)
                driver.save_screenshot(str(ARTIFACTS / f"report-{page.parent.parent.name}-episode.png"))
    assert (ARTIFACTS / "report-index.png").stat().st_size > 10_000


@pytest.mark.slow
def test_report_screenshot_option_writes_a_png_of_the_index(tmp_path):
    """``egym report --screenshot PNG``: the index rendered by headless Chromium to a PNG."""
    if missing():
        pytest.skip(missing())
    from PIL import Image

    from embodied_gym.cli import main

    run = tmp_path / "run"
    run_eval(EvalConfig(env_id="EmbodiedTask-v0", episodes="house-v1:test", agent="oracle", out=run, limit=1, progress=False))
    png = tmp_path / "shot.png"
    assert main(["report", str(run), "--out", str(tmp_path / "site"), "--screenshot", str(png)]) == 0
    img = Image.open(png)
    assert img.size[0] == 1280 and len(set(img.convert("L").getdata())) > 10  # not a blank page
