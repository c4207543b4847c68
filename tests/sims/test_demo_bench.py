"""The demo writes what it promises; the sim benchmark reports the contract's keys."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from embodied_gym.cli import main
from embodied_gym.demo import run_demo


def test_demo_writes_frames_gif_and_map(tmp_path):
    res = run_demo(tmp_path / "demo", seed=0, width=96, height=72)
    assert res["picked"] and res["door"] is not None
    assert [e["action"] for e in res["events"]] == ["OpenDoor", "PickObject"]
    assert all(e["success"] for e in res["events"])
    assert res["frames"] == res["steps"] + 1 == len(list((tmp_path / "demo" / "frames").glob("*.png")))
    frame = np.asarray(Image.open(tmp_path / "demo" / "frames" / "0000.png"))
    assert frame.shape == (72, 192, 3)  # RGB next to the coloured segmentation
    gif = Image.open(res["gif"])
    assert gif.n_frames >= 2
    top = np.asarray(Image.open(res["top_down"]))
    assert top.shape == (640, 640, 3)
    assert json.loads((tmp_path / "demo" / "demo.json").read_text())["target"] == res["target"]
    assert json.loads((tmp_path / "demo" / "house.json").read_text())["seed"] == 0


@pytest.mark.slow
def test_bench_sim_json(capsys):
    assert main(["bench", "sim", "--json", "--steps", "5"]) == 0
    d = json.loads(capsys.readouterr().out)
    for key in ("house", "miniworld"):
        assert set(d[key]) >= {"320x240", "640x480"} and all(v > 0 for v in d[key].values())
    assert d["ratio_320x240"] == pytest.approx(d["house"]["320x240"] / d["miniworld"]["320x240"], rel=0.02)
