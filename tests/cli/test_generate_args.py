"""`ssrl generate` refuses bad settings and a non-dataset output folder: one line on stderr, exit code 2."""

from __future__ import annotations

import pytest

from spatial_ssrl.cli import main

BAD_FLAGS = [
    (["--total", "-5"], "total (--total) must be >= 1"),
    (["--splits", "train=0"], "splits (--splits) needs at least one positive weight"),
    (["--splits", "train=-1,test=2"], "splits (--splits) needs a finite weight >= 0 for 'train'"),
    (["--splits", "train=1,dev=1"], "splits (--splits) names the unknown split 'dev'"),
    (["--mix", "shuffle=inf"], "task_mix (--mix) needs a finite weight >= 0 for 'shuffle'"),
    (["--mix", "shuffle=nan"], "task_mix (--mix) needs a finite weight >= 0 for 'shuffle'"),
    (["--per-task", "-1"], "samples_per_task (--per-task) must be >= 0"),
    (["--shard-size", "0"], "samples_per_shard (--shard-size) must be >= 1"),
    (["--workers", "0"], "workers (--workers) must be >= 1"),
    (["--max-side", "3"], "max_side (--max-side) must be >= 64"),
    (["--tasks", "flipp"], "tasks (--tasks): unknown task 'flipp'"),
    (["--shard-timeout", "-1"], "shard_timeout (--shard-timeout) must be a finite number of seconds > 0"),
    (
        ["--synthetic", "0", "--inputs", "bundled", "--total", "4", "--tasks", "depth_order"],
        "no source can serve task(s) ['depth_order']",
    ),
]


@pytest.mark.parametrize(("flags", "message"), BAD_FLAGS, ids=[" ".join(f) for f, _ in BAD_FLAGS])
def test_bad_flags_exit_2_with_one_line(tmp_path, capsys, flags, message):
    out = tmp_path / "o"
    assert main(["generate", str(out), "--synthetic", "1", *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {message}") and err.count("\n") == 1
    assert not out.exists()  # nothing was written


def test_generate_into_a_project_folder_is_refused(tmp_path, capsys, monkeypatch):
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "README.md").write_text("# my project\n")
    (project / "data").mkdir()
    (project / "data" / "train-00000.parquet").write_bytes(b"mine")
    monkeypatch.chdir(project)
    assert main(["generate", ".", "--synthetic", "1", "--per-task", "1", "--tasks", "flip"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not empty and holds no dataset build" in err
    assert "README.md" in err and "src/" in err and "empty or new folder" in err
    assert (project / "README.md").read_text() == "# my project\n"
    assert (project / "data" / "train-00000.parquet").read_bytes() == b"mine"
    assert sorted(p.name for p in project.iterdir()) == ["README.md", "data", "src"]
