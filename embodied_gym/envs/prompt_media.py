"""Where a prompt's images go: image slots inside a template and BEAR's two input settings.

A template may place images inside its text with the slots ``{video}`` (the history frames) and
``{image}`` (the current view), as BEAR's prompts do ("This is the current video. [Video] This is
your current observation. [Image] ..."). Renderers substitute :data:`VIDEO_SLOT` /
:data:`IMAGE_SLOT` for them; :func:`content_parts` then interleaves text and images in that
order. Without slots the images come first, then the text.

Input settings (BEAR, arXiv 2510.08759, Table 1): ``sequential`` sends the frames as separate
images; ``merged`` tiles them all into one image (:func:`~embodied_gym.envs.images.tile_frames`,
the current view as the bottom-right tile), placed where the first slot is.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from .images import tile_frames

INPUT_SETTINGS = ("sequential", "merged")
VIDEO_SLOT = "\x00video\x00"
IMAGE_SLOT = "\x00image\x00"
_SLOTS = re.compile(f"({VIDEO_SLOT}|{IMAGE_SLOT})")


def content_parts(text: str, video: list[np.ndarray], image: np.ndarray | None, *, input_setting: str = "sequential",
                  include_images: bool = True) -> list[dict[str, Any]]:
    """Neutral message content (``{"type": "text" | "image", ...}`` parts) for ``text`` whose
    slots (if any) say where the ``video`` frames and the current ``image`` go. Slots without
    images, and all images when ``include_images`` is false, are dropped."""
    if input_setting not in INPUT_SETTINGS:
        raise ValueError(f"input_setting must be one of {INPUT_SETTINGS}, got {input_setting!r}")
    all_images = [*video, *([image] if image is not None else [])]
    merged = input_setting == "merged" and len(all_images) > 1
    pieces = _SLOTS.split(text)
    if len(pieces) == 1:  # no slots: images first, then the text
        parts = [] if not include_images else [{"type": "image", "image": im} for im in
                                               ([tile_frames(all_images)] if merged else all_images)]
        return [*parts, {"type": "text", "text": text}]
    parts: list[dict[str, Any]] = []
    placed_merged = False
    for piece in pieces:
        if piece in (VIDEO_SLOT, IMAGE_SLOT):
            if not include_images:
                continue
            if merged:
                if not placed_merged:
                    parts.append({"type": "image", "image": tile_frames(all_images)})
                    placed_merged = True
                continue
            images = video if piece == VIDEO_SLOT else ([image] if image is not None else [])
            parts += [{"type": "image", "image": im} for im in images]
        elif piece.strip():
            if parts and parts[-1]["type"] == "text":
                parts[-1]["text"] += piece
            else:
                parts.append({"type": "text", "text": piece})
    for p in parts:
        if p["type"] == "text":
            p["text"] = re.sub(r"[ \t]+\n|[ \t]{2,}", lambda m: "\n" if "\n" in m.group(0) else " ", p["text"]).strip()
    return [p for p in parts if p["type"] == "image" or p["text"]]
