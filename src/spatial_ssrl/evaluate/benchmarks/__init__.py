"""One module per benchmark: its official prompt, parser, scorer and breakdowns, under two protocols.

    from spatial_ssrl.evaluate.benchmarks import rules_for
    rules = rules_for("3DSRBench")          # the module's BenchmarkRules
    rules.score(item, response, ScoringContext(protocol="official"))

See `base.py` for the interface and docs/evaluation.md for the table of what each module follows.
"""

from __future__ import annotations

import importlib
import pkgutil

from spatial_ssrl.evaluate.benchmarks.base import (
    GENERIC_RULES,
    PROTOCOLS,
    BenchmarkRules,
    ItemScore,
    ScoringContext,
    UnknownProtocol,
    check_protocol,
    register_benchmark,
    registered_benchmarks,
    rules_for,
)

__all__ = [
    "GENERIC_RULES",
    "PROTOCOLS",
    "BenchmarkRules",
    "ItemScore",
    "ScoringContext",
    "UnknownProtocol",
    "check_protocol",
    "import_benchmark_modules",
    "register_benchmark",
    "registered_benchmarks",
    "rules_for",
]

_SHARED = {"base", "vlmevalkit"}  # modules that hold shared code, not a benchmark
_imported = False


def import_benchmark_modules() -> None:
    """Import every benchmark module of this folder once (each registers itself on import)."""
    global _imported
    if _imported:
        return
    _imported = True
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name not in _SHARED and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
