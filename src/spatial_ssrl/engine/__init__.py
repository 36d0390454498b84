"""The task engine: value types (Source in, Sample or Rejection out), the task registry, per-sample random
streams, and loading of user task modules. Depends on numpy and the contract, never on a task.

Names load on first use, so `spatial_ssrl.engine.loader` (the command line's `--import`) does not pull in
numpy.
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {
    "FrameSequence": "sample",
    "Rejection": "sample",
    "Sample": "sample",
    "Source": "sample",
    "SourceError": "sample",
    "TaskDefinitionError": "registry",
    "TaskSpec": "registry",
    "default_mix": "registry",
    "get_task": "registry",
    "list_tasks": "registry",
    "register_task": "registry",
    "run_task": "registry",
    "unregister_task": "registry",
    "derive_rng": "rng",
    "TaskImportError": "loader",
    "import_task_module": "loader",
    "import_task_modules": "loader",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module 'spatial_ssrl.engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"spatial_ssrl.engine.{_NAMES[name]}"), name)
    globals()[name] = value
    return value
