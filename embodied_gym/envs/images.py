"""Frames for models: observation arrays to PIL images capped at a longest side."""

from __future__ import annotations

import numpy as np
from PIL import Image


def to_pil(image: np.ndarray, max_side: int) -> Image.Image:
    """An ``H x W x 3`` (or 4) uint8 array as an RGB PIL image, scaled down (bilinear) so that its
    longer side is at most ``max_side``; smaller images are left as they are."""
    pil = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)[..., :3])
    scale = max_side / max(pil.size)
    if scale < 1.0:
        pil = pil.resize((max(1, round(pil.size[0] * scale)), max(1, round(pil.size[1] * scale))), Image.BILINEAR)
    return pil


def tile_frames(frames: list[np.ndarray]) -> np.ndarray:
    """BEAR's *Merged* input: frames tiled into one image, row by row, on a grid of
    ``ceil(sqrt(n))`` columns, every tile the size of the first frame (others resized bilinearly);
    the last frame (the current observation) always takes the bottom-right tile, unused tiles
    before it stay black. One frame is returned as it is."""
    frames = [np.ascontiguousarray(f, dtype=np.uint8)[..., :3] for f in frames]
    if not frames:
        raise ValueError("tile_frames: no frames")
    if len(frames) == 1:
        return frames[0]
    h, w = frames[0].shape[:2]
    cols = int(np.ceil(np.sqrt(len(frames))))
    rows = int(np.ceil(len(frames) / cols))
    grid = np.zeros((rows * h, cols * w, 3), np.uint8)
    cells = list(range(len(frames) - 1)) + [rows * cols - 1]
    for cell, frame in zip(cells, frames, strict=True):
        if frame.shape[:2] != (h, w):
            frame = np.asarray(Image.fromarray(frame).resize((w, h), Image.BILINEAR))
        r, c = divmod(cell, cols)
        grid[r * h:(r + 1) * h, c * w:(c + 1) * w] = frame
    return grid
