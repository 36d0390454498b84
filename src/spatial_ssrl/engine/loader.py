"""Load a user's task module by name or file path (`--import MODULE_OR_FILE` on the command line).

A task module registers its tasks when imported (`register_task(...)` at module level), so loading it
is all a command needs to know the task. Files are imported under a stable module name derived from
their path, so loading the same file twice registers its tasks once.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType


class TaskImportError(ImportError):
    """A task module that cannot be found or fails while importing; the message says which and why."""


def file_module_name(path: str | Path) -> str:
    """The module name a task file is imported under: stable for a path, distinct for different files."""
    resolved = Path(path).resolve()
    digest = hashlib.blake2b(str(resolved).encode(), digest_size=6).hexdigest()
    return f"spatial_ssrl_user_{resolved.stem}_{digest}"


def import_task_module(spec: str) -> ModuleType:
    """Import `spec`, a dotted module name or a path to a `.py` file, and return the module.

    Raises:
        TaskImportError: the module or file does not exist, or importing it raised.
    """
    path = Path(spec)
    if spec.endswith(".py") or path.is_file():
        if not path.is_file():
            raise TaskImportError(f"--import {spec}: no such file")
        resolved = path.resolve()
        name = file_module_name(resolved)
        if name in sys.modules:
            return sys.modules[name]
        module_spec = importlib.util.spec_from_file_location(name, resolved)
        if module_spec is None or module_spec.loader is None:
            raise TaskImportError(f"--import {spec}: not a Python module")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        try:
            module_spec.loader.exec_module(module)
        except Exception as err:
            del sys.modules[name]
            raise TaskImportError(f"--import {spec}: {type(err).__name__}: {err}") from err
        return module
    try:
        return importlib.import_module(spec)
    except ModuleNotFoundError as err:
        if err.name and spec.startswith(err.name):
            raise TaskImportError(f"--import {spec}: no module named {err.name!r}") from err
        raise TaskImportError(f"--import {spec}: {err}") from err
    except Exception as err:
        raise TaskImportError(f"--import {spec}: {type(err).__name__}: {err}") from err


def import_task_modules(specs: list[str] | tuple[str, ...] | None) -> list[ModuleType]:
    """Import each of `specs` in order (see `import_task_module`)."""
    return [import_task_module(s) for s in specs or ()]
