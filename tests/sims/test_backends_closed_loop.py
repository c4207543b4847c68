"""Everything above ``sims/`` on the real-simulator backends, through their stand-ins: the
closed-loop environment runs whole episodes with the oracle on ``thor`` (the real ai2thor
Controller driving the fake Unity player) and on ``unrealcv`` (the real unrealcv Client against
the fake UnrealCV server). What this proves: the env, the subgoal tracker, the oracle's planner
and the episode result use only the Simulator interface, and these backends answer it well
enough to complete navigation, pick-and-place and door tasks. Not proven here: the same on real
AI2-THOR/Unreal scenes (their layouts and physics differ from the two-room stand-in)."""

from __future__ import annotations

import gymnasium as gym
import pytest

from embodied_gym.episodes.spec import Episode, Subgoal
from embodied_gym.sims import make_simulator

from .backends import CASES

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

BACKENDS = {c.name: c for c in CASES if c.name in ("thor", "unrealcv")}


def _episodes(case):
    kwargs = {**case.kwargs, **case.lazy_kwargs()}
    sim = make_simulator(case.name, **kwargs)
    try:
        sim.reset(case.scene)
        scene, start, objs = sim.scene, sim.pose, sim.objects()
    finally:
        sim.close()
    by_cat = {o.category: i for i, o in objs.items()}
    apple, counter, door = by_cat["apple"], by_cat["counter top"], next(i for i, o in objs.items() if o.kind == "door")

    def ep(eid, category, text, subgoals, max_steps=120):
        return Episode(eid, case.name, scene, start, text, category, subgoals, max_steps)

    return kwargs, [
        ep("reach", "exploration", "Go to the apple.", [Subgoal("reach_object", target=apple, radius=1.0)]),
        ep("pick", "pick_drop", "Put the apple on the counter.",
           [Subgoal("pick", target=apple), Subgoal("place", target=apple, receptacle=counter)], 200),
        ep("door", "open_door", "Open the door.", [Subgoal("open", target=door)]),
    ]


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_closed_loop_env_oracle_completes_episodes_on_the_backend(name):
    case = BACKENDS[name]
    if not case.is_available():
        pytest.skip(f"{name} client package missing")
    kwargs, episodes = _episodes(case)
    size = {"width": kwargs.pop("width", 128), "height": kwargs.pop("height", 96)}
    env = gym.make("EmbodiedTask-v0", episodes=episodes, backend=name, **size, **kwargs)
    try:
        for e in episodes:
            env.reset(options={"episode_id": e.id})
            for _ in range(e.max_steps):
                _, _, term, trunc, info = env.step(env.unwrapped.oracle_action())
                if term or trunc:
                    break
            result = info["episode_result"]
            assert result["success"], (e.id, result)
    finally:
        env.close()


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_bear_long_horizon_episode_generates_and_replays_on_the_backend(name):
    """A BEAR long-horizon episode is generated in the stand-in's scene (oracle demonstration,
    skill questions from its frames) and replayed by ``BearLongHorizon-v0`` on the same backend:
    answering every question with the env's live ground truth succeeds, so the replay renders
    the same frames and ids the generator saw."""
    import random

    from embodied_gym.episodes.bear.generate import make_episode
    from embodied_gym.episodes.bear.options import LetterDeck

    case = BACKENDS[name]
    if not case.is_available():
        pytest.skip(f"{name} client package missing")
    kwargs = {**case.kwargs, **case.lazy_kwargs()}
    sim = make_simulator(name, **kwargs)
    try:
        ep, errors = None, []
        for seed in range(6):
            try:
                ep = make_episode(sim, case.scene, random.Random(seed), LetterDeck(random.Random(seed)),
                                  episode_id=f"{name}-bear-{seed}", split="test", kind="bring", tags={})
                break
            except Exception as exc:  # noqa: BLE001 (a goal the scene does not offer: try another seed)
                errors.append(f"{type(exc).__name__}: {exc}")
        assert ep is not None, errors
    finally:
        sim.close()
    queries = ep.extra["bear"]["queries"]
    assert len(queries) >= 3 and ep.backend == name
    size = {"width": kwargs.pop("width", 128), "height": kwargs.pop("height", 96)}
    if name == "unrealcv":
        kwargs.update(_fresh_unrealcv(case))
    env = gym.make("BearLongHorizon-v0", episodes=[ep], backend=name, **size, **kwargs)
    try:
        env.reset()
        for _ in queries:
            truth = env.unwrapped._truth
            _, _, term, trunc, info = env.step(truth["text"])
            assert info["correct"], info
            if term or trunc:
                break
        assert info["episode_success"]
    finally:
        env.close()


