"""Episode videos: animated GIFs (imageio) of replayed episodes with the step, the action and the
model's reasoning overlaid under each frame.

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


def write_run_videos(run_dir: str | Path, out: str | Path | None = None, limit: int | None = None) -> list[Path]:
    """A GIF per finished or logged episode of the run in ``run_dir`` (at most ``limit``),
    written to ``out`` (default ``run_dir/videos``) as ``<episode id>.gif``; returns the paths."""
    run = load_run(run_dir)
    out_dir = Path(out) if out is not None else run.path / "videos"
    paths = []
    with EpisodeReplayer(run) as replayer:
        for ep in run.order[:limit]:
            if run.steps.get(ep):
                paths.append(write_gif(replayer.replay(ep), out_dir / f"{slug(ep)}.gif"))
    return paths
