"""Fast single-pass rendering of RGB + exact instance segmentation (+ optional depth).

MiniWorld renders into a multisampled float framebuffer and resolves it; here every frame goes
into one single-sample ``RGBA8`` framebuffer. The alpha channel carries the instance id: the
texture environment combines ``rgb = texture * lit colour`` and ``alpha = constant``, and the
constant is set to ``id / 255`` before each entity is drawn (``0`` for walls, floors, ceilings).
Blending is off, so the alpha written is exactly the id of the surface that won the depth test:
the segmentation is exact and comes from the same rasterisation as the RGB pixels.

The GL context and its caches live in ``glcontext.py`` (shared by all simulators of a process;
:func:`session` makes any thread safe to render from), shape display lists in ``shapes.py``; each
simulator owns its framebuffer and its scene display lists.
"""

from __future__ import annotations

import math
from ctypes import POINTER, byref

import numpy as np
from pyglet import gl

from .glcontext import context, gl_renderer, gl_session, miniworld_texture, session  # noqa: F401
from .shapes import set_id, shape_list  # noqa: F401

NEAR, FAR = 0.05, 60.0
_LIGHT_DIR = (0.35, 1.0, 0.55, 0.0)


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
