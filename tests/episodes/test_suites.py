"""Official suites: deterministic (byte-identical) generation, the CLI contract (generation runs
the audit), the shipped house-v2 files' sizes, tags, held-out categories, layouts and templates,
the oracle succeeding on every shipped episode (demonstrations replayed in a fresh simulator,
and a sample through the Gymnasium env), and deprecated house-v1 still loading."""

from __future__ import annotations

import collections
import json

import gymnasium as gym
import pytest

import embodied_gym  # noqa: F401  (registers the env ids)
from embodied_gym.cli import main as egym
from embodied_gym.episodes.oracle import replay_demonstration
from embodied_gym.episodes.spec import CATEGORIES, load_episodes, resolve_ref
from embodied_gym.episodes.suites import HELD_OUT_CATEGORIES, IN_DOMAIN_CATEGORIES, SUITES, generate_suite
from embodied_gym.sims import make_simulator

SHIPPED = {split: resolve_ref(f"house-v2:{split}") for split in ("val", "test", "ood")}
V1 = {split: resolve_ref(f"house-v1:{split}") for split in ("val", "test", "ood")}


def test_generation_is_byte_identical_and_seed_dependent(tmp_path):
    assert egym(["generate", "--suite", "house-v2", "--split", "test", "--n", "1", "--seed", "3", "--out", str(tmp_path / "a")]) == 0
    first = (tmp_path / "a" / "test.jsonl").read_bytes()
    report = json.loads((tmp_path / "a" / "test.audit.json").read_text())  # the audit ran on it
    assert report["family"] == "closed_loop" and report["passed"] and "walking_policies" in report["checks"]
    again = generate_suite("house-v2", "test", n=1, seed=3, out=tmp_path / "b")[0].read_bytes()
    assert first == again
    eps = load_episodes(tmp_path / "a" / "test.jsonl")
    assert [e.category for e in eps] == list(CATEGORIES)
    other = generate_suite("house-v2", "test", n=1, seed=4, out=tmp_path / "c")[0].read_bytes()
    assert other != first


def test_bad_suite_arguments_are_value_errors(tmp_path):
    """Unknown suites (listing both known ones, and not a near-miss of the BEAR name), unknown
    splits and non-positive sizes are ValueErrors naming the value."""
    with pytest.raises(ValueError, match="unknown suite 'nope'; known: house-v2, bear-lh-v1"):
        generate_suite("nope", "test", n=1, out=tmp_path)
    with pytest.raises(ValueError, match="unknown suite 'bear-lh-v2'"):
        generate_suite("bear-lh-v2", "test", n=1, out=tmp_path)
    with pytest.raises(ValueError, match="no split 'dev'"):
        generate_suite("house-v2", "dev", n=1, out=tmp_path)
    with pytest.raises(ValueError, match="n: expected a positive"):
        generate_suite("house-v2", "test", n=0, out=tmp_path)


def test_held_out_categories_are_disjoint_from_in_domain_ones():
    assert HELD_OUT_CATEGORIES and not set(HELD_OUT_CATEGORIES) & set(IN_DOMAIN_CATEGORIES)
    splits = SUITES["house-v2"].splits
    assert splits["ood"].categories == HELD_OUT_CATEGORIES and splits["ood"].style == "ood"
    assert all(splits[s].categories == IN_DOMAIN_CATEGORIES and splits[s].style == "train" for s in ("train", "val", "test"))
    # held-out house sizes (and so floor plans): ood houses are larger than any in-domain one
    assert splits["ood"].rooms[0] > max(splits[s].rooms[1] for s in ("train", "val", "test"))


def test_shipped_suite_sizes_tags_and_categories():
    houses: dict[str, set] = {}
    for split, path in SHIPPED.items():
        eps = load_episodes(path)
        counts = collections.Counter(e.category for e in eps)
        minimum = {"val": 20, "test": 50, "ood": 40}[split]
        assert set(counts) == set(CATEGORIES) and min(counts.values()) >= minimum, (split, counts)
        domain = "ood" if split == "ood" else "in_domain"
        allowed = set(HELD_OUT_CATEGORIES if split == "ood" else IN_DOMAIN_CATEGORIES)
        for e in eps:
            assert e.split == split and e.domain == domain and e.tags["scene_family"]
            assert e.scene["style"] == ("ood" if split == "ood" else "train")
            lo, hi = SUITES["house-v2"].splits[split].rooms
            assert lo <= len(e.scene["rooms"]) <= hi, e.id
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


