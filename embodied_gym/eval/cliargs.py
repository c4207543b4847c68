"""Command-line flags generated from a config dataclass (``egym eval``'s flags from :class:`EvalConfig`).

Each field with ``metadata["cli"]`` true becomes one option: ``--field-name`` (or
``metadata["flag"]``), its ``metadata["help"]`` as help, its default shown. Types come from the
annotation: ``int`` / ``float`` / ``str`` (also ``| None``), ``Path``, ``bool`` (a switch:
``--resume`` sets a default-``False`` field, ``--no-progress`` clears a default-``True`` one),
``dict`` (a JSON object), ``list[str]`` (a repeatable flag); ``metadata["nargs"]`` /
``["const"]`` make a value optional (``--ray`` alone means ``--ray local``). :func:`flag_of` maps a field back to its flag, so errors that name a
field can be reported with the flag the user typed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any


def flag_of(cls: type, name: str) -> str:
    """The command-line flag of field ``name`` of ``cls``."""
    for f in dataclasses.fields(cls):
        if f.name == name:
            return f.metadata.get("flag") or "--" + name.replace("_", "-")
    raise KeyError(name)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
    return value


def _converter(annotation: str) -> Any:
    base = annotation.replace(" ", "").replace("|None", "").replace("None|", "")
    if base == "int":
        return int
    if base == "float":
        return float
    if base.startswith("dict"):
        return _json_object
    return str


def add_dataclass_arguments(parser: argparse.ArgumentParser, cls: type) -> None:
    """Add one option per command-line field of ``cls`` (see the module docstring)."""
    for f in dataclasses.fields(cls):
        if not f.metadata.get("cli"):
            continue
        flag = flag_of(cls, f.name)
        help_text = f.metadata.get("help", "")
        annotation = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        if annotation == "bool":
            default = f.default if f.default is not dataclasses.MISSING else False
            parser.add_argument(flag, dest=f.name, action="store_false" if default else "store_true", help=help_text)
            continue
        if annotation.replace(" ", "").startswith("list["):  # repeatable: --flag A --flag B
            parser.add_argument(flag, dest=f.name, action="append", default=None, help=help_text + " (repeatable)",
                                metavar=flag.lstrip("-").replace("-", "_").upper())
            continue
        kwargs: dict[str, Any] = {"dest": f.name, "type": _converter(annotation), "help": help_text,
                                  "metavar": flag.lstrip("-").replace("-", "_").upper()}
        if "nargs" in f.metadata:  # e.g. --ray [ADDRESS]: the flag alone gives metadata["const"]
            kwargs["nargs"], kwargs["const"] = f.metadata["nargs"], f.metadata.get("const")
        if f.metadata.get("required"):
            kwargs["required"] = True
        elif f.default is not dataclasses.MISSING:
            kwargs["default"] = f.default
            if f.default is not None:
                kwargs["help"] = f"{help_text} (default: {f.default})"
        elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            kwargs["default"] = f.default_factory()  # type: ignore[misc]
        parser.add_argument(flag, **kwargs)


def config_from_args(cls: type, args: argparse.Namespace) -> Any:
    """``cls(**fields read from args)`` for every command-line field of ``cls``."""
    values = {}
    for f in dataclasses.fields(cls):
        if not f.metadata.get("cli") or not hasattr(args, f.name):
            continue
        value = getattr(args, f.name)
        if value is None and f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            continue  # a repeatable flag never given: the field's own default
        values[f.name] = value
    return cls(**values)
