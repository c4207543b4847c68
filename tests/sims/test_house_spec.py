"""HouseSpec generation and validation (no OpenGL needed)."""

from __future__ import annotations

import copy
import json

import pytest

from embodied_gym.sims.house import HouseSpec, catalog, generate_house_spec
from embodied_gym.sims.house.world import HouseWorld


def test_same_seed_same_spec_and_different_seeds_differ():
    a, b = generate_house_spec(5), generate_house_spec(5)
    assert a.to_json() == b.to_json()
    assert generate_house_spec(6).to_json() != a.to_json()


@pytest.mark.parametrize("n", range(2, 9))
def test_room_counts_and_validity(n):
    spec = generate_house_spec(100 + n, n_rooms=n)
    assert len(spec.rooms) == n
    spec.validate()
    assert all(r.kind in catalog.ROOM_KINDS for r in spec.rooms)
    assert spec.doors, "every house has at least one real door"
    assert len({o.name for o in spec.objects}) == len(spec.objects)
    ids = [f.id for f in spec.furniture] + [d.id for d in spec.doors] + [o.id for o in spec.objects]
    assert len(ids) == len(set(ids)) and all(1 <= i <= 254 for i in ids)


def test_json_round_trip():
    spec = generate_house_spec(11)
    text = spec.to_json()
    again = HouseSpec.from_json(text)
    assert again.to_json() == text
    assert json.loads(text)["rooms"][0]["id"] == spec.rooms[0].id


def test_every_room_kind_has_its_own_textures_and_ood_is_held_out():
    pairs = {k: v["train"][0] for k, v in catalog.ROOM_TEXTURES.items()}
    assert len(set(pairs.values())) == len(pairs), "each kind looks different"
    for kind, styles in catalog.ROOM_TEXTURES.items():
        train = {t for pair in styles["train"] for t in pair}
        ood = {t for pair in styles["ood"] for t in pair}
        assert not train & ood, kind
    spec = generate_house_spec(3, style="ood")
    for r in spec.rooms:
        assert (r.wall_texture, r.floor_texture) in [tuple(p) for p in catalog.ROOM_TEXTURES[r.kind]["ood"]]
    assert {d.texture for d in spec.doors} <= set(catalog.DOOR_TEXTURES["ood"])


def test_object_categories():
    assert len(catalog.OBJECT_CATEGORIES) >= 12 and len(catalog.TRAIN_OBJECT_CATEGORIES) >= 12
    assert not set(catalog.TRAIN_OBJECT_CATEGORIES) & set(catalog.OOD_OBJECT_CATEGORIES)
    train_cats = {o.category for s in range(12) for o in generate_house_spec(s).objects}
    assert train_cats <= set(catalog.TRAIN_OBJECT_CATEGORIES)
    held_out = {o.category for s in range(6) for o in generate_house_spec(s, categories=catalog.OOD_OBJECT_CATEGORIES).objects}
    assert held_out and held_out <= set(catalog.OOD_OBJECT_CATEGORIES)
    names = [o.name for o in generate_house_spec(2).objects]
    assert all(n.startswith("the ") for n in names)


def test_everything_reachable_with_doors_open():
    for seed in range(8):
        spec = generate_house_spec(seed)
        world = HouseWorld(spec)
        for d in world.door_ids:
            world.entities[d].is_open = True
        reach = world.grid().reachable_from(spec.agent_start[0], spec.agent_start[2])
        for r in spec.rooms:
            assert any(r.contains(x, z) for x, z in reach), (seed, r.id)
        assert world.blocker(spec.agent_start[0], spec.agent_start[2]) is None


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("rooms", 2, "kind"), "garage", "rooms[2].kind: unknown room kind 'garage'"),
        (("rooms", 0, "wall_texture"), "nope", "rooms[0].wall_texture"),
        (("objects", 0, "category"), "dragon", "objects[0].category: unknown object category 'dragon'"),
        (("objects", 0, "color"), "plaid", "objects[0].color"),
        (("furniture", 0, "yaw"), 45.0, "furniture[0].yaw"),
        (("openings", 0, "width"), 9.0, "openings[0].width"),
        (("openings", 0, "center"), [-50.0, -50.0], "openings[0].center"),
        (("style",), "cartoon", "style"),
        (("agent_start",), [1.0, 2.0], "agent_start"),
    ],
)
def test_malformed_spec_names_field_and_value(path, value, message):
    d = generate_house_spec(4, n_rooms=4).to_dict()
    target = d
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValueError) as err:
        HouseSpec.from_dict(d)
    assert message in str(err.value)


def test_structural_errors():
    d = generate_house_spec(4, n_rooms=4).to_dict()
    bad = copy.deepcopy(d)
    del bad["rooms"][1]["bounds"]
    with pytest.raises(ValueError, match=r"rooms\[1\]\.bounds: missing required field"):
        HouseSpec.from_dict(bad)
    bad = copy.deepcopy(d)
    bad["rooms"][0]["colour"] = "red"
    with pytest.raises(ValueError, match=r"rooms\[0\]\.colour: unknown field"):
        HouseSpec.from_dict(bad)
    bad = copy.deepcopy(d)
    bad["rooms"][1]["bounds"] = list(bad["rooms"][0]["bounds"])
    with pytest.raises(ValueError, match=r"rooms\[1\]\.bounds.*overlaps"):
        HouseSpec.from_dict(bad)
    bad = copy.deepcopy(d)
    bad["objects"][1]["id"] = bad["objects"][0]["id"]
    with pytest.raises(ValueError, match=r"objects\[1\]\.id.*duplicate"):
        HouseSpec.from_dict(bad)
    with pytest.raises(ValueError, match="invalid JSON"):
        HouseSpec.from_json("{not json")
    with pytest.raises(ValueError, match="n_rooms"):
        generate_house_spec(0, n_rooms=12)
    with pytest.raises(ValueError, match="categories"):
        generate_house_spec(0, categories=["unicorn"])
    with pytest.raises(ValueError, match="style"):
        generate_house_spec(0, style="weird")
