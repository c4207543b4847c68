"""Episode videos: animated GIFs and H.264 MP4s (imageio; MP4 through the ``imageio-ffmpeg``
wheel, extra ``video``) of replayed episodes with the step, the action and the model's reasoning
overlaid under each frame. Both hold the same frames: one per step plus the end, each on screen
``FRAME_SECONDS``; the MP4 (``yuv420p``, ``faststart``) plays in browsers' ``<video>``.

:func:`write_run_videos` is what ``egym eval --videos`` runs after the evaluation (it replays the
finished run's episodes, :mod:`~embodied_gym.reports.replay`, so the rollout itself is not
slowed down) and what ``egym report --videos`` embeds in the episode pages.
"""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np

from .draw import caption
from .replay import EpisodeReplay, EpisodeReplayer, StepView
from .runs import load_run, slug, split_reply

#: seconds each frame stays on screen
FRAME_SECONDS = 0.8


def step_lines(step: StepView, total: int) -> list[str]:
    """The overlay of one step: ``step i/N  action: A  (score / feedback)``, the reasoning."""
    rec = step.record
    reasoning, answer = split_reply(str(rec.get("raw_reply") or rec.get("action") or ""))
    action = step.info.get("action") or rec.get("parsed_action") or answer or "(no answer)"
    head = f"step {step.index + 1}/{total}  action: {action}"
    if "correct" in step.info:
        head += f"  truth: {step.info.get('ground_truth')}  {'correct' if step.info['correct'] else 'wrong'}"
    elif step.info.get("feedback"):
        head += f"  ({step.info['feedback']})"
    lines = [head]
    if reasoning:
        lines.append(f"reasoning: {reasoning}")
    elif answer and answer != action:
        lines.append(f"reply: {answer}")
    return lines


def video_frames(replay: EpisodeReplay) -> list[np.ndarray]:
    """One captioned frame per step plus the final frame (all the same size)."""
    total = len(replay.steps)
    frames = [caption(s.frame, step_lines(s, total)) for s in replay.steps]
    if replay.final_frame is not None and replay.steps and replay.steps[-1].info.get("correct") is None:
        frames.append(caption(replay.final_frame, [f"end after {total} steps"]))
    return frames


def write_gif(replay: EpisodeReplay, path: str | Path, seconds: float = FRAME_SECONDS) -> Path:
    """Write the episode's captioned frames as a looping GIF at ``path``."""
    frames = video_frames(replay)
    if not frames:
        raise ValueError(f"episode {replay.episode_id!r}: no logged steps, nothing to animate")
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(p, np.stack(frames), extension=".gif", duration=int(seconds * 1000), loop=0)
    return p


def mp4_missing() -> str | None:
    """Why MP4s cannot be written here (the ``imageio-ffmpeg`` wheel is missing), or ``None``."""
    try:
        import imageio_ffmpeg

        imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as exc:  # noqa: BLE001 -- not installed, or its ffmpeg binary is unusable
        return f"MP4 videos need the imageio-ffmpeg wheel: pip install 'embodied-gym[video]' ({exc})"
    return None


def write_mp4(replay: EpisodeReplay, path: str | Path, seconds: float = FRAME_SECONDS) -> Path:
    """Write the episode's captioned frames as an H.264 MP4 at ``path``: one video frame per GIF
    frame at ``1 / seconds`` frames per second; frames are padded (black, right and bottom) to
    multiples of 16 pixels, the codec's block size, never scaled."""
    why = mp4_missing()
    if why:
        raise RuntimeError(why)
    frames = video_frames(replay)
    if not frames:
        raise ValueError(f"episode {replay.episode_id!r}: no logged steps, nothing to encode")
    stack = np.stack(frames)
    h, w = stack.shape[1:3]
    stack = np.pad(stack, ((0, 0), (0, -h % 16), (0, -w % 16), (0, 0)))
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(p, stack, plugin="FFMPEG", extension=".mp4", fps=1.0 / seconds, codec="libx264",
                pixelformat="yuv420p", macro_block_size=16, output_params=["-movflags", "+faststart"])
    return p


def write_run_videos(run_dir: str | Path, out: str | Path | None = None, limit: int | None = None,
                     mp4: bool | None = None) -> list[Path]:
    """A GIF and an MP4 per finished or logged episode of the run in ``run_dir`` (at most
    ``limit``), written to ``out`` (default ``run_dir/videos``) as ``<episode id>.gif`` / ``.mp4``;
    returns the paths. ``mp4``: None writes MP4s when :func:`mp4_missing` allows, True requires
    them (``RuntimeError`` naming the missing wheel), False writes GIFs only."""
    if mp4 and mp4_missing():
        raise RuntimeError(mp4_missing())
    mp4 = (mp4_missing() is None) if mp4 is None else mp4
    run = load_run(run_dir)
    out_dir = Path(out) if out is not None else run.path / "videos"
    paths = []
    with EpisodeReplayer(run) as replayer:
        for ep in run.order[:limit]:
            if run.steps.get(ep):
                replay = replayer.replay(ep)
                paths.append(write_gif(replay, out_dir / f"{slug(ep)}.gif"))
                if mp4:
                    paths.append(write_mp4(replay, out_dir / f"{slug(ep)}.mp4"))
    return paths
