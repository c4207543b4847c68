"""Procedural house generation: ``generate_house_spec(seed, ...) -> HouseSpec``.

The floor plan is a grid of rectangular rooms (column widths and row depths drawn from the
seed); a random connected set of cells becomes the rooms; a random spanning tree of adjacent
rooms (plus a few extra links) gets openings, each an open doorway or a closed door (at least one
door per house). Furniture stands against walls, clear of openings; objects lie on receptacles or
on the floor. The result is checked with the navigation grid: with every door open, every room
and every object is reachable from the start pose; every door can be reached from both sides.
Everything is drawn from ``random.Random(seed)``, so the same arguments give the same spec.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import numpy as np

from . import catalog
from .spec import STYLES, FurnitureSpec, HouseSpec, ObjectSpec, OpeningSpec, RoomSpec, shared_wall
from .world import HouseWorld

_SIZES = (3.5, 4.0, 4.5, 5.0, 5.5, 6.0)
_PRIVATE = {"bedroom", "bathroom", "office", "storage"}


def generate_house_spec(
    seed: int,
    n_rooms: int | None = None,
    style: str = "train",
    categories: Sequence[str] | None = None,
    door_share: float | None = None,
) -> HouseSpec:
    """A valid, fully reachable house drawn from ``seed``.

    ``n_rooms``: 2..8 (default: drawn from the seed). ``style``: ``"train"`` or ``"ood"`` (held-out
    wall/floor/door textures for every room kind). ``categories``: object categories to use
    (default: :data:`catalog.TRAIN_OBJECT_CATEGORIES` for "train", every category for "ood").
    ``door_share``: the probability that a link between two rooms is a closed door rather than an
    open doorway (default: 0.6 for links touching a bedroom, bathroom, office or storage, else
    0.25); the same draws are made either way, so only the door/doorway choice changes.
    """
    if door_share is not None and not (isinstance(door_share, (int, float)) and 0.0 <= door_share <= 1.0):
        raise ValueError(f"door_share: expected a probability in 0..1 (got {door_share!r})")
    if style not in STYLES:
        raise ValueError(f"style: expected one of {STYLES} (got {style!r})")
    if n_rooms is not None and not (isinstance(n_rooms, int) and 2 <= n_rooms <= 8):
        raise ValueError(f"n_rooms: expected an integer in 2..8 (got {n_rooms!r})")
    if categories is None:
        cats = list(catalog.TRAIN_OBJECT_CATEGORIES if style == "train" else catalog.OBJECT_CATEGORIES)
    else:
        cats = list(categories)
        bad = [c for c in cats if c not in catalog.OBJECT_CATEGORIES]
        if bad or not cats:
            raise ValueError(f"categories: unknown object category {bad[0] if bad else cats!r}")
    if not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed: expected an integer (got {seed!r})")
    for attempt in range(64):
        rng = random.Random(f"house:{int(seed)}:{n_rooms}:{style}:{','.join(cats)}:{attempt}")
        spec = _attempt(rng, int(seed), n_rooms, style, cats, door_share)
        if spec is not None:
            spec.validate()
            return spec
    raise RuntimeError(f"could not generate a house for seed {seed}")  # pragma: no cover


def _attempt(rng: random.Random, seed: int, n_rooms: int | None, style: str, cats: list[str],
             door_share: float | None = None) -> HouseSpec | None:
    n = n_rooms if n_rooms is not None else rng.randint(2, 8)
    rooms, adjacency = _floor_plan(rng, n, style)
    openings = _openings(rng, rooms, adjacency, style, door_share)
    next_id = iter(range(1, 255))
    for o in openings:
        if o.kind == "door":
            o.id = next(next_id)
    spec = HouseSpec(rooms=rooms, openings=openings, ceiling_texture=catalog.CEILING_TEXTURE[style],
                     seed=seed, style=style)
    spec.furniture = _furniture(rng, spec, next_id)
    spec.objects = _objects(rng, spec, cats, next_id)
    return _finish(rng, spec)


def _floor_plan(rng: random.Random, n: int, style: str) -> tuple[list[RoomSpec], list[tuple[int, int]]]:
    shapes = [(c, r) for c in range(1, 5) for r in range(1, 5) if n <= c * r <= n + 2 and max(c, r) <= n]
    cols, rows = rng.choice(shapes)
    widths = [rng.choice(_SIZES) for _ in range(cols)]
    depths = [rng.choice(_SIZES) for _ in range(rows)]
    cells = [(rng.randrange(cols), rng.randrange(rows))]
    while len(cells) < n:
        frontier = sorted(
            {(c + dc, r + dr) for c, r in cells for dc, dr in ((1, 0), (-1, 0), (0, 1), (0, -1))
             if 0 <= c + dc < cols and 0 <= r + dr < rows} - set(cells)
        )
        cells.append(rng.choice(frontier))
    adjacency = [(i, j) for i in range(n) for j in range(i + 1, n)
                 if abs(cells[i][0] - cells[j][0]) + abs(cells[i][1] - cells[j][1]) == 1]
    degree = [sum(1 for a, b in adjacency if i in (a, b)) for i in range(n)]
    kinds = ["living_room", "kitchen"]
    pool = ["bedroom", "bathroom", "office", "dining_room", "storage", "bedroom"]
    rng.shuffle(pool)
    kinds += pool[: max(0, n - 2)]
    kinds = kinds[:n]
    rng.shuffle(kinds)
    if n >= 5:  # the best-connected room becomes a hallway
        hub = max(range(n), key=lambda i: (degree[i], -i))
        kinds[hub] = "hallway"
    counts = {k: kinds.count(k) for k in kinds}
    seen: dict[str, int] = {}
    rooms = []
    for i, ((c, r), kind) in enumerate(zip(cells, kinds, strict=False)):
        seen[kind] = seen.get(kind, 0) + 1
        name = catalog.room_display(kind) + (f" {seen[kind]}" if counts[kind] > 1 else "")
        wall, floor = rng.choice(catalog.ROOM_TEXTURES[kind][style])
        x0, z0 = float(sum(widths[:c])), float(sum(depths[:r]))
        rooms.append(RoomSpec(id=f"room_{i}", kind=kind, name=name, bounds=(x0, z0, x0 + widths[c], z0 + depths[r]),
                              wall_texture=wall, floor_texture=floor))
    return rooms, adjacency


def _openings(rng: random.Random, rooms: list[RoomSpec], adjacency: list[tuple[int, int]],
              style: str, door_share: float | None = None) -> list[OpeningSpec]:
    n = len(rooms)
    links: list[tuple[int, int]] = []
    connected = {0}
    edges = list(adjacency)
    rng.shuffle(edges)
    while len(connected) < n:  # random spanning tree (Prim on shuffled edges)
        for a, b in edges:
            if (a in connected) != (b in connected):
                links.append((a, b))
                connected |= {a, b}
                break
    links += [e for e in edges if e not in links and rng.random() < 0.25]
    kinds = []
    for a, b in links:
        private = rooms[a].kind in _PRIVATE or rooms[b].kind in _PRIVATE
        share = door_share if door_share is not None else (0.6 if private else 0.25)
        kinds.append("door" if rng.random() < share else "doorway")
    if "door" not in kinds:
        kinds[rng.randrange(len(kinds))] = "door"
    textures = catalog.DOOR_TEXTURES[style]
    openings = []
    for (a, b), kind in zip(links, kinds, strict=False):
        if rng.random() < 0.5:
            a, b = b, a
        axis, coord, lo, hi = shared_wall(rooms[a], rooms[b])  # type: ignore[misc]
        width = 1.0 if kind == "door" else rng.choice((1.0, 1.25, 1.5))
        lo_c, hi_c = lo + 0.75 + width / 2, hi - 0.75 - width / 2
        steps = int(math.floor((hi_c - lo_c) / 0.25 + 1e-9))
        along = lo_c + 0.25 * rng.randint(0, steps) if steps >= 0 else (lo + hi) / 2
        center = (coord, along) if axis == "x" else (along, coord)
        o = OpeningSpec(rooms=(rooms[a].id, rooms[b].id), kind=kind, center=center, width=width)
        if kind == "door":
            tex = rng.choice(sorted(textures))
            o.texture, o.color = tex, textures[tex]
            o.name = f"the {o.color} door between the {rooms[a].name} and the {rooms[b].name}"
        openings.append(o)
    return openings


def _rect_overlap(a: tuple[float, ...], b: tuple[float, ...], gap: float) -> bool:
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


def _furniture(rng: random.Random, spec: HouseSpec, ids) -> list[FurnitureSpec]:
    out: list[FurnitureSpec] = []
    rects: list[tuple[float, float, float, float]] = []
    centres = [o.center for o in spec.openings]
    for room in spec.rooms:
        x0, z0, x1, z1 = room.bounds
        area = (x1 - x0) * (z1 - z0)
        options = catalog.ROOM_FURNITURE[room.kind]
        k = rng.randint(1, min(len(options) + 1, 2 + int(area // 10)))
        wanted = [options[0]] + [rng.choice(options) for _ in range(k - 1)]
        names: dict[str, int] = {}
        for cat_name in wanted:
            cat = catalog.FURNITURE_CATEGORIES[cat_name]
            color = rng.choice(cat.colors)
            sx, _, sz = catalog.shape_extents(cat.shape, 1.0, color)
            for _ in range(30):
                side = rng.randrange(4)  # 0 east, 1 north, 2 west, 3 south: back against that wall
                yaw = (180, 270, 0, 90)[side]
                fx, fz = (sx, sz) if yaw % 180 == 0 else (sz, sx)
                if side in (0, 2):
                    x = x1 - fx / 2 - 0.02 if side == 0 else x0 + fx / 2 + 0.02
                    span = (z1 - z0 - fz - 0.2) / 0.25
                    z = z0 + 0.1 + fz / 2 + 0.25 * rng.randint(0, max(0, int(span)))
                else:
                    z = z0 + fz / 2 + 0.02 if side == 1 else z1 - fz / 2 - 0.02
                    span = (x1 - x0 - fx - 0.2) / 0.25
                    x = x0 + 0.1 + fx / 2 + 0.25 * rng.randint(0, max(0, int(span)))
                rect = (x - fx / 2, z - fz / 2, x + fx / 2, z + fz / 2)
                if not room.contains(x, z) or rect[0] < x0 or rect[2] > x1 or rect[1] < z0 or rect[3] > z1:
                    continue
                if any(_point_rect_dist(c, rect) < 1.4 for c in centres):
                    continue
                if any(_rect_overlap(rect, r, 0.55) for r in rects):
                    continue
                names[cat_name] = names.get(cat_name, 0) + 1
                rects.append(rect)
                out.append(FurnitureSpec(id=next(ids), category=cat_name, name="", room=room.id,
                                         position=(round(x, 3), round(z, 3)), yaw=float(yaw), color=color))
                break
    counts: dict[tuple[str, str], int] = {}
    for f in out:
        counts[(f.category, f.room)] = counts.get((f.category, f.room), 0) + 1
    seen: dict[tuple[str, str], int] = {}
    for f in out:
        room_name = spec.room(f.room).name
        key = (f.category, f.room)
        seen[key] = seen.get(key, 0) + 1
        ordinal = ("first ", "second ", "third ", "fourth ", "fifth ")[seen[key] - 1] if counts[key] > 1 else ""
        f.name = f"the {ordinal}{f.category} in the {room_name}"
    return out


def _point_rect_dist(p: tuple[float, float], r: tuple[float, float, float, float]) -> float:
    dx = max(r[0] - p[0], 0.0, p[0] - r[2])
    dz = max(r[1] - p[1], 0.0, p[1] - r[3])
    return math.hypot(dx, dz)


def object_name(category: str, color: str, size: str) -> str:
    """Natural-language name: ``the small red ball`` (``medium`` is left out)."""
    adj = "" if size == "medium" else size + " "
    return f"the {adj}{color} {category}"


def _objects(rng: random.Random, spec: HouseSpec, cats: list[str], ids) -> list[ObjectSpec]:
    out: list[ObjectSpec] = []
    names: set[str] = set()
    placed: list[tuple[float, float, float]] = []  # x, z, radius
    centres = [o.center for o in spec.openings]
    furn_rects = {f.id: _furn_rect(f) for f in spec.furniture}
    for room in spec.rooms:
        receptacles = [f for f in spec.furniture if f.room == room.id
                       and catalog.FURNITURE_CATEGORIES[f.category].receptacle]
        for _ in range(rng.randint(1, 3)):
            for _try in range(20):
                cat_name = rng.choice(cats)
                cat = catalog.OBJECT_CATEGORIES[cat_name]
                color, size = rng.choice(cat.colors), rng.choice(cat.sizes)
                name = object_name(cat_name, color, size)
                if name not in names:
                    break
            else:
                continue
            sx, _, sz = catalog.shape_extents(cat.shape, catalog.SIZE_SCALE[size], color)
            rad = max(sx, sz) / 2
            pos = None
            on = None
            if receptacles and rng.random() < 0.6:
                f = rng.choice(receptacles)
                r = catalog.surface_rect(f.category, f.position, f.yaw, f.color)
                inset = rad + 0.05
                if r[2] - r[0] > 2 * inset and r[3] - r[1] > 2 * inset:
                    for _t in range(10):
                        x, z = rng.uniform(r[0] + inset, r[2] - inset), rng.uniform(r[1] + inset, r[3] - inset)
                        if all(math.hypot(x - px, z - pz) >= rad + pr + 0.02 for px, pz, pr in placed):
                            pos, on = (round(x, 3), catalog.FURNITURE_CATEGORIES[f.category].top, round(z, 3)), f.id
                            break
            if pos is None:
                x0, z0, x1, z1 = room.bounds
                for _t in range(30):
                    x, z = rng.uniform(x0 + 0.5, x1 - 0.5), rng.uniform(z0 + 0.5, z1 - 0.5)
                    if any(_point_rect_dist((x, z), r) < rad + 0.25 for r in furn_rects.values()):
                        continue
                    if any(math.hypot(x - cx, z - cz) < 1.3 for cx, cz in centres):
                        continue
                    if any(math.hypot(x - px, z - pz) < rad + pr + 0.3 for px, pz, pr in placed):
                        continue
                    pos = (round(x, 3), 0.0, round(z, 3))
                    break
            if pos is None:
                continue
            names.add(name)
            placed.append((pos[0], pos[2], rad))
            out.append(ObjectSpec(id=next(ids), category=cat_name, color=color, size=size, name=name,
                                  room=room.id, position=pos, yaw=float(rng.choice(range(0, 360, 15))), on=on))
    return out


def _furn_rect(f: FurnitureSpec) -> tuple[float, float, float, float]:
    cat = catalog.FURNITURE_CATEGORIES[f.category]
    sx, _, sz = catalog.shape_extents(cat.shape, 1.0, f.color)
    if round(f.yaw) % 180 == 90:
        sx, sz = sz, sx
    x, z = f.position
    return (x - sx / 2, z - sz / 2, x + sx / 2, z + sz / 2)


def _finish(rng: random.Random, spec: HouseSpec) -> HouseSpec | None:
    """Pick a start pose and check reachability; ``None`` rejects the attempt."""
    world = HouseWorld(spec)
    closed = world.grid()
    for d in world.door_ids:
        world.entities[d].is_open = True
    opened = world.grid()
    for d in world.door_ids:
        world.entities[d].is_open = False
    start_room = next((r for r in spec.rooms if r.kind == "living_room"), spec.rooms[0])
    x0, z0, x1, z1 = start_room.bounds
    cands = [p for p in closed.positions() if x0 + 0.5 <= p[0] <= x1 - 0.5 and z0 + 0.5 <= p[1] <= z1 - 0.5]
    if not cands:
        return None
    sx, sz = cands[rng.randrange(len(cands))]
    reach = opened.reachable_from(sx, sz, snap=0.01)
    if len(reach) == 0:
        return None
    for r in spec.rooms:
        if not any(r.contains(px, pz, 0.2) for px, pz in reach):
            return None
    keep = []
    for ob in spec.objects:
        d = np.hypot(reach[:, 0] - ob.position[0], reach[:, 1] - ob.position[2])
        if ((d >= 0.45) & (d <= 1.1)).any():
            keep.append(ob)
    if len(keep) < max(2, len(spec.rooms) // 2):
        return None
    spec.objects = keep
    for d in world.door_ids:
        o = world.entities[d]
        seg = world.door_segs[d]
        mid = seg.mean(axis=0)
        normal = np.array([1.0, 0.0]) if o.axis == "x" else np.array([0.0, 1.0])
        for sign in (1, -1):
            p = mid + sign * 0.75 * normal
            dd = np.hypot(reach[:, 0] - p[0], reach[:, 1] - p[1])
            if dd.min() > 0.3:
                return None
    spec.agent_start = (float(sx), 0.0, float(sz), float(rng.choice((0, 90, 180, 270))), 0.0)
    return spec
