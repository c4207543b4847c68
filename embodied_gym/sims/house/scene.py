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

    @render.gl_session
    def __init__(self, world: HouseWorld):
        rooms = build_rooms(world)
        # load every shape list before compiling the scene (no nested glNewList)
        furniture = [(world.entities[i], render.shape_list(world.entities[i].shape, world.entities[i].color, 1.0))
                     for i in world.furniture_ids]
        self.dynamic_lists = {
            i: render.shape_list(world.entities[i].shape, world.entities[i].color, world.entities[i].scale)
            for i in world.door_ids + world.object_ids
        }
        self._dynamic_room_lists: list[int] = []
        self._dynamic_key: tuple | None = None
        spec = world.spec
        self.room_ids = [r.id for r in spec.rooms]
        self.room_boxes = np.array([r.bounds for r in spec.rooms])
        # openings as (room index a, room index b, door id or None, 4 corner points of the gap)
        index = {r.id: k for k, r in enumerate(spec.rooms)}
        self.portals = []
        for o, axis in zip(spec.openings, world.axes, strict=False):
            (ax, az), (bx, bz) = (o.center[0], o.center[1] - o.width / 2), (o.center[0], o.center[1] + o.width / 2)
            if axis == "z":
                (ax, az), (bx, bz) = (o.center[0] - o.width / 2, o.center[1]), (o.center[0] + o.width / 2, o.center[1])
            quad = np.array([[ax, 0, az], [bx, 0, bz], [ax, catalog.OPENING_HEIGHT, az], [bx, catalog.OPENING_HEIGHT, bz]])
            quad = np.c_[quad, np.ones(4)]  # homogeneous
            self.portals.append((index[o.rooms[0]], index[o.rooms[1]], o.id if o.kind == "door" else None, quad))
        render.setup_state()
        self.room_lists = []
        for k, room in enumerate(rooms):  # furniture first: it hides walls behind it (early depth test)
            lst = render.new_list()
            for ent, flist in furniture:
                if ent.room == self.room_ids[k]:
                    render.draw_entity(flist, ent.id, tuple(ent.pos), ent.yaw)
            render.set_id(0)
            room._render()
            render.end_list()
            self.room_lists.append(lst)

    def draw(self, fb: render.FrameBuffer, view: np.ndarray, proj: np.ndarray, w: HouseWorld,
             carry: dict[int, tuple]) -> None:
        """Draw one frame of ``w`` (a world of this scene's spec, in any state) into ``fb``;
        ``carry`` maps a held object id to its ``(pos, yaw)``.

        Doors and resting objects go into a second display list, recompiled only when one of
        them changed; the held object is drawn on its own every frame."""
        key = tuple(w.entities[i].is_open for i in w.door_ids) + tuple(
            (True,) if w.entities[i].held else (w.entities[i].pos.tobytes(), w.entities[i].yaw) for i in w.object_ids
        )  # a held object is drawn on its own: its motion must not recompile the lists
        if key != self._dynamic_key:
            self._compile_dynamic(w)
            self._dynamic_key = key
        render.begin_frame(fb, view, proj)
        for i, (pos, yaw) in carry.items():
            render.draw_entity(self.dynamic_lists[i], i, pos, yaw)
        for k in self.visible_rooms(w, view, proj):
            render.call_list(self._dynamic_room_lists[k])
            render.call_list(self.room_lists[k])

    def _compile_dynamic(self, w: HouseWorld) -> None:
        """One list per room with the doors and resting objects that may show in it (an object
        within its radius of a room's bounds belongs to that room too)."""
        for lst in self._dynamic_room_lists:
            render.delete_list(lst)
        members: list[list[int]] = [[] for _ in self.room_ids]
        b = self.room_boxes
        for i in w.door_ids:
            x, _, z = w.entities[i].pos
            for k in np.nonzero((b[:, 0] - 0.1 <= x) & (x <= b[:, 2] + 0.1) & (b[:, 1] - 0.1 <= z) & (z <= b[:, 3] + 0.1))[0]:
                members[k].append(i)
        for i in w.object_ids:
            e = w.entities[i]
            if e.held:
                continue
            x, _, z = e.pos
            r = max(e.extents[0], e.extents[2]) / 2 + 0.05
            for k in np.nonzero((b[:, 0] - r <= x) & (x <= b[:, 2] + r) & (b[:, 1] - r <= z) & (z <= b[:, 3] + r))[0]:
                members[k].append(i)
        self._dynamic_room_lists = []
        for k in range(len(self.room_ids)):
            lst = render.new_list()
            for i in members[k]:
                e = w.entities[i]
                pos, yaw = door_transform(e) if e.kind == "door" else (tuple(e.pos), e.yaw)
                render.draw_entity(self.dynamic_lists[i], i, pos, yaw)
            render.end_list()
            self._dynamic_room_lists.append(lst)

    def visible_rooms(self, w: HouseWorld, view: np.ndarray, proj: np.ndarray) -> list[int]:
        """Rooms that may show in this frame, nearest first: the camera's room(s), then rooms
        reached through openings that intersect the view frustum (closed doors are opaque).
        Drawing near rooms first lets the depth test discard hidden far surfaces unshaded."""
        cx, _, cz = -view[:3, :3].T @ view[:3, 3]  # camera position (view is a rigid transform)
        b = self.room_boxes
        near = np.nonzero((b[:, 0] - 0.3 <= cx) & (cx <= b[:, 2] + 0.3) & (b[:, 1] - 0.3 <= cz) & (cz <= b[:, 3] + 0.3))[0]
        inside = [k for k in near if b[k, 0] <= cx <= b[k, 2] and b[k, 1] <= cz <= b[k, 3]]
        order = list(dict.fromkeys(inside + list(near))) or [0]
        m = proj @ view
        seen = set(order)
        queue = list(order)
        while queue:
            k = queue.pop(0)
            for a, bb, door, quad in self.portals:
                if k not in (a, bb):
                    continue
                other = bb if k == a else a
                if other in seen or (door is not None and not w.entities[door].is_open):
                    continue
                clip = quad @ m.T
                x, y, cw = clip[:, 0], clip[:, 1], clip[:, 3]
                # conservative: cull only when all corners lie outside one clip half-space
                if (cw < render.NEAR).all() or (x > cw).all() or (x < -cw).all() or (y > cw).all() or (y < -cw).all():
                    continue
                seen.add(other)
                order.append(other)
                queue.append(other)
        return order

    @render.gl_session
    def delete(self) -> None:
        for lst in self.room_lists:
            render.delete_list(lst)
        for lst in self._dynamic_room_lists:
            render.delete_list(lst)
