"""Task generators: each category's constraints hold, referents are unique under the expression
used, instructions vary, and generation is deterministic."""

from __future__ import annotations

import random

import pytest

from embodied_gym.episodes.generators import (
    GENERATORS,
    Rejected,
    generate_task,
    interaction,
    navigation,
    spatial,
)
from embodied_gym.episodes.generators.common import (
    bbox_of,
    min_pixels,
    pixels,
    room_of,
    same_category,
    turn_in_place_views,
    view_from,
)
from embodied_gym.episodes.spec import CATEGORIES
from embodied_gym.sims.house import generate_house_spec


def drafts(sim, category, n, start_seed=100, **options):
    """Up to ``n`` drafts of ``category`` from consecutive small houses (rejections skipped)."""
    out = []
    for k in range(start_seed, start_seed + 8 * n):
        load(sim, k)
        try:
            out.append((k, generate_task(category, sim, random.Random(k), **options)))
        except Rejected:
            continue
        if len(out) == n:
            break
    assert out, f"no {category} task in {8 * n} houses"
    return out


def load(sim, k):
    """Load the house ``drafts`` used for seed ``k``."""
    sim.reset(generate_house_spec(k, n_rooms=3 + k % 3))


def _matching(objects, category):
    return [o for o in objects.values() if o.category == category]


def test_every_category_has_a_generator_and_several_paraphrases():
    assert set(GENERATORS) == set(CATEGORIES)
    families = [navigation.BASIC_TEMPLATES, navigation.EXPLORATION_TEMPLATES, navigation.MULTI2_TEMPLATES,
                spatial.ORDINAL_TEMPLATES, spatial.RELATIVE_TEMPLATES, spatial.ROOM_TEMPLATES,
                interaction.OPEN_TEMPLATES, interaction.PICK_DROP_TEMPLATES]
    assert all(len(set(t)) >= 3 for t in families)


def test_unknown_category_is_a_value_error(house_sim):
    with pytest.raises(ValueError, match="unknown task category 'dance'"):
        generate_task("dance", house_sim, random.Random(0))


def test_basic_target_is_clearly_visible_in_the_start_frame(house_sim):
    for k, d in drafts(house_sim, "basic", 3):
        load(house_sim, k)
        obs = view_from(house_sim, d.start_pose)
        target = d.subgoals[0].target
        assert pixels(obs, target) >= min_pixels(house_sim), d.instruction
        assert house_sim.geodesic_distance(d.start_pose, obs.objects[target].position) >= 2.0


def test_exploration_target_has_no_pixel_in_the_start_frame(house_sim):
    for k, d in drafts(house_sim, "exploration", 3):
        load(house_sim, k)
        obs = view_from(house_sim, d.start_pose)
        target = d.subgoals[0].target
        assert pixels(obs, target) == 0, d.instruction
        assert d.extra["search"] in ("turn", "move")
        seen_turning = any(pixels(v, target) > 0 for v in turn_in_place_views(house_sim, d.start_pose))
        assert seen_turning == (d.extra["search"] == "turn"), "the search tag must match a full turn in place"


