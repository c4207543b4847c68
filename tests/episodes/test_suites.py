"""Official suites: deterministic (byte-identical) generation, the CLI contract (generation runs
the audit), split definitions (held-out categories and house sizes), and deprecated house-v1
still loading. The shipped house-v2 files are checked in test_house_v2_shipped.py."""

from __future__ import annotations

import json

import pytest

import embodied_gym  # noqa: F401  (registers the env ids)
from embodied_gym.cli import main as egym
from embodied_gym.episodes.spec import CATEGORIES, load_episodes, resolve_ref
from embodied_gym.episodes.suites import HELD_OUT_CATEGORIES, IN_DOMAIN_CATEGORIES, SUITES, generate_suite

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
    with pytest.raises(ValueError, match="unknown suite 'nope'; known: house-v2.*bear-lh-v2"):
        generate_suite("nope", "test", n=1, out=tmp_path)
    with pytest.raises(ValueError, match="unknown suite 'bear-lh-v3'"):
        generate_suite("bear-lh-v3", "test", n=1, out=tmp_path)
    with pytest.raises(ValueError, match="'bear-lh-v1' is deprecated and no longer generated"):
        generate_suite("bear-lh-v1", "test", n=1, out=tmp_path)
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


def test_house_v1_is_deprecated_but_still_loads():
    """house-v1 stays loadable for reproducibility (same files, same ids); it is no default and is
    listed as deprecated."""
    from embodied_gym.episodes.suites import DEPRECATED_SUITES

    assert "house-v1" in DEPRECATED_SUITES and "house-v1" not in SUITES
    sizes = {split: len(load_episodes(path)) for split, path in V1.items()}
    assert sizes == {"val": 300, "test": 300, "ood": 120}
