"""Fast single-pass rendering of RGB + exact instance segmentation (+ optional depth).

MiniWorld renders into a multisampled float framebuffer and resolves it; here every frame goes
into one single-sample ``RGBA8`` framebuffer. The alpha channel carries the instance id: the
texture environment combines ``rgb = texture * lit colour`` and ``alpha = constant``, and the
constant is set to ``id / 255`` before each entity is drawn (``0`` for walls, floors, ceilings).
Blending is off, so the alpha written is exactly the id of the surface that won the depth test:
the segmentation is exact and comes from the same rasterisation as the RGB pixels.

All simulators of a process share one hidden pyglet window (EGL when headless), hence one GL
context, one texture cache and one cache of shape display lists; each simulator owns its
framebuffer and its scene display list. GL calls must come from one thread.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import math
import os
import threading
from ctypes import POINTER, byref


def _preload_llvm_users() -> None:
    """Import Triton (pulled in by torch/transformers) *before* Mesa's llvmpipe loads its LLVM:
    loaded the other way round, Triton's own LLVM binds to Mesa's symbols and the process
    crashes (segmentation fault) on ``import triton``. Loaded first, both work. Skipped when an
    LLVM is mapped already (someone initialised Mesa first: importing Triton now would crash)."""
    try:
        with open("/proc/self/maps") as fh:
            if "libLLVM" in fh.read():
                return
    except OSError:
        pass
    if importlib.util.find_spec("triton") is not None:
        try:
            importlib.import_module("triton")
        except Exception:  # noqa: BLE001 - a broken optional package must not break rendering
            pass


_preload_llvm_users()  # before pyglet: its EGL set-up loads Mesa (and Mesa's LLVM)

import pyglet  # noqa: E402

pyglet.options["headless"] = os.environ.get("PYGLET_HEADLESS", "true").lower() not in ("0", "false", "no")
pyglet.options["debug_gl"] = False

import numpy as np  # noqa: E402
from pyglet import gl  # noqa: E402

from . import catalog  # noqa: E402

NEAR, FAR = 0.05, 60.0
_LIGHT_DIR = (0.35, 1.0, 0.55, 0.0)


class _Context:
    window = None
    white = None
    textures: dict[str, object] = {}
    shapes: dict[tuple, int] = {}
    depth = 0  # nesting depth of session()


_LOCK = threading.RLock()


def _create() -> None:
    _Context.window = pyglet.window.Window(width=1, height=1, visible=False)
    _Context.window.switch_to()
    reserved = gl.glGenLists(1)  # MiniWorld hard-codes display list 1: never use it
    if reserved != 1:
        gl.glDeleteLists(reserved, 1)
    tid = gl.GLuint(0)
    gl.glGenTextures(1, byref(tid))
    gl.glBindTexture(gl.GL_TEXTURE_2D, tid)
    white = (gl.GLubyte * 4)(255, 255, 255, 255)
    gl.glTexImage2D(gl.GL_TEXTURE_2D, 0, gl.GL_RGB, 1, 1, 0, gl.GL_RGBA, gl.GL_UNSIGNED_BYTE, white)
    gl.glTexParameteri(gl.GL_TEXTURE_2D, gl.GL_TEXTURE_MIN_FILTER, gl.GL_NEAREST)
    gl.glTexParameteri(gl.GL_TEXTURE_2D, gl.GL_TEXTURE_MAG_FILTER, gl.GL_NEAREST)
    _Context.white = tid.value


def _release() -> None:
    """Un-bind the shared context from the calling thread (EGL), so that any thread may take it
    next; with a windowing system (not headless) the context simply stays current."""
    ctx = _Context.window.context  # type: ignore[union-attr]
    if pyglet.options["headless"] and getattr(ctx, "egl_context", None) is not None:
        from pyglet.libs.egl import egl

        egl.eglMakeCurrent(ctx.display_connection, None, None, None)


def context() -> None:
    """Make the shared GL context current in this thread (creating it on first use). Prefer
    :func:`session`, which also serialises threads and releases the context afterwards."""
    if _Context.window is None:
        _create()
    else:
        _Context.window.switch_to()


@contextlib.contextmanager
def session():
    """Hold the shared GL context for a block of GL calls: a process-wide lock serialises
    threads, the context is made current on entry and released from the thread on exit (EGL
    binds a context to one thread at a time). Re-entrant."""
    with _LOCK:
        if _Context.depth == 0:
            context()
        _Context.depth += 1
        try:
            yield
        finally:
            _Context.depth -= 1
            if _Context.depth == 0:
                _release()


def gl_session(fn):
    """Decorator: run a method inside :func:`session`."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with session():
            return fn(*args, **kwargs)

    return wrapper


