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
