"""docs/add_a_task.md runs as written: its Python blocks in one namespace, then its shell commands in a scratch
folder (the rotation task goes through generate -> coldstart -> export -> train sft via `--import`); the Python
blocks are the example file's own code, so the page and examples/rotation_task.py cannot drift apart."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from spatial_ssrl.engine.registry import unregister_task
from tests.fixtures.tasks import forget_task_module

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "add_a_task.md"
EXAMPLE = ROOT / "examples" / "rotation_task.py"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", PAGE.read_text(), flags=re.S)


def shell_commands(text: str) -> list[list[str]]:
    """One argv per command; a trailing backslash continues a line."""
    return [shlex.split(line) for line in text.replace("\\\n", " ").splitlines() if line.strip()]


def test_python_blocks_are_the_example_code_and_run():
    example = EXAMPLE.read_text()
    python = blocks("python")
    assert len(python) >= 5
    for block in python[:4]:  # parameters, function, template, registration: verbatim from the example
        assert block.strip() in example, block[:80]
    module = types.ModuleType("add_a_task_doc")  # dataclasses look their module up in sys.modules
    sys.modules[module.__name__] = module
    try:
        for block in python:
            exec(compile(block, str(PAGE), "exec"), module.__dict__)  # noqa: S102  (the page's own code)
    finally:
        unregister_task("rotation")
        del sys.modules[module.__name__]


@pytest.mark.slow
def test_shell_blocks_run_the_user_task_end_to_end(tmp_path):
    (tmp_path / "examples").mkdir()
    shutil.copy(EXAMPLE, tmp_path / "examples" / "rotation_task.py")
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "HF_HUB_OFFLINE": "1"}
    commands = [argv for block in blocks("bash") for argv in shell_commands(block)]
    assert [argv[:2] for argv in commands] == [
        ["ssrl", "tasks"],
        ["ssrl", "generate"],
        ["ssrl", "coldstart"],
        ["ssrl", "export"],
        ["ssrl", "tiny-model"],
        ["ssrl", "train"],
    ]
    outputs = []
    for argv in commands:
        done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, (argv, done.stderr[-2000:])
        outputs.append(done.stdout)
    assert "rotation" in outputs[0] and "choice" in outputs[0]
    out = tmp_path / "out"
    stats = json.loads((out / "rot" / "stats.json").read_text())
    assert stats["per_task"]["rotation"] > 0 and stats["per_task"]["flip"] > 0
    summary = json.loads(outputs[2])
    assert summary["per_task"]["rotation"] > 0 and summary["skipped_no_template"] == {}
    easyr1 = pq.read_table(out / "rot-easyr1" / "train.parquet").to_pylist()
    assert any(r["answer"] in "ABC" and "rotated" in r["problem"] for r in easyr1)
    assert (out / "rot-sft" / "model.safetensors").exists()
    records = [json.loads(line) for line in (out / "rot-sft" / "metrics.jsonl").read_text().splitlines()]
    assert max(r["step"] for r in records) == 2


def test_a_task_without_a_template_is_skipped_by_cold_start_with_a_count(tmp_path):
    """The same user task registered without `coldstart=`: cold start writes the other tasks and counts it."""
    from spatial_ssrl.dataset.builder import BuildConfig, build
    from spatial_ssrl.engine.loader import import_task_module
    from spatial_ssrl.engine.registry import get_task, register_task
    from spatial_ssrl.export.coldstart import write_coldstart
    from spatial_ssrl.sources.discover import synthetic

    import_task_module(str(EXAMPLE))
    try:
        spec = get_task("rotation")
        unregister_task("rotation")
        register_task("rotation", spec.fn, params=spec.params_cls, variants=spec.variants, answer_type="choice")
        assert get_task("rotation").coldstart is None
        build(BuildConfig(tmp_path / "d", samples_per_task=2, tasks=["rotation", "flip"], preview=False), synthetic(2))
        summary = write_coldstart(tmp_path / "d", tmp_path / "c", fraction=1.0)
        assert summary["skipped_no_template"]["rotation"] > 0
        assert set(summary["per_task"]) == {"flip"}
    finally:
        forget_task_module(EXAMPLE, "rotation")
