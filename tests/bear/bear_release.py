"""A miniature of BEAR's released benchmark, written in its on-disk format (BEAR-data-format.md):
per-skill ``*_official.json`` arrays of records (``idx``, ``question``, ``options`` as a dict or
its str repr, ``gt``, media paths relative to the JSON's folder), PNG images, binary masks
(white = target) and mp4 videos. Every record's ground truth is known by construction."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from embodied_gym.rewards.bear_skills import BEAR_SKILLS

W, H = 40, 30
#: the L-shaped target of every mask-scored record: rows 10-19 x cols 8-13, plus rows 16-19 x cols 14-23
MASK = np.zeros((H, W), bool)
MASK[10:20, 8:14] = True
MASK[16:20, 14:24] = True
VIDEO_FRAMES = 20


def write_video(path: Path, n: int = VIDEO_FRAMES) -> None:
    """``n`` frames of uniform grey ``10 * i + 5`` (frame ``i``; none black), so sampled indices can be read back."""
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 5, (W, H))
    for i in range(n):
        writer.write(np.full((H, W, 3), 10 * i + 5, np.uint8))
    writer.release()


def write_release(root: Path, per_skill: int = 2) -> dict[str, list[dict]]:
    """Write the miniature under ``root``; returns the records per annotation file."""
    rng = np.random.default_rng(0)
    written: dict[str, list[dict]] = {}
    for skill in BEAR_SKILLS:
        file = root / skill.file
        media = file.parent / "media"
        media.mkdir(parents=True, exist_ok=True)
        records = []
        for k in range(per_skill):
            idx = f"{skill.code.lower()}{k}"
            rec: dict = {"idx": idx if k % 2 else k, "question": f"the object number {k} for {skill.id}"}
            if "image" in skill.media:
                Image.fromarray(rng.integers(0, 255, (H, W, 3), dtype=np.uint8)).save(media / f"{idx}.png")
                rec["image"] = f"media/{idx}.png"
            if skill.kind != "choice":
                Image.fromarray((MASK * 255).astype(np.uint8), "L").save(media / f"{idx}_mask.png")
                rec["mask"] = f"media/{idx}_mask.png"
                rec["options"] = {}
                rec["gt"] = ""
            else:
                options = {"A": "left", "B": "right", "C": "", "D": "none of the above"}
                rec["options"] = str(options) if k % 2 else options  # both released forms
                rec["gt"] = "ABD"[k % 3]
            if "video" in skill.media:
                write_video(media / f"{idx}.mp4")
                rec["video"] = f"media/{idx}.mp4"
            records.append(rec)
        file.write_text(json.dumps(records), encoding="utf-8")
        written[skill.file] = records
    return written
