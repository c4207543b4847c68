"""``egym report``: the static site of real runs (oracle on house-v1, random on bear-lh-v2):
every link stays on the machine and resolves, every episode has a page, frames are the replayed
observations the model saw, maps and BEAR ground truth are drawn, and broken inputs are reported
on the pages rather than failing the report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from embodied_gym.cli import main
from embodied_gym.eval import EvalConfig, run_eval
from embodied_gym.reports.runs import load_run, slug
from embodied_gym.reports.site import ReportConfig, write_report_site

LINK = re.compile(r'(?:src|href)="([^"]*)"')


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    cl = base / "oracle-cl"
    run_eval(EvalConfig(env_id="EmbodiedTask-v0", episodes="house-v1:test", agent="oracle", out=cl, limit=2,
                        progress=False))
    bear = base / "random-bear"
    run_eval(EvalConfig(env_id="BearLongHorizon-v0", episodes="bear-lh-v2:test", agent="random", out=bear, limit=1,
                        progress=False))
    return cl, bear


@pytest.fixture(scope="module")
def site(runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    assert main(["report", str(runs[0]), str(runs[1]), "--out", str(out), "--videos", "--page-size", "1"]) == 0
    return out


def test_every_link_is_local_and_resolves_and_index_links_every_episode(runs, site):
    index = (site / "index.html").read_text()
    pages = list(site.rglob("*.html"))
    for page in pages:
        for link in LINK.findall(page.read_text()):
            assert not re.match(r"^[a-z]+:|^//", link), f"{page}: {link} leaves the machine"
            target = (page.parent / link.split("#")[0]).resolve()
            assert target.exists(), f"{page}: broken link {link}"
    for run in runs:
        r = load_run(run)
        assert r.order
        for ep in r.order:
            assert f'/ep/{slug(ep)}.html"' in index
    assert "<script" not in "".join(p.read_text() for p in pages)
    # page_size 1: the two closed-loop episodes are on two list pages
    assert (site / "oracle-cl" / "episodes-2.html").exists()


def test_closed_loop_page_shows_each_step_frame_action_feedback_and_map(runs, site):
    r = load_run(runs[0])
    ep = r.order[0]
    html = (site / "oracle-cl" / "ep" / f"{slug(ep)}.html").read_text()
    assert html.count('class="step"') == len(r.steps[ep])
    for rec in r.steps[ep]:
        assert f"action: <b>{rec['parsed_action']}</b>" in html
        assert rec["feedback"] in html
    assert (site / "oracle-cl" / "img" / slug(ep) / "map.png").exists()
    assert "expert (demonstration)" in html and "video.gif" in html
    # the MP4 plays in the page (an HTML5 <video> of a file in the site, nothing off the machine)
    assert f'<video src="../img/{slug(ep)}/video.mp4"' in html
    assert (site / "oracle-cl" / "img" / slug(ep) / "video.mp4").stat().st_size > 1000
    # the frame of step 0 is the observation the model saw after reset
    import gymnasium as gym

    import embodied_gym  # noqa: F401

    env = gym.make("EmbodiedTask-v0", episodes="house-v1:test")
    obs, _ = env.reset(seed=0, options={"episode_id": ep})
    env.close()
    shown = np.asarray(Image.open(site / "oracle-cl" / "img" / slug(ep) / "000.jpg"), dtype=float)
    assert shown.shape == obs["image"].shape
    assert np.abs(shown - obs["image"]).mean() < 6  # JPEG, same picture


def test_bear_page_shows_question_options_reply_and_truth(runs, site):
    r = load_run(runs[1])
    ep = r.order[0]
    html = (site / "random-bear" / "ep" / f"{slug(ep)}.html").read_text()
    assert html.count('class="step"') == len(r.steps[ep])
    assert html.count("Q: ") == len(r.steps[ep])
    assert "(ground truth)" in html and "ground truth: " in html and "(not replayed)" not in html
    for rec in r.steps[ep]:
        assert f"<pre>{rec['raw_reply']}</pre>" in html


def test_replayed_frame_that_differs_from_the_log_is_flagged(runs, tmp_path):
    src = runs[0]
    run = tmp_path / "tampered"
    run.mkdir()
    for f in ("run.json", "summary.json"):
        (run / f).write_text((src / f).read_text())
    lines = [json.loads(x) for x in (src / "steps.jsonl").read_text().splitlines()]
    lines[1]["obs_hash"] = "0000000000000000"
    (run / "steps.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    index = write_report_site(ReportConfig(runs=[run], out=tmp_path / "site"))
    ep = lines[1]["episode_id"]
    html = (index.parent / "tampered" / "ep" / f"{slug(ep)}.html").read_text()
    assert "1 replayed observation(s) differ from the logged hash" in html


def test_no_frames_and_unreplayable_runs_still_get_every_page(runs, tmp_path):
    index = write_report_site(ReportConfig(runs=[runs[0]], out=tmp_path / "a", frames=False))
    assert not (index.parent / "oracle-cl" / "img").exists()
    assert len(list((index.parent / "oracle-cl" / "ep").glob("*.html"))) == 2
    run = tmp_path / "nolist"
    run.mkdir()
    (run / "steps.jsonl").write_text((runs[0] / "steps.jsonl").read_text())
    (run / "run.json").write_text(json.dumps({"env_id": "EmbodiedTask-v0", "episodes": "<list>", "seed": 0}))
    index = write_report_site(ReportConfig(runs=[run], out=tmp_path / "b"))
    page = next((index.parent / "nolist" / "ep").glob("*.html")).read_text()
    assert "Frames could not be replayed" in page and "an &#x27;episodes&#x27; reference" in page


def test_report_never_deletes_a_folder_it_did_not_write(runs, tmp_path):
    out = tmp_path / "out"
    (out / "oracle-cl").mkdir(parents=True)
    (out / "oracle-cl" / "precious.txt").write_text("x")
    assert main(["report", str(runs[0]), "--out", str(out), "--no-frames"]) == 2
    assert (out / "oracle-cl" / "precious.txt").exists()
    # a second report into a report's folder replaces it
    out2 = tmp_path / "out2"
    for _ in range(2):
        assert main(["report", str(runs[0]), "--out", str(out2), "--no-frames"]) == 0


def test_next_action_replay_runs_show_recorded_frames_and_the_expected_action(tmp_path):
    """A family without a simulator (EmbraceReplay-v0 over the repository's EmbRACE-3K fixture):
    pages show the recorded frames and each step's expected action; no map."""
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "embrace3k"
    assert main(["import", "embrace3k", str(fixture), "--out", str(tmp_path / "eps")]) == 0
    assert main(["eval", "--env", "EmbraceReplay-v0", "--episodes", str(tmp_path / "eps"), "--agent", "oracle",
                 "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    index = write_report_site(ReportConfig(runs=[tmp_path / "run"], out=tmp_path / "site"))
    r = load_run(tmp_path / "run")
    page = (index.parent / "run" / "ep" / f"{slug(r.order[0])}.html").read_text()
    assert page.count("expected <b>") == len(r.steps[r.order[0]]) and '<span class="bad">wrong' not in page
    assert (index.parent / "run" / "img" / slug(r.order[0]) / "000.jpg").exists()
    assert not (index.parent / "run" / "img" / slug(r.order[0]) / "map.png").exists()
