"""A source that kills or hangs its worker is recorded as unreadable and the build finishes (workers >= 2).

Each build runs in a subprocess bounded by a timeout, so a build that hangs fails the test instead of
hanging it (the subprocess is killed, and its workers die with it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from spatial_ssrl.dataset.schema import read_rows, shard_paths

ROOT = Path(__file__).resolve().parents[2]
BUILD_DEADLINE = 120  # seconds; a healthy build here takes a few

# A user task (loaded with task_modules in every spawned worker) that misbehaves on one source.
TASK_MODULE = '''
import dataclasses
import os
import signal
import threading
from dataclasses import dataclass

import spatial_ssrl.tasks  # noqa: F401  (the built-in flip task)
from spatial_ssrl import Sample, register_task
from spatial_ssrl.engine.registry import get_task

FLIP = get_task("flip")


@dataclass
class Params:
    pass


@register_task("fragile", params=Params, variants=dict(FLIP.variants), answer_type=FLIP.answer_type)
def fragile(source, rng, params, variant):
    """Flip, except on the sources named below."""
    if source.id == {kill!r}:
        os.kill(os.getpid(), signal.SIGKILL)  # what the OOM killer does
    if source.id == {hang!r}:
        threading.Event().wait()  # never returns
    result = FLIP.fn(source, rng, FLIP.params_cls(), variant)
    return dataclasses.replace(result, task="fragile") if isinstance(result, Sample) else result
'''


def _build(out: Path, module: Path, **config) -> tuple[int, dict | None, str]:
    script = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from pathlib import Path\n"
        "from spatial_ssrl.engine.loader import import_task_modules\n"
        f"import_task_modules([{str(module)!r}])\n"
        "from spatial_ssrl.dataset.builder import BuildConfig, build\n"
        "from spatial_ssrl.sources.discover import synthetic\n"
        f"config = BuildConfig(Path({str(out)!r}), task_modules=[{str(module)!r}], **{config!r})\n"
        "stats = build(config, synthetic(6, (160, 120)))\n"
        "print(json.dumps(stats))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=BUILD_DEADLINE, cwd=ROOT
    )
    stats = json.loads(proc.stdout.splitlines()[-1]) if proc.returncode == 0 else None
    return proc.returncode, stats, proc.stderr


def _module(tmp_path: Path, kill: str = "", hang: str = "") -> Path:
    path = tmp_path / "fragile_task.py"
    path.write_text(TASK_MODULE.format(kill=kill, hang=hang))
    return path


CONFIG = dict(samples_per_task=2, tasks=["fragile", "flip"], workers=2, samples_per_shard=4, preview=False)


def test_a_source_that_kills_its_worker_is_recorded_and_the_build_finishes(tmp_path):
    bad = "synthetic/scene-000003"
    module = _module(tmp_path, kill=bad)
    code, stats, err = _build(tmp_path / "out", module, **CONFIG)
    assert code == 0, err
    assert stats["source_errors"] == {bad: "worker died (signal 9) while generating samples from this source"}
    assert f"({bad}); recording it as unreadable" in err
    # every other source gave all its samples, and the bad one none
    counts = Counter((r["source_id"], r["task"]) for r in read_rows(tmp_path / "out"))
    others = [f"synthetic/scene-{i:06d}" for i in range(6) if i != 3]
    assert counts == {(sid, task): 2 for sid in others for task in ("fragile", "flip")}
    # a rerun keeps everything (the shard's record already says the source is unreadable)
    first = {p.name: p.read_bytes() for p in shard_paths(tmp_path / "out")}
    code, again, err = _build(tmp_path / "out", module, **CONFIG)
    assert code == 0, err
    assert {p.name: p.read_bytes() for p in shard_paths(tmp_path / "out")} == first
    assert again["redone_shard_count"] == 0 and again["source_errors"] == stats["source_errors"]


def test_a_source_that_hangs_its_worker_times_out(tmp_path):
    bad = "synthetic/scene-000001"
    module = _module(tmp_path, hang=bad)
    code, stats, err = _build(tmp_path / "out", module, shard_timeout=8.0, **CONFIG)
    assert code == 0, err
    (reason,) = stats["source_errors"].values()
    assert list(stats["source_errors"]) == [bad]
    assert reason.startswith("worker timed out after") and reason.endswith("while generating samples from this source")
    assert stats["per_task"] == {"flip": 10, "fragile": 10}