class GLTexture:
    """A mipmapped 2-D texture (duck-types the pyglet texture MiniWorld's ``Texture`` wraps)."""

    target = gl.GL_TEXTURE_2D

    def __init__(self, path: str):
        from PIL import Image

        with Image.open(path) as im:
            img = im.convert("RGBA").transpose(Image.Transpose.FLIP_TOP_BOTTOM)
        self.width, self.height = img.size
        data = np.ascontiguousarray(np.asarray(img, dtype=np.uint8))
        tid = gl.GLuint(0)
        gl.glGenTextures(1, byref(tid))
        self.id = tid.value
        gl.glBindTexture(gl.GL_TEXTURE_2D, self.id)
        gl.glPixelStorei(gl.GL_UNPACK_ALIGNMENT, 1)
        gl.glTexImage2D(gl.GL_TEXTURE_2D, 0, gl.GL_RGB, self.width, self.height, 0, gl.GL_RGBA,
                        gl.GL_UNSIGNED_BYTE, data.ctypes.data_as(POINTER(gl.GLubyte)))
        gl.glGenerateMipmap(gl.GL_TEXTURE_2D)
        gl.glTexParameteri(gl.GL_TEXTURE_2D, gl.GL_TEXTURE_MAG_FILTER, gl.GL_LINEAR)
        gl.glTexParameteri(gl.GL_TEXTURE_2D, gl.GL_TEXTURE_MIN_FILTER, gl.GL_LINEAR_MIPMAP_NEAREST)
        gl.glBindTexture(gl.GL_TEXTURE_2D, 0)


_BY_PATH: dict[str, GLTexture] = {}


def load_texture_file(path: str) -> GLTexture:
    """Load (once per process) an image file as a GL texture; PIL decoding, no pyglet
    per-pixel format conversion (which takes about a second per MiniWorld texture)."""
    path = os.path.abspath(path)
    if path not in _BY_PATH:
        _BY_PATH[path] = GLTexture(path)
    return _BY_PATH[path]


def texture(stem: str | None) -> int:
    """GL texture id of a MiniWorld texture file stem (cached); the white texture for ``None``."""
    if stem is None:
        return _Context.white  # type: ignore[return-value]
    return load_texture_file(catalog.texture_path(stem)).id


def miniworld_texture(stem: str):
    """Make ``miniworld.opengl.Texture.get(stem)`` return our fast-loaded texture of that file."""
    from miniworld.opengl import Texture

    path = catalog.texture_path(stem)
    Texture.tex_paths[stem] = [path]
    if path not in Texture.tex_cache:
        Texture.tex_cache[path] = Texture(load_texture_file(path), stem)
    return Texture.tex_cache[path]


def load_mesh(name: str):
    """``miniworld.objmesh.ObjMesh.get(name)`` with its textures loaded by :func:`load_texture_file`."""
    from miniworld.objmesh import ObjMesh
    from miniworld.opengl import Texture

    original = Texture.__dict__["load"]
    Texture.load = classmethod(lambda cls, p: load_texture_file(p))  # type: ignore[method-assign]
    try:
        return ObjMesh.get(name)
    finally:
        Texture.load = original  # type: ignore[method-assign]


def _mesh_texture_id(tex) -> int:
    return tex.id if tex is not None else _Context.white  # type: ignore[return-value]


# -- geometry helpers (immediate mode, only ever compiled into display lists) ---------------------
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
    if key not in _Context.shapes:
        _prepare(shape, color)
        lst = gl.glGenLists(1)
        gl.glNewList(lst, gl.GL_COMPILE)
        _draw_shape(shape, color, scale)
        gl.glEndList()
        _Context.shapes[key] = lst
    return _Context.shapes[key]


def set_id(entity_id: int) -> None:
    """Write ``entity_id`` into the alpha channel of what is drawn next."""
    gl.glTexEnvfv(gl.GL_TEXTURE_ENV, gl.GL_TEXTURE_ENV_COLOR, (gl.GLfloat * 4)(0.0, 0.0, 0.0, entity_id / 255.0))


