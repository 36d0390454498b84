"""spatial-ssrl: verifiable self-supervised spatial tasks for vision-language models.

The names below load on first use (PEP 562), so importing a light part of the package (a reward
adapter in a verl or EasyR1 worker, the contract) does not load numpy, PIL or any task. Using a task
name here (`get_task`, `list_tasks`, `run_task`) registers the five built-in tasks first.

Layers, lowest first (a layer imports only the ones before it; see docs/add_a_task.md and
tests/test_layers.py): contract; engine, rewards; tasks, sources; dataset; export, evaluate; train;
demo; cli.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_ENGINE_NAMES = {
    "Rejection": "spatial_ssrl.engine.sample",
    "Sample": "spatial_ssrl.engine.sample",
    "Source": "spatial_ssrl.engine.sample",
    "SourceError": "spatial_ssrl.engine.sample",
    "TaskSpec": "spatial_ssrl.engine.registry",
    "register_task": "spatial_ssrl.engine.registry",
    "unregister_task": "spatial_ssrl.engine.registry",
    "derive_rng": "spatial_ssrl.engine.rng",
}
_TASK_NAMES = {"get_task", "list_tasks", "run_task"}

__all__ = sorted([*_ENGINE_NAMES, *_TASK_NAMES, "__version__"])


def __getattr__(name: str) -> Any:
    if name in _TASK_NAMES:
        importlib.import_module("spatial_ssrl.tasks")  # registers the built-in tasks
        value = getattr(importlib.import_module("spatial_ssrl.engine.registry"), name)
    elif name in _ENGINE_NAMES:
        value = getattr(importlib.import_module(_ENGINE_NAMES[name]), name)
    else:
        raise AttributeError(f"module 'spatial_ssrl' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