def _templates() -> dict[str, list[str]]:
    """Every instruction template of the generators by domain (``in_domain`` / ``ood``)."""
    import re

    from embodied_gym.episodes.generators import interaction, navigation, spatial

    out: dict[str, list[str]] = {"in_domain": [], "ood": []}
    for mod in (navigation, interaction, spatial):
        for name, family in vars(mod).items():
            if not name.endswith("_TEMPLATES"):
                continue
            assert set(family) == {"in_domain", "ood"}, name
            for dom, temps in family.items():
                out[dom] += [t for v in temps.values() for t in v] if isinstance(temps, dict) else list(temps)
    return {d: [re.compile("^" + re.sub(r"\\{[a-z]+\\}", "(.+)", re.escape(t)) + "$", re.I) for t in ts]
            for d, ts in out.items()}


def test_ood_instructions_use_held_out_templates():
    """Every shipped instruction matches a template of its own domain and none of the other's."""
    temps = _templates()
    assert len(temps["ood"]) >= 20 and len(temps["in_domain"]) >= 30
    for split, path in SHIPPED.items():
        dom, other = ("ood", "in_domain") if split == "ood" else ("in_domain", "ood")
        for e in load_episodes(path):
            assert any(t.match(e.instruction) for t in temps[dom]), (split, e.instruction)
            assert not any(t.match(e.instruction) for t in temps[other]), (split, e.instruction)


def test_house_v1_is_deprecated_but_still_loads():
    """house-v1 stays loadable for reproducibility (same files, same ids); it is no default and is
    listed as deprecated."""
    from embodied_gym.episodes.suites import DEPRECATED_SUITES

    assert "house-v1" in DEPRECATED_SUITES and "house-v1" not in SUITES
    sizes = {split: len(load_episodes(path)) for split, path in V1.items()}
    assert sizes == {"val": 300, "test": 300, "ood": 120}
    for env_id in ("EmbodiedTask-v0", "EmbraceExploration-v0", "EmbraceSpatial-v0", "EmbraceMultiStage-v0",
                   "EmbraceInteraction-v0"):
        assert gym.spec(env_id).kwargs["episodes"] == "house-v2:test"


def test_reset_seed_selects_episode_i():
    eps = load_episodes(SHIPPED["test"])
    env = gym.make("EmbodiedTask-v0")
    try:
        for i in (0, 7, len(eps) - 1):
            _, info = env.reset(seed=i)
            assert info["episode_id"] == eps[i].id
    finally:
        env.close()


@pytest.mark.parametrize("split", sorted(SHIPPED))
def test_shipped_split_carries_the_passed_audit_of_exactly_its_file(split):
    """``egym generate`` audited every shipped split: the report beside it passed, names the
    file's SHA-256, and no fixed non-visual walking policy exceeds 0.10 in any category with
    enough episodes to judge."""
    import hashlib

    path = SHIPPED[split]
    report = json.loads(path.with_suffix(".audit.json").read_text())
    assert report["passed"] and report["family"] == "closed_loop"
    assert report["episodes_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    counts = collections.Counter(e.category for e in load_episodes(path))
    walking = report["checks"]["walking_policies"]["by_group"]
    assert set(walking) == set(counts)
    for cat, fig in walking.items():
        assert fig["n"] == counts[cat]
        if fig["n"] >= 20:
            assert fig["score"] <= 0.10 and fig["limit"] == 0.10, (cat, fig)
    assert report["checks"]["public_info"]["by_group"]["all"]["score"] == 0


@pytest.mark.slow
def test_audit_reproduces_the_shipped_figures_for_basic_and_open_door():
    """Re-running the walkers on the two categories most exposed to blind walking gives exactly
    the shipped report's figures (the audit is deterministic and the report is current)."""
    from embodied_gym.audit.closed_loop import ClosedLoopAuditConfig, audit_closed_loop

    report = json.loads(SHIPPED["test"].with_suffix(".audit.json").read_text())
    eps = [e for e in load_episodes(SHIPPED["test"]) if e.category in ("basic", "open_door")]
    again = audit_closed_loop(eps, ClosedLoopAuditConfig())
    for cat in ("basic", "open_door"):
        stored = report["checks"]["walking_policies"]["by_group"][cat]
        assert again["by_category"][cat]["best"]["success"] == pytest.approx(stored["score"], abs=1e-4), cat