# -- framebuffer ------------------------------------------------------------------------------------
class FrameBuffer:
    """Single-sample RGBA8 colour + 24-bit depth render target with numpy read-back."""

    def __init__(self, width: int, height: int):
        self.width, self.height = int(width), int(height)
        self.fbo = gl.GLuint(0)
        gl.glGenFramebuffers(1, byref(self.fbo))
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, self.fbo)
        self.rbs = (gl.GLuint * 2)()
        gl.glGenRenderbuffers(2, self.rbs)
        gl.glBindRenderbuffer(gl.GL_RENDERBUFFER, self.rbs[0])
        gl.glRenderbufferStorage(gl.GL_RENDERBUFFER, gl.GL_RGBA8, self.width, self.height)
        gl.glFramebufferRenderbuffer(gl.GL_FRAMEBUFFER, gl.GL_COLOR_ATTACHMENT0, gl.GL_RENDERBUFFER, self.rbs[0])
        gl.glBindRenderbuffer(gl.GL_RENDERBUFFER, self.rbs[1])
        gl.glRenderbufferStorage(gl.GL_RENDERBUFFER, gl.GL_DEPTH_COMPONENT24, self.width, self.height)
        gl.glFramebufferRenderbuffer(gl.GL_FRAMEBUFFER, gl.GL_DEPTH_ATTACHMENT, gl.GL_RENDERBUFFER, self.rbs[1])
        status = gl.glCheckFramebufferStatus(gl.GL_FRAMEBUFFER)
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, 0)
        if status != gl.GL_FRAMEBUFFER_COMPLETE:
            raise RuntimeError(f"framebuffer incomplete (status {status:#x})")
        self._rgb = np.empty((self.height, self.width, 3), dtype=np.uint8)
        self._ids = np.empty((self.height, self.width), dtype=np.uint8)
        self._depth = np.empty((self.height, self.width), dtype=np.float32)

    def bind(self) -> None:
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, self.fbo)
        gl.glViewport(0, 0, self.width, self.height)

    def read(self) -> tuple[np.ndarray, np.ndarray]:
        """``(rgb H x W x 3, ids H x W)`` uint8 arrays, row 0 at the top (new arrays). Two
        direct reads (RGB, then alpha) are faster than reading RGBA and splitting channels."""
        gl.glPixelStorei(gl.GL_PACK_ALIGNMENT, 1)
        gl.glReadPixels(0, 0, self.width, self.height, gl.GL_RGB, gl.GL_UNSIGNED_BYTE,
                        self._rgb.ctypes.data_as(POINTER(gl.GLubyte)))
        gl.glReadPixels(0, 0, self.width, self.height, gl.GL_ALPHA, gl.GL_UNSIGNED_BYTE,
                        self._ids.ctypes.data_as(POINTER(gl.GLubyte)))
        return self._rgb[::-1].copy(), self._ids[::-1].copy()

    def read_depth(self) -> np.ndarray:
        """``H x W`` float32 distance along the camera axis, metres."""
        gl.glPixelStorei(gl.GL_PACK_ALIGNMENT, 1)
        gl.glReadPixels(0, 0, self.width, self.height, gl.GL_DEPTH_COMPONENT, gl.GL_FLOAT,
                        self._depth.ctypes.data_as(POINTER(gl.GLfloat)))
        z = self._depth[::-1] * 2.0 - 1.0
        return (2.0 * FAR * NEAR / ((FAR + NEAR) - z * (FAR - NEAR))).astype(np.float32)

    def delete(self) -> None:
        gl.glDeleteFramebuffers(1, byref(self.fbo))
        gl.glDeleteRenderbuffers(2, self.rbs)


# -- camera -------------------------------------------------------------------------------------------
def view_matrix(eye: np.ndarray, yaw_deg: float, pitch_deg: float) -> np.ndarray:
    """World -> camera matrix (OpenGL convention: camera looks down -z)."""
    yaw, pitch = math.radians(yaw_deg), math.radians(pitch_deg)
    cp, sp, cy, sy = math.cos(pitch), math.sin(pitch), math.cos(yaw), math.sin(yaw)
    f = np.array([cp * cy, sp, -cp * sy])
    s = np.array([sy, 0.0, cy])  # f x up, normalised (|cos(pitch)| > 0 for |pitch| < 90)
    u = np.array([-sp * cy, cp, sp * sy])  # s x f
    m = np.eye(4)
    m[0, :3], m[1, :3], m[2, :3] = s, u, -f
    m[:3, 3] = -m[:3, :3] @ eye
    return m


def projection_matrix(fov_y_deg: float, aspect: float) -> np.ndarray:
    f = 1.0 / math.tan(math.radians(fov_y_deg) / 2)
    m = np.zeros((4, 4))
    m[0, 0], m[1, 1] = f / aspect, f
    m[2, 2], m[2, 3] = (FAR + NEAR) / (NEAR - FAR), 2 * FAR * NEAR / (NEAR - FAR)
    m[3, 2] = -1.0
    return m


