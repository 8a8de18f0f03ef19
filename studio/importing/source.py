"""Finding the user's model: ``MODULE:CALLABLE`` with keyword arguments, and the input shapes.

MODULE is a Python file (``models/net.py``) or an importable module name
(``mypkg.nets``); CALLABLE a class or a function returning an ``nn.Module``.
This runs the user's own code: it is their model, named on their command line.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import math
import re
import sys
import uuid
from pathlib import Path
from typing import Any

from torch import nn

from .errors import BadArgument

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def split_target(text: str) -> tuple[str, str]:
    """``"models/net.py:ResNet"`` -> ``("models/net.py", "ResNet")``."""
    module, sep, name = text.rpartition(":")
    if not sep or not module or not name:
        raise BadArgument(f"{text!r}: give MODULE:CALLABLE, e.g. models/net.py:ResNet or mypkg.nets:make_resnet")
    if not _NAME.fullmatch(name):
        raise BadArgument(f"{text!r}: {name!r} is not a Python name (the class or function to call)")
    return module, name


def load_callable(target: str) -> tuple[Any, str]:
    """The class or function ``target`` names, and the name it goes by."""
    module_text, name = split_target(target)
    module = _load_module(module_text)
    value: Any = module
    for part in name.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise BadArgument(f"{module_text}: has no {name!r}") from None
    if not callable(value):
        raise BadArgument(f"{target}: {name} is a {type(value).__name__}, not a class or function")
    return value, name.rsplit(".", 1)[-1]


def _looks_like_file(text: str) -> bool:
    return text.endswith(".py") or "/" in text or "\\" in text


def _package_of(path: Path) -> tuple[Path, str] | None:
    """(the folder above the outermost package, the dotted module name) for a file inside a
    package (folders with ``__init__.py``), so its relative imports work; None for a plain file."""
    parts = [path.stem]
    folder = path.resolve().parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return (folder, ".".join(parts)) if len(parts) > 1 else None


@contextlib.contextmanager
def search_path(module_text: str):
    """While the model is loaded and built, its file's folder (or its package's root) is on
    ``sys.path``, as when the file is run as a script: its own imports of neighbours work."""
    if not _looks_like_file(module_text):
        yield
        return
    path = Path(module_text)
    package = _package_of(path) if path.is_file() else None
    folder = str(package[0] if package else path.resolve().parent)
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        try:
            sys.path.remove(folder)
        except ValueError:  # the model's code took it out itself
            pass


def _load_module(text: str):
    if _looks_like_file(text):
        path = Path(text)
        if not path.is_file():
            raise BadArgument(f"{text}: no such Python file")
        package = _package_of(path)
        if package is not None:
            _forget_stale(*package)
            return _import_name(package[1], text)
        # a private name: the user's file must not replace a module of the same name
        unique = f"_studio_import_{uuid.uuid4().hex}"
        spec = importlib.util.spec_from_file_location(unique, path)
        if spec is None or spec.loader is None:
            raise BadArgument(f"{text}: cannot be read as a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[unique] = module  # dataclasses and pickling look their module up here
        try:
            spec.loader.exec_module(module)
        except SyntaxError as exc:
            sys.modules.pop(unique, None)
            raise BadArgument(f"{text}:{exc.lineno}: {exc.msg}") from None
        except Exception as exc:
            sys.modules.pop(unique, None)
            raise BadArgument(f"{text}: importing it failed: {type(exc).__name__}: {_first_line(exc)}") from None
        return module
    if not _NAME.fullmatch(text):
        raise BadArgument(f"{text!r}: not a Python file or module name")
    return _import_name(text, text)


def _forget_stale(root: Path, name: str) -> None:
    """Drop what an earlier import left of this module (the file may have been edited since) and
    any package of the same name from another folder, so the file's own is imported."""
    parts = name.split(".")
    for i in range(1, len(parts) + 1):
        dotted = ".".join(parts[:i])
        module = sys.modules.get(dotted)
        if module is None:
            continue
        where = getattr(module, "__file__", None)
        if i == len(parts) or where is None or not Path(where).resolve().is_relative_to(root.resolve()):
            del sys.modules[dotted]


def _import_name(name: str, text: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and text.startswith(exc.name):
            raise BadArgument(f"{text}: no such module (not a file either: a file's name ends in .py)") from None
        raise BadArgument(f"{text}: importing it failed: {_first_line(exc)}") from None
    except SyntaxError as exc:
        raise BadArgument(f"{exc.filename}:{exc.lineno}: {exc.msg}") from None
    except Exception as exc:
        raise BadArgument(f"{text}: importing it failed: {type(exc).__name__}: {_first_line(exc)}") from None


def parse_kwargs(text: str | None) -> dict[str, Any]:
    """``--kwargs`` as a JSON object of keyword arguments."""
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadArgument(f"--kwargs: not JSON ({exc.msg} at character {exc.pos}): {text[:60]!r}") from None
    if not isinstance(value, dict):
        raise BadArgument(f"--kwargs: must be a JSON object of keyword arguments, e.g. "
                          f"'{{\"num_classes\": 10}}', got {type(value).__name__}")
    return value


def build_model(factory: Any, name: str, kwargs: dict[str, Any]) -> nn.Module:
    """``factory(**kwargs)``, which must give an ``nn.Module``."""
    try:
        model = factory(**kwargs)
    except TypeError as exc:
        raise BadArgument(f"{name}(**kwargs): {_first_line(exc)}") from None
    except Exception as exc:
        raise BadArgument(f"{name}(...) failed: {type(exc).__name__}: {_first_line(exc)}") from None
    if not isinstance(model, nn.Module):
        raise BadArgument(f"{name}(...) returned {type(model).__name__}, not a torch.nn.Module")
    return model


# One sample's values at most (256 MiB of float32): a video clip of 3x64x224x224 fits, a typo does not.
MAX_SAMPLE_VALUES = 2**26


def parse_shape(text: str) -> tuple[int, ...]:
    """``"1,28,28"`` or ``"[1, 28, 28]"``: a sample's shape without the batch."""
    body = text.strip()
    if body.startswith("[") and body.endswith("]"):
        body = body[1:-1]
    parts = [p.strip() for p in body.split(",")]
    if parts and parts[-1] == "" and len(parts) > 1:
        parts.pop()  # "[8,]"
    sizes = []
    for part in parts:
        if not re.fullmatch(r"\d+", part) or int(part) < 1 or int(part) > 2**31:
            raise BadArgument(f"--input-shape {text!r}: sizes are whole numbers from 1, separated by "
                              "commas, without the batch (e.g. 1,28,28)")
        sizes.append(int(part))
    values = math.prod(sizes)
    if values > MAX_SAMPLE_VALUES:
        # the import runs the model on a batch of these: refused before anything is allocated
        raise BadArgument(f"--input-shape {text!r}: one sample of {values:,} values is more than Studio "
                          f"imports with (at most {MAX_SAMPLE_VALUES:,}, 2^26); is a size mistyped?")
    return tuple(sizes)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
