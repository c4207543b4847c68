"""A folder of episode files is accepted wherever a path to episodes is: what ``egym generate
--out DIR`` writes is what ``egym eval --episodes DIR`` (and the envs, ``load_episodes``) read."""

from __future__ import annotations

import json

import pytest

from embodied_gym.cli import main as egym
from embodied_gym.episodes.spec import SpecError, load_episodes


def test_egym_eval_runs_on_the_folder_egym_generate_wrote(tmp_path):
    out = tmp_path / "suite"
    assert egym(["generate", "--suite", "house-v2", "--split", "test", "--n", "1", "--out", str(out)]) == 0
    assert "test.jsonl" in [p.name for p in out.iterdir()]
    eps = load_episodes(out)
    assert len(eps) >= 2 and eps == load_episodes(out / "test.jsonl")
    run = tmp_path / "run"
    rc = egym(["eval", "--env", "EmbodiedTask-v0", "--episodes", str(out), "--agent", "oracle",
               "--out", str(run), "--limit", "2", "--no-progress"])
    assert rc == 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["overall"]["n"] == 2 and summary["overall"]["success_rate"] == 1.0


def test_folder_rules(tmp_path):
    """Files are read in name order; an empty folder and an id repeated across files are errors
    naming the folder."""
    src = load_episodes("house-v1:val")[:3]
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps(e.to_dict()) for e in src[:1]) + "\n")
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(e.to_dict()) for e in src[1:]) + "\n")
    assert [e.id for e in load_episodes(tmp_path)] == [src[1].id, src[2].id, src[0].id]
    (tmp_path / "c.jsonl").write_text(json.dumps(src[0].to_dict()) + "\n")
    with pytest.raises(SpecError, match=r"duplicate id across the folder"):
        load_episodes(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="holds no"):
        load_episodes(empty)
