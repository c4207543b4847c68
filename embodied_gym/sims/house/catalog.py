"""The house backend's vocabulary: room kinds and their textures, furniture, movable objects.

Everything here is plain data, so that specs can be validated and generated without OpenGL.
Textures are MiniWorld texture files named by their stem (``"wood_1"`` is
``miniworld/textures/wood_1.png``); meshes are MiniWorld mesh names (``miniworld/meshes/*.obj``).
"""

from __future__ import annotations

import importlib.util
import math
import os
from dataclasses import dataclass

# located without importing miniworld (which imports pyglet): specs need no OpenGL
MINIWORLD_DIR = list(importlib.util.find_spec("miniworld").submodule_search_locations)[0]
TEXTURE_DIR = os.path.join(MINIWORLD_DIR, "textures")
MESH_DIR = os.path.join(MINIWORLD_DIR, "meshes")

#: wall height of every room, metres
WALL_HEIGHT = 2.5
#: height of the opening of doorways and doors, metres
OPENING_HEIGHT = 2.1

# -- rooms ------------------------------------------------------------------------------------
#: room kind -> {"train": [(wall, floor), ...], "ood": [(wall, floor), ...]}; the "ood" pairs use
#: textures that never appear on that kind of room in the "train" style.
ROOM_TEXTURES: dict[str, dict[str, list[tuple[str, str]]]] = {
    "kitchen": {"train": [("white_1", "floor_tiles_bw_1")], "ood": [("concrete_tiles_1", "marble_1")]},
    "bathroom": {"train": [("ceiling_tiles_1", "floor_tiles_white")], "ood": [("concrete_4", "rock_1")]},
    "bedroom": {"train": [("stucco_1", "wood_1")], "ood": [("cardboard_3", "cardboard_1")]},
    "living_room": {"train": [("brick_wall_1", "wood_planks_1")], "ood": [("concrete_2", "cardboard_2")]},
    "office": {"train": [("drywall_1", "wood_2")], "ood": [("metal_grill_1", "asphalt_1")]},
    "hallway": {"train": [("concrete_3", "marble_2")], "ood": [("cardboard_4", "concrete_4")]},
    "storage": {"train": [("cinder_blocks_1", "concrete_1")], "ood": [("marble_1", "concrete_2")]},
    "dining_room": {"train": [("wood_planks_1", "marble_1")], "ood": [("ceiling_tile_noborder_1", "rock_1")]},
}
ROOM_KINDS: tuple[str, ...] = tuple(ROOM_TEXTURES)
CEILING_TEXTURE = {"train": "ceiling_tile_noborder_1", "ood": "concrete_3"}
DOOR_TEXTURES = {
    "train": {"door_steel_brown": "brown", "door_steel_grey": "grey"},
    "ood": {"door_steel_red": "red", "door_garage_white": "white"},
}
DOOR_COLORS = {**DOOR_TEXTURES["train"], **DOOR_TEXTURES["ood"]}

# -- colours -----------------------------------------------------------------------------------
COLORS: dict[str, tuple[float, float, float]] = {
    "red": (0.9, 0.1, 0.1),
    "green": (0.1, 0.75, 0.2),
    "blue": (0.15, 0.3, 0.95),
    "purple": (0.5, 0.2, 0.8),
    "yellow": (0.95, 0.85, 0.1),
    "grey": (0.5, 0.5, 0.5),
    "orange": (1.0, 0.5, 0.05),
    "white": (0.95, 0.95, 0.95),
    "brown": (0.45, 0.28, 0.12),
    "black": (0.08, 0.08, 0.08),
}
MESH_COLORS = ("red", "green", "blue", "purple", "yellow", "grey")  # MiniWorld's coloured meshes
SIZE_SCALE = {"small": 0.75, "medium": 1.0, "large": 1.3}


@dataclass(frozen=True)
class Shape:
    """How a category looks. ``kind``: ``mesh`` (``mesh`` may contain ``{color}``), ``box``,
    ``cylinder``, ``table`` (a top on four legs), ``bed``, ``sofa``. ``size`` is ``(sx, sy, sz)``
    in metres at scale 1 along the local axes; local ``+x`` is the front (it faces along the
    entity's yaw). For meshes only ``sy`` (the height) is used; the footprint comes from the
    mesh."""

    kind: str
    size: tuple[float, float, float]
    mesh: str | None = None
    texture: str | None = None
    #: extra rotation (degrees) applied to a mesh so that its front faces local +x
    yaw_offset: float = 0.0


@dataclass(frozen=True)
class ObjectCategory:
    """A movable, pickable object category. ``colors`` are the allowed colours (the first is the
    only one for fixed-appearance meshes)."""

    name: str
    shape: Shape
    colors: tuple[str, ...]
    sizes: tuple[str, ...] = ("small", "medium", "large")


