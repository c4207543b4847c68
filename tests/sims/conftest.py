"""Fixtures shared by the simulator tests: one simulator per backend per module (building
and rendering the first house is the slow part)."""

from __future__ import annotations

import pytest

from .backends import backend_params


@pytest.fixture(scope="module", params=backend_params())
def backend(request):
    return request.param


@pytest.fixture(scope="module")
def sim(backend):
    s = backend.make()
    s.reset(backend.scene)
    yield s
    s.close()


@pytest.fixture()
def fresh(sim, backend):
    """The module's simulator, reset to the backend's scene (start pose, initial state)."""
    sim.reset(backend.scene)
    return sim
