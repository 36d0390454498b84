"""The command line: one registration pattern, flags generated from the config dataclasses, clear errors."""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path

from spatial_ssrl.cli import COMMANDS, build_parser, main
from spatial_ssrl.cli._args import config_values
from spatial_ssrl.dataset.config import BuildConfig
from tests.fixtures.tasks import forget_task_module

CLI = Path(__file__).resolve().parents[2] / "src" / "spatial_ssrl" / "cli"


def test_every_command_module_is_registered_the_same_way():
    modules = {p.stem for p in CLI.glob("*.py") if not p.stem.startswith("_")}
    assert modules == {c.replace("-", "_") for c in COMMANDS}
    for name in modules:
        module = importlib.import_module(f"spatial_ssrl.cli.{name}")
        assert callable(module.add_parser) and callable(module.run), name
    subparsers = build_parser()._subparsers._group_actions[0].choices
    assert list(subparsers) == list(COMMANDS)


def test_generate_defaults_are_the_build_config_defaults(tmp_path):
    args = build_parser().parse_args(["generate", str(tmp_path)])
    from_cli = BuildConfig(out_dir=tmp_path, **config_values(args, args.config_fields))
    assert dataclasses.asdict(from_cli) == dataclasses.asdict(BuildConfig(out_dir=tmp_path))
    # every flag carries its field's help text
    flagged = [f for f in dataclasses.fields(BuildConfig) if "flag" in f.metadata]
    assert len(flagged) == len(args.config_fields) >= 10
    assert all(f.metadata.get("help") for f in dataclasses.fields(BuildConfig))


def test_generate_flags_reach_the_config(tmp_path):
    argv = ["generate", str(tmp_path), "--per-task", "3", "--mix", "flip=1,shuffle=2", "--tasks", "flip,shuffle"]
    args = build_parser().parse_args([*argv, "--splits", "train=0.5,test=0.5", "--format", "png", "--seed", "7"])
    values = config_values(args, args.config_fields)
    assert values["samples_per_task"] == 3 and values["task_mix"] == {"flip": 1.0, "shuffle": 2.0}
    assert values["tasks"] == ["flip", "shuffle"] and values["splits"] == {"train": 0.5, "test": 0.5}
    assert values["image_format"] == "png" and values["seed"] == 7


def test_user_errors_are_one_line_with_exit_code_2(tmp_path, capsys):
    assert main(["tasks", "--import", str(tmp_path / "missing.py")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --import") and "\n" not in err
    assert main(["tasks", "--import", "no_such_module_xyz"]) == 2
    assert "no module named" in capsys.readouterr().err
    assert main(["generate", str(tmp_path / "o"), "--bogus"]) == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err
    assert main(["generate", str(tmp_path / "o"), "--mix", "flip"]) == 2
    assert "name=weight" in capsys.readouterr().err
    assert main(["generate", str(tmp_path / "o"), "--inputs", "nope:x"]) == 2
    assert capsys.readouterr().err.startswith("error: unknown input kind")
    assert main(["export", str(tmp_path / "empty"), "verl", str(tmp_path / "x")]) == 2


def test_a_broken_task_module_is_reported_not_raised(tmp_path, capsys):
    bad = tmp_path / "bad_task.py"
    bad.write_text("raise RuntimeError('broken on purpose')\n")
    assert main(["tasks", "--import", str(bad)]) == 2
    assert "RuntimeError: broken on purpose" in capsys.readouterr().err


def test_tasks_lists_a_user_task_from_import(capsys):
    example = Path(__file__).resolve().parents[2] / "examples" / "rotation_task.py"
    try:
        assert main(["tasks", "--import", str(example)]) == 0
        out = capsys.readouterr().out
        assert "rotation" in out and "flip" in out
    finally:
        forget_task_module(example, "rotation")


def test_help_and_version_return_zero(capsys):
    assert main(["--version"]) == 0
    assert main(["train", "--help"]) == 0
    assert "ssrl train merge" in capsys.readouterr().out


def test_debug_shows_the_traceback(tmp_path):
    import pytest

    from spatial_ssrl.cli._args import CommandError

    with pytest.raises(CommandError):
        main(["--debug", "export", str(tmp_path / "empty"), "verl", str(tmp_path / "x")])


def test_preview_of_a_file_that_is_not_a_dataset_is_one_line(tmp_path, capsys):
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet at all")
    assert main(["preview", str(junk)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
    assert main(["preview", str(tmp_path / "missing")]) == 2
    assert main(["export", str(tmp_path), "verl", str(tmp_path / "x"), "--splits", "../x"]) == 2


def test_discovery_skips_reach_stats_json(tmp_path):
    import json

    from PIL import Image

    from tests.fixtures.images import textured_image

    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(textured_image(1, 160, 120)).save(photos / "a.png")
    (photos / "b.heic").write_bytes(b"\x00\x00\x00\x18ftypheic")  # a format the readers do not take
    out = tmp_path / "out"
    argv = ["generate", str(out), "--inputs", f"photos:{photos}", "--tasks", "flip", "--per-task", "1"]
    assert main(argv) == 0
    skips = json.loads((out / "stats.json").read_text())["discovery_skips"]
    assert skips == {"photos": {"unsupported format": 1}}


def test_a_bad_setting_is_reported_before_inputs_are_scanned(tmp_path, capsys):
    # the inputs do not exist: the settings error must come first
    assert main(["generate", str(tmp_path / "o"), "--total", "-5", "--inputs", f"photos:{tmp_path}/nope"]) == 2
    assert "total" in capsys.readouterr().err


def test_eval_of_an_unreadable_benchmark_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bench.tsv"
    bad.write_bytes(b"index\tquestion\n1\t\xff\xfe not utf-8\n")
    assert main(["eval", "--model", "x", "--bench", f"tsv:{bad}", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
    assert main(["eval", "--model", "x", "--bench", f"pretext:{tmp_path}:bogus", "--out", str(tmp_path / "r")]) == 2


def test_a_file_name_that_is_not_utf8_is_skipped_not_fatal(tmp_path):
    import json
    import os

    from PIL import Image

    from tests.fixtures.images import textured_image

    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(textured_image(1, 160, 120)).save(photos / "good.png")
    Image.fromarray(textured_image(2, 160, 120)).save(os.fsencode(photos) + b"/caf\xe9.png")
    out = tmp_path / "out"
    argv = ["generate", str(out), "--inputs", f"photos:{photos}", "--tasks", "flip", "--per-task", "1"]
    assert main([*argv, "--total", "2"]) == 0
    stats = json.loads((out / "stats.json").read_text())
    assert stats["discovery_skips"] == {"photos": {"file name is not UTF-8": 1}}
    assert stats["samples"] == 2