@dataclass(frozen=True)
class FurnitureCategory:
    """A static furniture category; ``receptacle`` furniture holds objects on ``top`` (metres)."""

    name: str
    shape: Shape
    receptacle: bool
    top: float
    colors: tuple[str, ...] = ("brown",)
    #: the part of the local footprint objects can rest on, as fractions ``(x0, z0, x1, z1)``
    surface: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)


_PRIM = ("red", "green", "blue", "purple", "yellow", "grey", "orange", "white")
OBJECT_CATEGORIES: dict[str, ObjectCategory] = {
    c.name: c
    for c in [
        ObjectCategory("ball", Shape("mesh", (0, 0.25, 0), mesh="ball_{color}"), MESH_COLORS),
        ObjectCategory("key", Shape("mesh", (0, 0.12, 0), mesh="key_{color}"), MESH_COLORS),
        ObjectCategory("box", Shape("box", (0.28, 0.28, 0.28)), _PRIM),
        ObjectCategory("duck", Shape("mesh", (0, 0.22, 0), mesh="duckie"), ("yellow",)),
        ObjectCategory("potion", Shape("mesh", (0, 0.3, 0), mesh="potion"), ("red",)),
        ObjectCategory("medkit", Shape("mesh", (0, 0.22, 0), mesh="medkit"), ("red",)),
        ObjectCategory("keycard", Shape("mesh", (0, 0.22, 0), mesh="keycard"), ("blue",)),
        ObjectCategory("cone", Shape("mesh", (0, 0.35, 0), mesh="cone"), ("orange",)),
        ObjectCategory("book", Shape("box", (0.3, 0.06, 0.22)), _PRIM),
        ObjectCategory("cup", Shape("cylinder", (0.1, 0.12, 0.1)), _PRIM),
        ObjectCategory("bottle", Shape("cylinder", (0.08, 0.3, 0.08)), ("green", "blue", "white", "brown")),
        ObjectCategory("can", Shape("cylinder", (0.09, 0.14, 0.09)), ("red", "green", "blue", "yellow", "grey")),
        # held out of the default "train" style (see TRAIN_OBJECT_CATEGORIES)
        ObjectCategory("plant", Shape("mesh", (0, 0.45, 0), mesh="tree_pine"), ("green",)),
        ObjectCategory("bonsai", Shape("mesh", (0, 0.4, 0), mesh="tree"), ("green",)),
        ObjectCategory("vase", Shape("cylinder", (0.18, 0.35, 0.18)), ("white", "blue", "purple", "orange")),
        ObjectCategory("brick", Shape("box", (0.25, 0.1, 0.12)), ("red", "grey", "orange")),
    ]
}
#: categories used by ``style="train"`` houses by default (12)
TRAIN_OBJECT_CATEGORIES: tuple[str, ...] = tuple(list(OBJECT_CATEGORIES)[:12])
#: categories never used by default in "train" houses; "ood" houses add them by default
OOD_OBJECT_CATEGORIES: tuple[str, ...] = tuple(list(OBJECT_CATEGORIES)[12:])

FURNITURE_CATEGORIES: dict[str, FurnitureCategory] = {
    c.name: c
    for c in [
        FurnitureCategory("table", Shape("table", (0.8, 0.75, 1.2), texture="wood_2"), True, 0.75),
        # the desk mesh is a desk top at half its height beside a shelf tower at one end
        FurnitureCategory("desk", Shape("mesh", (0, 1.5, 0), mesh="office_desk", yaw_offset=90.0), True, 0.75,
                          surface=(0.0, 0.0, 1.0, 0.74)),
        FurnitureCategory("chair", Shape("mesh", (0, 1.0, 0), mesh="office_chair"), True, 0.47, ("black",),
                          surface=(0.16, 0.06, 0.85, 0.76)),
        FurnitureCategory("shelf", Shape("box", (0.4, 0.9, 1.0), texture="wood_1"), True, 0.9),
        FurnitureCategory("barrel", Shape("mesh", (0, 0.9, 0), mesh="barrel"), True, 0.9, ("blue",)),
        FurnitureCategory("counter", Shape("box", (0.6, 0.9, 1.6), texture="marble_2"), True, 0.9, ("white",)),
        FurnitureCategory("cabinet", Shape("box", (0.5, 0.85, 0.8), texture="wood_planks_1"), True, 0.85),
        FurnitureCategory("crate", Shape("box", (0.6, 0.6, 0.6), texture="cardboard_1"), True, 0.6),
        FurnitureCategory("nightstand", Shape("box", (0.45, 0.55, 0.45), texture="wood_1"), True, 0.55),
        FurnitureCategory("bed", Shape("bed", (2.0, 0.5, 1.4)), True, 0.5, ("white", "blue", "red")),
        FurnitureCategory("sofa", Shape("sofa", (0.85, 0.8, 1.8)), True, 0.45, ("grey", "green", "red")),
    ]
}

