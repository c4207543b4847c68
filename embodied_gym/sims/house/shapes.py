"""Display lists of furniture, object and door shapes, drawn in their local frame.

Local frame: base at ``y = 0``, centred on ``x``/``z``, front facing ``+x`` (doors: hinge at the
origin, panel along ``+z``). Lists are cached per (shape, colour, scale) for the process.
"""

from __future__ import annotations

import math

import numpy as np
from pyglet import gl

from . import catalog
from .glcontext import _Context, load_mesh, texture

_SHAPES: dict[tuple, int] = {}


def _mesh_texture_id(tex) -> int:
    return tex.id if tex is not None else _Context.white  # type: ignore[return-value]


_FACES = (  # normal, u axis, v axis (u x v = normal)
    ((1, 0, 0), (0, 0, -1), (0, 1, 0)),
    ((-1, 0, 0), (0, 0, 1), (0, 1, 0)),
    ((0, 0, 1), (1, 0, 0), (0, 1, 0)),
    ((0, 0, -1), (-1, 0, 0), (0, 1, 0)),
    ((0, 1, 0), (1, 0, 0), (0, 0, -1)),
    ((0, -1, 0), (1, 0, 0), (0, 0, 1)),
)


def _box(x0: float, x1: float, y0: float, y1: float, z0: float, z1: float, tile: float | None = 0.5,
         faces: tuple[int, ...] = (0, 1, 2, 3, 4, 5)) -> None:
    """Axis-aligned box; texture coordinates repeat every ``tile`` metres (``None``: 0..1 per face)."""
    c = np.array([(x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2])
    half = np.array([(x1 - x0) / 2, (y1 - y0) / 2, (z1 - z0) / 2])
    gl.glBegin(gl.GL_QUADS)
    for k in faces:
        n, u, v = (np.array(a, dtype=float) for a in _FACES[k])
        fc = c + n * half
        hu, hv = float(np.abs(u) @ half), float(np.abs(v) @ half)
        su, sv = (1.0, 1.0) if tile is None else (2 * hu / tile, 2 * hv / tile)
        gl.glNormal3f(*n)
        for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
            gl.glTexCoord2f((a + 1) / 2 * su, (b + 1) / 2 * sv)
            gl.glVertex3f(*(fc + a * hu * u + b * hv * v))
    gl.glEnd()


def _cylinder(radius: float, height: float, sides: int = 16) -> None:
    gl.glBegin(gl.GL_QUADS)
    for i in range(sides):
        a0, a1 = 2 * math.pi * i / sides, 2 * math.pi * (i + 1) / sides
        for a, y in ((a0, 0.0), (a1, 0.0), (a1, height), (a0, height)):
            gl.glNormal3f(math.cos(a), 0.0, -math.sin(a))
            gl.glTexCoord2f(a / (2 * math.pi), y)
            gl.glVertex3f(radius * math.cos(a), y, -radius * math.sin(a))
    gl.glEnd()
    for y, ny in ((height, 1.0), (0.0, -1.0)):
        gl.glBegin(gl.GL_TRIANGLE_FAN)
        gl.glNormal3f(0.0, ny, 0.0)
        gl.glVertex3f(0.0, y, 0.0)
        rng = range(sides + 1) if ny > 0 else range(sides, -1, -1)
        for i in rng:
            a = 2 * math.pi * i / sides
            gl.glVertex3f(radius * math.cos(a), y, -radius * math.sin(a))
        gl.glEnd()


def _color(name: str | None) -> None:
    r, g, b = catalog.COLORS.get(name or "white", (1.0, 1.0, 1.0))
    gl.glColor3f(r, g, b)


def _bind(stem: str | None) -> None:
    gl.glBindTexture(gl.GL_TEXTURE_2D, texture(stem))


def _draw_shape(shape: catalog.Shape, color: str | None, scale: float) -> None:
    sx, sy, sz = (s * scale for s in shape.size)
    if shape.kind == "mesh":
        mesh = load_mesh(catalog.mesh_name(shape, color))
        s = sy / float(mesh.max_coords[1])
        gl.glPushMatrix()
        gl.glRotatef(shape.yaw_offset, 0, 1, 0)
        gl.glScalef(s, s, s)
        gl.glColor3f(1, 1, 1)
        for vlist, tex in zip(mesh.vlists, mesh.textures, strict=False):
            gl.glBindTexture(gl.GL_TEXTURE_2D, _mesh_texture_id(tex))
            vlist.draw(gl.GL_TRIANGLES)
        gl.glPopMatrix()
    elif shape.kind == "box":
        _bind(shape.texture)
        if shape.texture:
            gl.glColor3f(1, 1, 1)
        else:
            _color(color)
        _box(-sx / 2, sx / 2, 0, sy, -sz / 2, sz / 2)
    elif shape.kind == "cylinder":
        _bind(None)
        _color(color)
        _cylinder(sx / 2, sy)
    elif shape.kind == "table":
        _bind(shape.texture)
        gl.glColor3f(1, 1, 1)
        t, leg = 0.05, 0.06
        _box(-sx / 2, sx / 2, sy - t, sy, -sz / 2, sz / 2)
        for lx in (-sx / 2 + leg, sx / 2 - leg):
            for lz in (-sz / 2 + leg, sz / 2 - leg):
                _box(lx - leg / 2, lx + leg / 2, 0, sy - t, lz - leg / 2, lz + leg / 2)
    elif shape.kind == "bed":
        _bind("wood_1")
        gl.glColor3f(1, 1, 1)
        _box(-sx / 2, sx / 2, 0, 0.3, -sz / 2, sz / 2)
        _box(-sx / 2, -sx / 2 + 0.08, 0, 0.9, -sz / 2, sz / 2)  # headboard against the wall
        _bind(None)
        _color(color)
        _box(-sx / 2 + 0.08, sx / 2, 0.3, sy, -sz / 2 + 0.03, sz / 2 - 0.03)
        _color("white")
        _box(-sx / 2 + 0.12, -sx / 2 + 0.45, sy, sy + 0.1, -sz / 2 + 0.15, sz / 2 - 0.15)
    elif shape.kind == "sofa":
        _bind(None)
        _color(color)
        seat = 0.45
        _box(-sx / 2, sx / 2, 0, seat, -sz / 2, sz / 2)
        _box(-sx / 2, -sx / 2 + 0.2, seat, sy, -sz / 2, sz / 2)  # back rest against the wall
        for z0 in (-sz / 2, sz / 2 - 0.15):
            _box(-sx / 2 + 0.2, sx / 2, seat, seat + 0.2, z0, z0 + 0.15)
    elif shape.kind == "door":
        _bind(None)
        _color("grey")
        _box(-sx / 2, sx / 2, 0, sy, 0, sz, faces=(2, 3, 4, 5))
        _bind(shape.texture)
        gl.glColor3f(1, 1, 1)
        _box(-sx / 2, sx / 2, 0, sy, 0, sz, tile=None, faces=(0, 1))
    else:  # pragma: no cover - catalog and spec validation prevent this
        raise ValueError(f"unknown shape kind {shape.kind!r}")


def _prepare(shape: catalog.Shape, color: str | None) -> None:
    """Load a shape's textures and mesh *outside* any display list: texture uploads issued while
    compiling would be recorded into the list (and replayed every frame) instead of executed."""
    texture(shape.texture)
    texture("wood_1")  # bed frames
    if shape.kind == "mesh":
        load_mesh(catalog.mesh_name(shape, color))


def shape_list(shape: catalog.Shape, color: str | None, scale: float) -> int:
    """Display list drawing ``shape`` in its local frame (cached per shape, colour and scale)."""
    key = (shape, color, round(scale, 6))
    if key not in _SHAPES:
        _prepare(shape, color)
        lst = gl.glGenLists(1)
        gl.glNewList(lst, gl.GL_COMPILE)
        _draw_shape(shape, color, scale)
        gl.glEndList()
        _SHAPES[key] = lst
    return _SHAPES[key]


def set_id(entity_id: int) -> None:
    """Write ``entity_id`` into the alpha channel of what is drawn next."""
    gl.glTexEnvfv(gl.GL_TEXTURE_ENV, gl.GL_TEXTURE_ENV_COLOR, (gl.GLfloat * 4)(0.0, 0.0, 0.0, entity_id / 255.0))


