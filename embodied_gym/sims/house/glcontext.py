"""The process-wide OpenGL context of the house backend, and the GPU resources it owns.

All simulators of a process share one hidden pyglet window (EGL when headless), hence one GL
context, one texture cache and one mesh cache. :func:`session` serialises threads with a lock
and releases the context from the thread after each block, so any thread may render next (EGL
binds a context to one thread at a time).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
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


class _Context:
    window = None
    white = None
    textures: dict[str, object] = {}
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


def gl_renderer() -> str:
    """The OpenGL renderer and version string (e.g. ``llvmpipe ... Mesa``)."""
    from pyglet.gl import gl_info

    with session():
        return f"{gl_info.get_renderer()} / {gl_info.get_version()}"
