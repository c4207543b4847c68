"""Official suites: deterministic (byte-identical) generation, the CLI contract, the shipped
house-v1 files' sizes, tags and held-out categories, and the oracle succeeding on every shipped
episode (demonstrations replayed in a fresh simulator, and a sample through the Gymnasium env)."""

from __future__ import annotations

import collections

import gymnasium as gym
import pytest

import embodied_gym  # noqa: F401  (registers the env ids)
from embodied_gym.cli import main as egym
from embodied_gym.episodes.oracle import replay_demonstration
from embodied_gym.episodes.spec import CATEGORIES, load_episodes, resolve_ref
from embodied_gym.episodes.suites import HELD_OUT_CATEGORIES, IN_DOMAIN_CATEGORIES, SUITES, generate_suite
from embodied_gym.sims import make_simulator

SHIPPED = {split: resolve_ref(f"house-v1:{split}") for split in ("val", "test", "ood")}


def test_generation_is_byte_identical_and_seed_dependent(tmp_path):
    assert egym(["generate", "--suite", "house-v1", "--split", "test", "--n", "1", "--seed", "3", "--out", str(tmp_path / "a")]) == 0
    first = (tmp_path / "a" / "test.jsonl").read_bytes()
    again = generate_suite("house-v1", "test", n=1, seed=3, out=tmp_path / "b")[0].read_bytes()
    assert first == again
    eps = load_episodes(tmp_path / "a" / "test.jsonl")
    assert [e.category for e in eps] == list(CATEGORIES)
    other = generate_suite("house-v1", "test", n=1, seed=4, out=tmp_path / "c")[0].read_bytes()
    assert other != first


def test_bad_suite_arguments_are_value_errors(tmp_path):
    """Unknown suites (listing both known ones, and not a near-miss of the BEAR name), unknown
    splits and non-positive sizes are ValueErrors naming the value."""
    with pytest.raises(ValueError, match="unknown suite 'nope'; known: house-v1, bear-lh-v1"):
        generate_suite("nope", "test", n=1, out=tmp_path)
    with pytest.raises(ValueError, match="unknown suite 'bear-lh-v2'"):
        generate_suite("bear-lh-v2", "test", n=1, out=tmp_path)
    with pytest.raises(ValueError, match="no split 'dev'"):
        generate_suite("house-v1", "dev", n=1, out=tmp_path)
    with pytest.raises(ValueError, match="n: expected a positive"):
        generate_suite("house-v1", "test", n=0, out=tmp_path)


def test_held_out_categories_are_disjoint_from_in_domain_ones():
    assert HELD_OUT_CATEGORIES and not set(HELD_OUT_CATEGORIES) & set(IN_DOMAIN_CATEGORIES)
    splits = SUITES["house-v1"].splits
    assert splits["ood"].categories == HELD_OUT_CATEGORIES and splits["ood"].style == "ood"
    assert all(splits[s].categories == IN_DOMAIN_CATEGORIES and splits[s].style == "train" for s in ("train", "val", "test"))


def test_shipped_suite_sizes_tags_and_categories():
    houses: dict[str, set] = {}
    for split, path in SHIPPED.items():
        eps = load_episodes(path)
        counts = collections.Counter(e.category for e in eps)
        minimum = 50 if split in ("val", "test") else 20
        assert set(counts) == set(CATEGORIES) and min(counts.values()) >= minimum, (split, counts)
        domain = "ood" if split == "ood" else "in_domain"
        allowed = set(HELD_OUT_CATEGORIES if split == "ood" else IN_DOMAIN_CATEGORIES)
        for e in eps:
            assert e.split == split and e.domain == domain and e.tags["scene_family"]
            assert e.scene["style"] == ("ood" if split == "ood" else "train")
            assert {o["category"] for o in e.scene["objects"]} <= allowed, e.id
            assert e.demonstration is not None and e.demonstration.actions[-1] == "Finish"
            assert len(e.demonstration.actions) < e.max_steps
        houses[split] = {e.tags["house_seed"] for e in eps}
        assert path.stat().st_size < 6_000_000, f"{path} is larger than a few MB"
    assert not houses["val"] & houses["test"] and not houses["ood"] & (houses["val"] | houses["test"])


def test_shipped_instructions_vary_within_each_category():
    eps = load_episodes(SHIPPED["test"])
    for category in CATEGORIES:
        openings = {" ".join(e.instruction.split()[:2]).lower() for e in eps if e.category == category}
        assert len(openings) >= 3, (category, openings)


@pytest.mark.slow
@pytest.mark.parametrize("split", sorted(SHIPPED))
def test_oracle_demonstration_succeeds_on_every_shipped_episode(split):
    sim = make_simulator("house", seed=0)
    try:
        failed = [e.id for e in load_episodes(SHIPPED[split]) if not replay_demonstration(sim, e)]
    finally:
        sim.close()
    assert not failed, failed


@pytest.mark.slow
def test_live_oracle_through_the_gym_env_succeeds():
    """``env.oracle_action()`` (the oracle on the env's live simulator) solves a sample of the
    test split, two episodes per category, through ``gym.make("EmbodiedTask-v0")``."""
    eps = load_episodes(SHIPPED["test"])
    sample = [e for c in CATEGORIES for e in [x for x in eps if x.category == c][:2]]
    env = gym.make("EmbodiedTask-v0", episodes=sample)
    try:
        for ep in sample:
            env.reset(options={"episode_id": ep.id})
            for _ in range(ep.max_steps):
                _, _, terminated, truncated, info = env.step(env.unwrapped.oracle_action())
                if terminated or truncated:
                    break
            assert info["episode_result"]["success"], ep.id
    finally:
        env.close()