#: which furniture each room kind gets (sampled in this order of preference)
ROOM_FURNITURE: dict[str, tuple[str, ...]] = {
    "kitchen": ("counter", "table", "chair", "cabinet", "barrel"),
    "bathroom": ("cabinet", "shelf", "barrel"),
    "bedroom": ("bed", "nightstand", "shelf", "desk", "chair"),
    "living_room": ("sofa", "table", "shelf", "cabinet", "chair"),
    "office": ("desk", "chair", "shelf", "cabinet"),
    "hallway": ("shelf", "cabinet", "nightstand"),
    "storage": ("crate", "barrel", "shelf", "crate"),
    "dining_room": ("table", "chair", "cabinet", "shelf"),
}


def texture_path(stem: str) -> str:
    """Absolute path of a MiniWorld texture given its file stem."""
    return os.path.join(TEXTURE_DIR, stem + ".png")


def texture_exists(stem: str) -> bool:
    return isinstance(stem, str) and "/" not in stem and os.path.exists(texture_path(stem))


def room_display(kind: str) -> str:
    return kind.replace("_", " ")


def _mesh_file(name: str) -> str:
    return os.path.join(MESH_DIR, name + ".obj")


_EXTENTS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {}


def mesh_extents(name: str) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """``(min_xyz, max_xyz)`` of a MiniWorld mesh after MiniWorld's own re-centring (base at
    ``y = 0``), read from the OBJ file without OpenGL (mirrors ``miniworld.objmesh.ObjMesh``)."""
    if name not in _EXTENTS:
        import numpy as np

        verts: list[list[float]] = []
        faces: list[list[int]] = []
        with open(_mesh_file(name)) as fh:
            for line in fh:
                tok = line.split()
                if not tok:
                    continue
                if tok[0] == "v":
                    verts.append([float(t) for t in tok[1:4]])
                elif tok[0] == "f":
                    faces.append([int(t.split("/")[0]) - 1 for t in tok[1:4]])
        fv = np.asarray(verts, dtype=np.float32)[np.asarray(faces)]  # F x 3 x 3
        lo = fv.min(axis=0).min(axis=0)
        hi_bug = fv.max(axis=0).min(axis=0)  # as in ObjMesh
        mean = (lo + hi_bug) / 2
        fv[:, :, 1] -= lo[1]
        fv[:, :, 0] -= mean[0]
        fv[:, :, 2] -= mean[2]
        mn = fv.min(axis=0).min(axis=0)
        mx = fv.max(axis=0).max(axis=0)
        _EXTENTS[name] = (tuple(float(v) for v in mn), tuple(float(v) for v in mx))  # type: ignore[assignment]
    return _EXTENTS[name]


def shape_extents(shape: Shape, scale: float = 1.0, color: str | None = None) -> tuple[float, float, float]:
    """World-size ``(sx, sy, sz)`` of a shape at ``scale`` in its local frame (centred on x/z, base
    at y = 0)."""
    if shape.kind == "mesh":
        mn, mx = mesh_extents(mesh_name(shape, color))
        s = shape.size[1] * scale / mx[1]
        ex, ez = max(abs(mn[0]), mx[0]) * 2 * s, max(abs(mn[2]), mx[2]) * 2 * s
        if round(shape.yaw_offset) % 180 == 90:
            ex, ez = ez, ex
        return (ex, shape.size[1] * scale, ez)
    return (shape.size[0] * scale, shape.size[1] * scale, shape.size[2] * scale)


def mesh_name(shape: Shape, color: str | None) -> str:
    assert shape.mesh is not None
    return shape.mesh.format(color=color) if "{color}" in shape.mesh else shape.mesh


def surface_rect(category: str, position: tuple[float, float], yaw: float,
                 color: str | None = None) -> tuple[float, float, float, float]:
    """World ``(x0, z0, x1, z1)`` of the surface of a furniture piece (yaw a multiple of 90)."""
    cat = FURNITURE_CATEGORIES[category]
    sx, _, sz = shape_extents(cat.shape, 1.0, color or cat.colors[0])
    fx0, fz0, fx1, fz1 = cat.surface
    corners = [(-sx / 2 + f * sx, -sz / 2 + g * sz) for f in (fx0, fx1) for g in (fz0, fz1)]
    th = math.radians(yaw)
    c, s = round(math.cos(th)), round(math.sin(th))
    xs = [x * c + z * s for x, z in corners]
    zs = [-x * s + z * c for x, z in corners]
    return (position[0] + min(xs), position[1] + min(zs), position[0] + max(xs), position[1] + max(zs))