def _check_unique_referent(sim, d):
    """Recompute the referent of a spatial-semantic draft independently of the generator."""
    objects = sim.objects()
    target = objects[d.subgoals[0].target]
    rel = d.extra["relation"]
    obs = view_from(sim, d.start_pose)
    if rel == "ordinal":
        seen = [(o, bbox_of(obs, o.id)) for o in _matching(objects, target.category) if pixels(obs, o.id) > 0]
        seen.sort(key=lambda t: (t[1][0] + t[1][2]) / 2)
        if d.extra["side"] == "right":
            seen.reverse()
        assert seen[d.extra["ordinal"] - 1][0].id == target.id
        assert f"{spatial.ORDINALS[d.extra['ordinal'] - 1]}" in d.instruction and d.extra["side"] in d.instruction
    elif rel == "relative":
        anchor_box = bbox_of(obs, d.extra["anchor"])
        anchor = objects[d.extra["anchor"]]
        assert sum(1 for o in _matching(objects, anchor.category) if pixels(obs, o.id) > 0) == 1, "anchor must be unique in view"
        centres = {o.id: (bbox_of(obs, o.id)[0] + bbox_of(obs, o.id)[2]) / 2
                   for o in _matching(objects, target.category) if pixels(obs, o.id) > 0}
        if d.extra["side"] == "left":
            hits = [i for i, c in centres.items() if c < anchor_box[0]]
        else:
            hits = [i for i, c in centres.items() if c > anchor_box[2]]
        assert hits == [target.id]
    elif rel == "support":
        on_anchor = [o for o in _matching(objects, target.category) if o.on == d.extra["anchor"]]
        assert on_anchor == [target] or [o.id for o in on_anchor] == [target.id]
    elif rel in ("nearest", "farthest"):
        dists = {o.id: sim.geodesic_distance(d.start_pose, o.position) for o in _matching(objects, target.category)}
        best = min(dists, key=dists.get) if rel == "nearest" else max(dists, key=dists.get)
        assert best == target.id
        others = [v for i, v in dists.items() if i != target.id]
        assert all(abs(v - dists[target.id]) >= spatial.EXTREME_MARGIN for v in others)
    elif rel == "room":
        rooms = sim.rooms()
        room = room_of(target, rooms)
        in_room = [o for o in same_category(target, objects) if room_of(o, rooms) == room]
        assert [o.id for o in in_room] == [target.id]
        assert len(same_category(target, objects)) >= 2, "a room reference is only needed with several instances"
        assert sum(1 for r in rooms if r.kind == room.kind) == 1, "the room must be nameable"
    else:  # pragma: no cover
        raise AssertionError(f"unknown relation {rel}")


@pytest.mark.parametrize("relation", sorted(spatial.RELATIONS))
def test_spatial_semantic_referent_is_unique(house_sim, relation):
    for k, d in drafts(house_sim, "spatial_semantic", 2, start_seed=300, relation=relation):
        load(house_sim, k)
        _check_unique_referent(house_sim, d)


def test_multi_stage_has_ordered_distinct_reach_subgoals(house_sim):
    for k, d in drafts(house_sim, "multi_stage", 3):
        load(house_sim, k)
        targets = [s.target for s in d.subgoals]
        assert len(targets) >= 2 and len(set(targets)) == len(targets)
        assert all(s.type == "reach_object" for s in d.subgoals)
        assert d.extra["midway"] == list(range(len(targets) - 1))
        # the instruction names the targets in subgoal order
        names = [s.description.removeprefix("reach ") for s in d.subgoals]
        positions = [d.instruction.lower().find(n.lower()) for n in names]
        assert all(p >= 0 for p in positions) and positions == sorted(positions), d.instruction


def test_open_door_targets_a_closed_door_named_by_its_rooms(house_sim):
    for k, d in drafts(house_sim, "open_door", 3):
        load(house_sim, k)
        door = house_sim.objects()[d.subgoals[0].target]
        assert d.subgoals[0].type == "open" and door.kind == "door" and door.is_open is False
        kinds = {r.id: r.kind.replace("_", " ") for r in house_sim.rooms()}
        assert kinds[d.extra["door_rooms"][1]] in d.instruction


def test_pick_drop_picks_then_places_on_a_receptacle(house_sim):
    for k, d in drafts(house_sim, "pick_drop", 3):
        load(house_sim, k)
        pick, place = d.subgoals
        objects = house_sim.objects()
        assert pick.type == "pick" and place.type == "place" and pick.target == place.target
        assert objects[pick.target].pickable and objects[place.receptacle].receptacle
        assert objects[pick.target].on != place.receptacle, "the object must not already be there"


def test_generation_is_deterministic(house_sim):
    a = drafts(house_sim, "spatial_semantic", 1, start_seed=500)[0]
    b = drafts(house_sim, "spatial_semantic", 1, start_seed=500)[0]
    assert a == b
