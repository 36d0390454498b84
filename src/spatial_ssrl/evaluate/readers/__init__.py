"""Readers of benchmark file layouts. `evaluate.load.load_benchmark(spec)` picks one for a `--bench` spec."""

from __future__ import annotations

from spatial_ssrl.evaluate.readers.common import read_records
from spatial_ssrl.evaluate.readers.pretext import read_pretext
from spatial_ssrl.evaluate.readers.viewspatial import read_viewspatial
from spatial_ssrl.evaluate.readers.vlmevalkit_tsv import read_tsv
from spatial_ssrl.evaluate.readers.vsibench import read_vsibench
from spatial_ssrl.evaluate.readers.whatsup import read_whatsup

__all__ = [
    "read_pretext",
    "read_records",
    "read_tsv",
    "read_viewspatial",
    "read_vsibench",
    "read_whatsup",
]
