"""Build the MiniWorld geometry of a house and draw frames of it.

Rooms are ``miniworld.miniworld.Room`` objects (MiniWorld generates their floor, ceiling and
wall polygons, with the openings cut out as portals); they and the furniture are compiled into
one display list per scene. Doors and movable objects are drawn every frame from cached shape
display lists, each tagged with its id for the segmentation (see ``render.py``).
"""

from __future__ import annotations

import numpy as np

from . import catalog, render
from .world import HouseWorld, door_transform


def _register_textures(stems: set[str]) -> None:
    """Let ``miniworld.opengl.Texture.get`` resolve exact file stems (``floor_tiles_white``,
    ``wood_2``) rather than MiniWorld's ``<name>_<n>`` randomisation sets, fast-loaded."""
    for stem in sorted(stems):
        render.miniworld_texture(stem)


def build_rooms(world: HouseWorld) -> list:
    """MiniWorld ``Room`` objects for the spec's rooms, openings cut as portals."""
    from miniworld.miniworld import Room

    spec = world.spec
    _register_textures({spec.ceiling_texture} | {r.wall_texture for r in spec.rooms} | {r.floor_texture for r in spec.rooms})
    rooms = []
    for r in spec.rooms:
        x0, z0, x1, z1 = r.bounds
        outline = np.array([[x1, z1], [x1, z0], [x0, z0], [x0, z1]], dtype=np.float64)
        room = Room(outline, wall_height=catalog.WALL_HEIGHT, floor_tex=r.floor_texture, wall_tex=r.wall_texture,
                    ceil_tex=spec.ceiling_texture)
        # MiniWorld edge order for this outline: 0 east (x = x1), 1 north (z = z0), 2 west, 3 south
        edges = [("x", x1, 0), ("z", z0, 1), ("x", x0, 2), ("z", z1, 3)]
        for o, axis in zip(spec.openings, world.axes, strict=False):
            if r.id not in o.rooms:
                continue
            cx, cz = o.center
            for e_axis, coord, idx in edges:
                if e_axis != axis:
                    continue
                across, along = (cx, cz) if axis == "x" else (cz, cx)
                if abs(across - coord) > 1e-6:
                    continue
                lo, hi = along - o.width / 2, along + o.width / 2
                if axis == "x":
                    room.add_portal(idx, min_z=lo, max_z=hi, max_y=catalog.OPENING_HEIGHT)
                else:
                    room.add_portal(idx, min_x=lo, max_x=hi, max_y=catalog.OPENING_HEIGHT)
        room._gen_static_data(None, None)
        rooms.append(room)
    return rooms


class SceneGL:
    """GL resources of one loaded house: the static display list (rooms + furniture)."""

    def __init__(self, world: HouseWorld):
        render.context()
        rooms = build_rooms(world)
        # load every shape list before compiling the scene (no nested glNewList)
        furniture = [(world.entities[i], render.shape_list(world.entities[i].shape, world.entities[i].color, 1.0))
                     for i in world.furniture_ids]
        self.dynamic_lists = {
            i: render.shape_list(world.entities[i].shape, world.entities[i].color, world.entities[i].scale)
            for i in world.door_ids + world.object_ids
        }
        render.setup_state()
        self.static_list = render.new_list()
        render.set_id(0)
        for room in rooms:
            room._render()
        for ent, lst in furniture:
            render.draw_entity(lst, ent.id, tuple(ent.pos), ent.yaw)
        render.end_list()

    def draw(self, fb: render.FrameBuffer, view: np.ndarray, proj: np.ndarray, w: HouseWorld,
             carry: dict[int, tuple]) -> None:
        """Draw one frame of ``w`` (a world of this scene's spec, in any state) into ``fb``;
        ``carry`` maps a held object id to its ``(pos, yaw)``."""
        render.begin_frame(fb, view, proj)
        render.call_list(self.static_list)
        for i in w.door_ids:
            pos, yaw = door_transform(w.entities[i])
            render.draw_entity(self.dynamic_lists[i], i, pos, yaw)
        for i in w.object_ids:
            e = w.entities[i]
            if e.held:
                if i not in carry:
                    continue
                pos, yaw = carry[i]
            else:
                pos, yaw = tuple(e.pos), e.yaw
            render.draw_entity(self.dynamic_lists[i], i, pos, yaw)

    def delete(self) -> None:
        render.context()
        render.delete_list(self.static_list)
