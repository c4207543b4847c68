"""Video inputs as BEAR samples them: ``N`` frames uniformly over the timeline, first and last
included (``numpy.linspace(0, total - 1, N)`` cast to ``int``, as BEAR's evaluation code does;
BEAR-protocol.md, BEAR-data-format.md §2). Decoding uses OpenCV (``opencv-python``)."""

from __future__ import annotations

import os

import numpy as np


def uniform_indices(total: int, n: int) -> list[int]:
    """BEAR's frame indices: ``linspace(0, total - 1, n)`` cast to ``int`` (repeats kept, so a
    video shorter than ``n`` frames repeats frames as BEAR's loader does)."""
    if total < 1 or n < 1:
        raise ValueError(f"uniform_indices: need total >= 1 and n >= 1, got total={total}, n={n}")
    return [int(i) for i in np.linspace(0, total - 1, n)]


def read_video_frames(path: str | os.PathLike[str], n: int) -> list[np.ndarray]:
    """``n`` RGB frames of the video at ``path`` sampled by :func:`uniform_indices`. Raises
    ``ValueError`` naming the file when it cannot be decoded or holds no frame."""
    try:
        import cv2
    except ImportError as exc:  # pragma: no cover - opencv is a dependency of the data extra
        raise ValueError(f"{path}: reading videos needs opencv-python (pip install 'embodied-gym[data]')") from exc
    cap = cv2.VideoCapture(os.fspath(path))
    if not cap.isOpened():
        raise ValueError(f"{path}: cannot open the video")
    frames: list[np.ndarray] = []
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    finally:
        cap.release()
    if not frames:
        raise ValueError(f"{path}: the video holds no decodable frame")
    return [frames[i] for i in uniform_indices(len(frames), n)]
