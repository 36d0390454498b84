"""spatial-ssrl: verifiable self-supervised spatial tasks for vision-language models."""

from spatial_ssrl.registry import TaskSpec, get_task, list_tasks, register_task, run_task
from spatial_ssrl.rng import derive_rng
from spatial_ssrl.sample import Rejection, Sample, Source

__version__ = "0.1.0"

# Importing the package registers the five built-in tasks through the public mechanism.
from spatial_ssrl import tasks as _builtin_tasks  # noqa: E402,F401

__all__ = [
    "Rejection",
    "Sample",
    "Source",
    "TaskSpec",
    "derive_rng",
    "get_task",
    "list_tasks",
    "register_task",
    "run_task",
    "__version__",
]
