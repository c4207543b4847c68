"""CoverageGrid._transparent_at reads the transparency grid at in-range points and is False for
points off the grid (the masked gather it replaced, on random points inside and outside)."""

import numpy as np

from embodied_gym.rewards.coverage import CoverageGrid


def test_transparent_at_matches_a_masked_lookup():
    rng = np.random.default_rng(0)
    cells = np.array([[x * 0.25, z * 0.25] for x in range(12) for z in range(9) if (x + z) % 3], dtype=float)
    grid = CoverageGrid(cells)
    pts = rng.uniform(-1.0, 4.0, size=(60, 9, 2))
    idx = grid._index(pts)
    ok = (idx >= 0).all(axis=-1) & (idx[..., 0] < grid.shape[0]) & (idx[..., 1] < grid.shape[1])
    want = np.zeros(idx.shape[:-1], dtype=bool)
    want[ok] = grid.open[idx[ok][:, 0], idx[ok][:, 1]]
    got = grid._transparent_at(pts)
    assert (~ok).any() and want.any() and (~want & ok).any()  # the sample covers all three cases
    np.testing.assert_array_equal(got, want)
