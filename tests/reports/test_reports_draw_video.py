"""Pictures of the report: ground truth and answers land where their normalised coordinates say,
both paths show on one map, and episode GIFs hold one captioned frame per step."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest

from embodied_gym.reports.draw import ANSWER, EXPERT, TRUTH, caption, compose_paths, draw_grounding


def test_point_box_and_mask_are_drawn_at_their_coordinates():
    frame = np.zeros((100, 200, 3), np.uint8)
    mask = np.zeros((100, 200), bool)
    mask[10:20, 30:40] = True
    out = draw_grounding(frame, truth=[0.5, 0.5], answer=[0.1, 0.6, 0.3, 0.9], mask=mask)
    assert (out[15, 35] == np.array(TRUTH) // 2).all()  # mask tinted half-way to green
    ring = out[45:56, 95:106].reshape(-1, 3)  # around (100, 50)
    assert any((p == TRUTH).all() for p in ring)
    assert (out[60, 20:60] == ANSWER).all()  # the box's top edge at y = 0.6 * 100
    assert frame.sum() == 0  # the input is not modified
    assert (draw_grounding(frame, truth="B", answer="C") == 0).all()  # letters are not drawn


def test_compose_paths_keeps_both_paths():
    base = np.full((50, 50, 3), 200, np.uint8)
    agent, expert = base.copy(), base.copy()
    agent[10, 5:45] = (30, 90, 230)
    expert[30, 5:45] = (30, 90, 230)
    expert[10, 5:45] = (30, 90, 230)  # where the agent followed the expert, the agent is drawn on top
    out = compose_paths(base, agent, expert, halo=1)
    assert (out[30, 20] == EXPERT).all() and (out[31, 20] == EXPERT).all()
    assert (out[10, 20] == (30, 90, 230)).all() and (out[11, 20] == EXPERT).all()
    assert (out[45, 45] == 200).all()


def test_caption_band_and_gif(tmp_path):
    frame = np.full((60, 80, 3), 90, np.uint8)
    out = caption(frame, ["step 1/2 action: MoveForward", "reasoning: " + "long words " * 40], max_lines=3)
    assert out.shape[0] > 60 and out.shape[1] == 80 and (out[:60] == 90).all()
    assert out[60:].max() == 255  # text is drawn in the band
    frames = np.stack([out, caption(frame, ["step 2/2 action: Finish"], max_lines=3)])
    iio.imwrite(tmp_path / "x.gif", frames, extension=".gif", duration=500, loop=0)
    assert iio.imread(tmp_path / "x.gif", index=None).shape[0] == 2


def test_eval_videos_writes_a_captioned_gif_and_mp4_per_episode(tmp_path):
    """``egym eval --videos``: one GIF and one MP4 per episode, a frame per step plus the end, each
    taller than the env's 240-pixel frame by the caption band; the MP4 decodes (H.264) to exactly
    that many frames, showing the GIF's pictures with their overlays."""
    import json

    from embodied_gym.cli import main

    out = tmp_path / "run"
    assert main(["eval", "--env", "EmbodiedTask-v0", "--episodes", "house-v1:test", "--agent", "random",
                 "--limit", "1", "--out", str(out), "--no-progress", "--videos"]) == 0
    (gif,) = (out / "videos").glob("*.gif")
    steps = [json.loads(x) for x in (out / "steps.jsonl").read_text().splitlines() if '"type": "step"' in x]
    frames = iio.imread(gif, index=None)
    assert frames.shape[1] > 240 and frames.shape[2] == 320
    assert 2 <= frames.shape[0] <= len(steps) + 1  # identical consecutive frames may be merged by the GIF writer
    (mp4,) = (out / "videos").glob("*.mp4")
    assert mp4.stem == gif.stem
    video = iio.imread(mp4, plugin="FFMPEG", index=None)
    assert video.shape[0] == len(steps) + 1  # a frame per step plus the end, none merged or dropped
    assert video.shape[1] % 16 == 0 and video.shape[1] >= frames.shape[1] and video.shape[2] == 320
    first = video[0, : frames.shape[1]].astype(float)
    assert np.abs(first - frames[0]).mean() < 8  # lossy H.264, same captioned picture
    band = video[0, 240 : frames.shape[1]]
    assert band.max() > 200  # the overlay text survived the encoding
    assert iio.immeta(mp4, plugin="FFMPEG")["codec"] == "h264"


def test_mp4_needs_imageio_ffmpeg_and_says_so(tmp_path, monkeypatch):
    """Where the imageio-ffmpeg wheel is missing, asking for MP4s is an error naming the extra;
    the default writes GIFs only."""
    import embodied_gym.reports.video as video

    monkeypatch.setattr(video, "mp4_missing", lambda: "MP4 videos need the imageio-ffmpeg wheel: pip install "
                        "'embodied-gym[video]'")
    with pytest.raises(RuntimeError, match="embodied-gym\\[video\\]"):
        video.write_run_videos(tmp_path, mp4=True)


def test_trim_keeps_content_and_a_margin():
    from embodied_gym.reports.draw import trim

    img = np.full((100, 100, 3), 40, np.uint8)
    img[30:50, 20:90] = 200
    out = trim(img, margin=5)
    assert out.shape == (30, 80, 3) and (out[5:25, 5:75] == 200).all()
    assert trim(np.zeros((4, 4, 3), np.uint8)).shape == (4, 4, 3)
