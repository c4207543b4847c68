"""Shared fixtures for episode tests: one headless house simulator per test module and a small
cache of generated episodes (generation renders frames, so each is made once)."""

from __future__ import annotations

import pytest

from embodied_gym.episodes.suites import SUITES, generate_episode
from embodied_gym.sims import make_simulator


@pytest.fixture(scope="session")
def house_sim():
    sim = make_simulator("house", seed=0, width=320, height=240)
    yield sim
    sim.close()


_CACHE: dict[tuple, object] = {}


@pytest.fixture(scope="session")
def make_episode(house_sim):
    """``make_episode(category, index, seed=7)``: a generated ``val`` episode (with its oracle
    demonstration), cached for the session."""

    def make(category: str, index: int, seed: int = 7):
        key = (category, index, seed)
        if key not in _CACHE:
            _CACHE[key] = generate_episode(house_sim, SUITES["house-v2"], "val", category, index, seed)
        return _CACHE[key]

    return make