def _fresh_unrealcv(case):
    """A new fake server in its initial state (the generator moved things on the first one)."""
    return case.lazy_kwargs()


def test_egym_generate_in_given_thor_scenes_writes_episodes_that_replay(tmp_path):
    """``egym generate --backend thor --scenes FloorPlan1`` (here on the fake Unity player):
    the task generators and the oracle run through the interface only; the written episodes load
    and their demonstrations succeed when replayed in a fresh simulator."""
    from embodied_gym.cli import main
    from embodied_gym.episodes.oracle import replay_demonstration
    from embodied_gym.episodes.spec import load_episodes

    case = BACKENDS["thor"]
    if not case.is_available():
        pytest.skip("ai2thor missing")
    exe = case.lazy_kwargs()["local_executable_path"]
    args = ["generate", "--backend", "thor", "--scenes", "FloorPlan1", "--out", str(tmp_path),
            "--sim-arg", f"local_executable_path={exe}", "--sim-arg", "x_display=:0",
            "--sim-arg", "width=128", "--sim-arg", "height=96"]
    assert main(args) == 0
    episodes = load_episodes(tmp_path / "thor.jsonl")
    cats = {e.category for e in episodes}
    assert {"basic", "pick_drop"} <= cats and all(e.backend == "thor" and e.scene == "FloorPlan1" for e in episodes)
    sim = make_simulator("thor", **{**case.kwargs, "local_executable_path": exe})
    try:
        for e in episodes:
            assert replay_demonstration(sim, e), e.id
    finally:
        sim.close()


def test_hung_unity_mid_episode_is_an_infrastructure_failure_not_a_model_failure(tmp_path, monkeypatch):
    """``egym eval`` (run_eval) with the oracle on thor; the fake Unity player stops answering at
    its 13th action. The backend times out, restarts Unity and raises InfrastructureError; the
    evaluation logs an ``infra_failure``, rebuilds the episode from its logged steps and the
    episode is counted once, successful: the model is never charged for the hang."""
    import json

    from embodied_gym.eval.config import EvalConfig
    from embodied_gym.eval.scheduler import run_eval

    case = BACKENDS["thor"]
    if not case.is_available():
        pytest.skip("ai2thor missing")
    kwargs, episodes = _episodes(case)
    fault = tmp_path / "fault"
    monkeypatch.setenv("FAKE_THOR_FAULT_FILE", str(fault))
    fault.write_text("hang 12")
    summary = run_eval(EvalConfig(env_id="EmbodiedTask-v0", episodes=[e for e in episodes if e.id == "pick"],
                                  agent="oracle", out=tmp_path / "run", progress=False,
                                  env_kwargs={"backend": "thor", **kwargs, "timeout": 4.0}))
    assert not fault.exists(), "the fault must have fired"
    run = summary["run"]
    assert run["infra_failures"] == 1 and run["n_results"] == 1 and run["n_errors"] == 0
    records = [json.loads(line) for line in (tmp_path / "run" / "steps.jsonl").read_text().splitlines()]
    infra = [r for r in records if r.get("type") == "infra_failure"]
    assert len(infra) == 1 and "InfrastructureError" in infra[0]["error"] and "restarted" in infra[0]["error"]
    (episode,) = [r for r in records if r.get("type") == "episode"]
    assert episode["result"]["success"]


def test_egym_bench_sim_backend_measures_thor_through_the_interface(capsys):
    """``egym bench sim --backend thor --sim-arg KEY=VALUE``: steps/s of the backend at its
    resolution, each step with RGB, segmentation, depth and records (here on the fake player)."""
    import json

    from embodied_gym.cli import main

    case = BACKENDS["thor"]
    if not case.is_available():
        pytest.skip("ai2thor missing")
    exe = case.lazy_kwargs()["local_executable_path"]
    assert main(["bench", "sim", "--backend", "thor", "--sim-arg", f"local_executable_path={exe}",
                 "--sim-arg", "x_display=:0", "--sim-arg", "width=64", "--sim-arg", "height=48",
                 "--scene", "FloorPlan1", "--steps", "5", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["backend"] == "thor" and result["resolution"] == "64x48" and result["depth"] is True
    assert result["steps_per_s"] > 0 and len(result["rounds"]) == 3
