"""Property: any corruption of a valid spec is either still valid or rejected with ValueError
(never another exception)."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from embodied_gym.sims.house import HouseSpec, generate_house_spec

BASE = generate_house_spec(8, n_rooms=3).to_dict()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


PATHS = [p for p in _paths(BASE) if p]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(PATHS), json_values, st.booleans())
def test_corrupted_specs_raise_value_error_or_validate(path, value, delete):
    d = copy.deepcopy(BASE)
    target = d
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    try:
        HouseSpec.from_dict(d)
    except ValueError as exc:
        assert str(exc)