def _load(m: np.ndarray) -> None:
    gl.glLoadMatrixf((gl.GLfloat * 16)(*m.T.ravel().astype(np.float32)))


def setup_state() -> None:
    """Fixed GL state of a frame (cheap; set every frame because other contexts' users share
    nothing but this one may have been left in any state by pyglet)."""
    gl.glEnable(gl.GL_DEPTH_TEST)
    gl.glEnable(gl.GL_CULL_FACE)
    gl.glDisable(gl.GL_BLEND)
    gl.glDisable(gl.GL_MULTISAMPLE)
    gl.glEnable(gl.GL_TEXTURE_2D)
    gl.glEnable(gl.GL_LIGHTING)
    gl.glEnable(gl.GL_LIGHT0)
    gl.glEnable(gl.GL_NORMALIZE)
    gl.glEnable(gl.GL_COLOR_MATERIAL)
    gl.glColorMaterial(gl.GL_FRONT_AND_BACK, gl.GL_AMBIENT_AND_DIFFUSE)
    gl.glShadeModel(gl.GL_SMOOTH)
    gl.glLightfv(gl.GL_LIGHT0, gl.GL_AMBIENT, (gl.GLfloat * 4)(0.45, 0.45, 0.45, 1.0))
    gl.glLightfv(gl.GL_LIGHT0, gl.GL_DIFFUSE, (gl.GLfloat * 4)(0.7, 0.7, 0.7, 1.0))
    te = gl.GL_TEXTURE_ENV
    gl.glTexEnvi(te, gl.GL_TEXTURE_ENV_MODE, gl.GL_COMBINE)
    gl.glTexEnvi(te, gl.GL_COMBINE_RGB, gl.GL_MODULATE)
    gl.glTexEnvi(te, gl.GL_SOURCE0_RGB, gl.GL_TEXTURE)
    gl.glTexEnvi(te, gl.GL_OPERAND0_RGB, gl.GL_SRC_COLOR)
    gl.glTexEnvi(te, gl.GL_SOURCE1_RGB, gl.GL_PRIMARY_COLOR)
    gl.glTexEnvi(te, gl.GL_OPERAND1_RGB, gl.GL_SRC_COLOR)
    gl.glTexEnvi(te, gl.GL_COMBINE_ALPHA, gl.GL_REPLACE)
    gl.glTexEnvi(te, gl.GL_SOURCE0_ALPHA, gl.GL_CONSTANT)
    gl.glTexEnvi(te, gl.GL_OPERAND0_ALPHA, gl.GL_SRC_ALPHA)


def begin_frame(fb: FrameBuffer, view: np.ndarray, proj: np.ndarray) -> None:
    context()
    fb.bind()
    setup_state()
    gl.glClearColor(0.0, 0.0, 0.0, 0.0)
    gl.glClearDepth(1.0)
    gl.glClear(gl.GL_COLOR_BUFFER_BIT | gl.GL_DEPTH_BUFFER_BIT)
    gl.glMatrixMode(gl.GL_PROJECTION)
    _load(proj)
    gl.glMatrixMode(gl.GL_MODELVIEW)
    _load(view)
    gl.glLightfv(gl.GL_LIGHT0, gl.GL_POSITION, (gl.GLfloat * 4)(*_LIGHT_DIR))


def draw_entity(list_id: int, entity_id: int, pos: tuple[float, float, float], yaw_deg: float) -> None:
    set_id(entity_id)
    gl.glPushMatrix()
    gl.glTranslatef(float(pos[0]), float(pos[1]), float(pos[2]))
    gl.glRotatef(float(yaw_deg), 0.0, 1.0, 0.0)
    gl.glCallList(list_id)
    gl.glPopMatrix()


def call_list(list_id: int) -> None:
    gl.glCallList(list_id)


def end_frame() -> None:
    gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, 0)


def new_list() -> int:
    lst = gl.glGenLists(1)
    gl.glNewList(lst, gl.GL_COMPILE)
    return lst


def end_list() -> None:
    gl.glEndList()


def delete_list(lst: int) -> None:
    gl.glDeleteLists(lst, 1)


def gl_renderer() -> str:
    """The OpenGL renderer and version string (e.g. ``llvmpipe ... Mesa``)."""
    from pyglet.gl import gl_info

    with session():
        return f"{gl_info.get_renderer()} / {gl_info.get_version()}"
