"""The predictions cache and the output folder under hostile or mismatched input: unreadable lines,
conflicting duplicates, changed generation settings, model paths, and names that would leave --out.

No model is loaded: backends here answer from the items (`FakeBackend`), or are the real
TransformersBackend with only `generate` replaced (its settings are what is under test).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spatial_ssrl.dataset.paths import UnsafePath
from spatial_ssrl.evaluate import runner
from spatial_ssrl.evaluate.backends import OpenAIBackend, TransformersBackend
from spatial_ssrl.evaluate.load import load_benchmark
from spatial_ssrl.evaluate.runner import RunMismatch, bench_dir, evaluate, read_cache
from tests.fixtures.benchmarks import write_tsv_fixture


def _answer(item) -> str:
    return f"<think>t</think> \\boxed{{{item.answer}}}"


class FakeBackend:
    """Answers every item correctly; records which ids it was asked for."""

    def __init__(self, batch_size: int = 8, model: str = "fake", **settings) -> None:
        self.batch_size, self.model, self.settings = batch_size, model, settings
        self.asked: list[str] = []

    def describe(self) -> dict:
        return {"backend": "fake", "model": self.model, **self.settings}

    def generate(self, items, mode="cot"):
        self.asked += [it.id for it in items]
        return [_answer(it) for it in items]


class OfflineTransformers(TransformersBackend):
    """The real backend's settings and describe(); generation answers from the items (no model)."""

    def generate(self, items, mode="cot"):
        return [_answer(it) for it in items]


@pytest.fixture
def bench(tmp_path):
    return load_benchmark(f"tsv:{write_tsv_fixture(tmp_path / 'benches')}")  # 8 items, named tiny_bench


def _files(root: Path) -> set[Path]:
    return set(root.rglob("*"))


# ---------------------------------------------------------------------------- reading the cache


def test_invalid_utf8_line_is_skipped_counted_and_regenerated(bench, tmp_path):
    out = tmp_path / "run"
    evaluate([bench], FakeBackend(), out, progress=False)
    path = out / "tiny_bench" / "predictions.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    victim = json.loads(lines[3])["id"]
    lines[3] = b'{"id": "' + victim.encode() + b'", "response": "\xff\xfe broken"}\n'
    path.write_bytes(b"".join(lines))

    again = FakeBackend()
    with pytest.warns(UserWarning, match="skipped 1 unusable line"):
        results = evaluate([bench], again, out, progress=False)
    assert again.asked == [victim]  # only the unreadable item is generated again
    summary = results["benchmarks"]["tiny_bench"]
    assert summary["cache_bad_lines"] == 1 and summary["score"] == 1.0 and summary["missing"] == 0


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(b"not json at all\n", id="not_json"),
        pytest.param(b'["a list"]\n', id="not_an_object"),
        pytest.param(b'{"id": "0"}\n', id="no_response"),
        pytest.param(b'{"id": "0", "response": 7}\n', id="response_not_text"),
        pytest.param(b'{"id": null, "response": "x"}\n', id="id_not_text"),
        pytest.param(b"\x00\x01\x02\n", id="binary"),
    ],
)
def test_unusable_lines_are_counted_not_fatal(tmp_path, bad):
    path = tmp_path / "predictions.jsonl"
    path.write_bytes(b'{"id": "1", "response": "ok"}\n' + bad + b'{"id": "2", "response": "fine"}\n')
    cache = read_cache(path)
    assert cache.predictions == {"1": "ok", "2": "fine"} and cache.bad_lines == 1


def test_overlong_line_is_skipped_without_reading_it_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "MAX_PREDICTION_LINE_BYTES", 64)
    monkeypatch.setattr(runner, "_READ_CHUNK", 16)
    path = tmp_path / "predictions.jsonl"
    huge = json.dumps({"id": "big", "response": "x" * 1000}).encode()
    path.write_bytes(b'{"id": "1", "response": "ok"}\n' + huge + b'\n{"id": "2", "response": "fine"}\n')
    cache = read_cache(path)
    assert cache.predictions == {"1": "ok", "2": "fine"} and cache.bad_lines == 1


def test_conflicting_duplicate_id_is_refused_naming_it(bench, tmp_path):
    out = tmp_path / "run"
    evaluate([bench], FakeBackend(), out, progress=False)
    path = out / "tiny_bench" / "predictions.jsonl"
    first = json.loads(path.read_text().splitlines()[0])
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(first) + "\n")  # the same response again: one answer, accepted
    evaluate([bench], FakeBackend(), out, progress=False)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": first["id"], "response": "\\boxed{Z}"}) + "\n")
    with pytest.raises(RunMismatch, match=f"item '{first['id']}' different responses") as info:
        evaluate([bench], FakeBackend(), out, progress=False)
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------------------- run settings


def _transformers(model: str, **kw) -> OfflineTransformers:
    return OfflineTransformers(model, device_map="cpu", **kw)


@pytest.mark.parametrize(
    "change, setting",
    [
        pytest.param({"max_new_tokens": 8}, "max_new_tokens=4, not 8", id="max_new_tokens"),
        pytest.param({"do_sample": True, "temperature": 0.7}, "do_sample=False, not True", id="sampling"),
        pytest.param({"max_pixels": 50_000}, "max_pixels=None, not 50000", id="max_pixels"),
        pytest.param({"dtype": "float16"}, "dtype='auto', not 'float16'", id="dtype"),
        pytest.param({"generation_kwargs": {"repetition_penalty": 1.1}}, "generation_kwargs={}", id="kwargs"),
    ],
)
def test_a_different_generation_setting_is_refused(bench, tmp_path, change, setting):
    model = tmp_path / "ckpt"
    model.mkdir()
    out = tmp_path / "run"
    evaluate([bench], _transformers(str(model), max_new_tokens=4), out, progress=False)
    with pytest.raises(RunMismatch, match=setting):
        evaluate([bench], _transformers(str(model), **{"max_new_tokens": 4, **change}), out, progress=False)


def test_temperature_of_a_sampling_run_and_openai_settings_are_recorded(tmp_path):
    sampled = [_transformers("hub/model", do_sample=True, temperature=t).describe() for t in (0.7, 1.0)]
    assert sampled[0] != sampled[1]
    greedy = [_transformers("hub/model", temperature=t).describe() for t in (0.7, 1.0)]
    assert greedy[0] == greedy[1]  # greedy decoding ignores the temperature: not a different run
    served = [
        OpenAIBackend("http://x/v1", "m", temperature=t, extra_body=body).describe()
        for t, body in ((0.0, None), (0.5, None), (0.0, {"top_p": 0.9}))
    ]
    assert len({json.dumps(d, sort_keys=True) for d in served}) == 3
    assert all("api_key" not in d for d in served)


def test_a_model_folder_is_one_model_however_it_is_written(bench, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ckpt").mkdir()
    out = tmp_path / "run"
    evaluate([bench], _transformers("ckpt"), out, progress=False)
    for spelling in ("ckpt/", "./ckpt", str(tmp_path / "ckpt") + "/"):
        evaluate([bench], _transformers(spelling), out, progress=False)  # not "a different model"
    assert json.loads((out / "run.json").read_text())["model"] == str((tmp_path / "ckpt").resolve())
    with pytest.raises(RunMismatch, match="model="):
        evaluate([bench], _transformers("Org/ckpt"), out, progress=False)  # a hub id, as given


def test_unreadable_run_record_is_a_typed_error(bench, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "run.json").write_bytes(b"\xff{not json")
    with pytest.raises(RunMismatch, match="not a run record"):
        evaluate([bench], FakeBackend(), out, progress=False)


def test_unreadable_results_record_is_rebuilt(bench, tmp_path):
    out = tmp_path / "run"
    evaluate([bench], FakeBackend(), out, progress=False)
    (out / "results.json").write_text("[1, 2")
    with pytest.warns(UserWarning, match="not a results record"):
        results = evaluate([bench], FakeBackend(), out, progress=False)
    assert results["benchmarks"]["tiny_bench"]["n"] == 8


# ---------------------------------------------------------------------------- paths stay under --out


NAMES = ["..", "../x", "/abs", "../../escaped", ".", "a/../../b", "", "\x00", "CON", "x" * 300]


def test_benchmark_names_never_leave_the_output_folder(bench, tmp_path):
    """Every name (from a spec's `:name` or a file's stem) becomes one folder directly under --out."""
    for k, name in enumerate(NAMES):
        bench.name = name
        out = tmp_path / f"case{k}" / "run"
        before = _files(tmp_path)
        results = evaluate([bench], FakeBackend(), out, progress=False)
        assert results["benchmarks"][name]["n"] == 8
        written = _files(tmp_path) - before
        assert all(out in p.parents or p == out or p in out.parents for p in written), (name, written)
        folders = [p for p in out.iterdir() if p.is_dir()]
        assert len(folders) == 1 and (folders[0] / "predictions.jsonl").is_file(), name


def test_a_tsv_named_dot_dot_stays_inside(tmp_path):
    tsv = write_tsv_fixture(tmp_path / "benches", name="...tsv")
    bench = load_benchmark(f"tsv:{tsv}")
    assert bench.name == ".."  # the file's stem
    out = tmp_path / "benches" / "run"
    evaluate([bench], FakeBackend(), out, progress=False)
    assert sorted(p.name for p in (tmp_path / "benches").iterdir()) == ["...tsv", "run"]


def test_distinct_names_get_distinct_folders(tmp_path):
    names = ["..", "_", "a b", "a_b", "a/b", "a\\b", "A", "x" * 300, "x" * 301]
    assert len({bench_dir(tmp_path, n) for n in names}) == len(names)


def test_a_symlink_out_of_the_folder_is_refused(bench, tmp_path):
    out = tmp_path / "run"
    outside = tmp_path / "outside"
    outside.mkdir()
    out.mkdir()
    (out / "tiny_bench").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafePath, match="outside"):
        evaluate([bench], FakeBackend(), out, progress=False)
    assert list(outside.iterdir()) == []


# ---------------------------------------------------------------------------- the command line


def test_cli_reports_typed_errors_in_one_line(bench, tmp_path, capsys):
    from spatial_ssrl.cli import main

    tsv = write_tsv_fixture(tmp_path / "cli")
    out = tmp_path / "cli" / "run"
    evaluate([load_benchmark(f"tsv:{tsv}")], FakeBackend(model="other"), out, progress=False)
    server = ["--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--served-model", "m", "--quiet"]
    assert main(["eval", "--bench", f"tsv:{tsv}", "--out", str(out), *server]) == 2  # RunMismatch
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "model='other'" in err and err.count("\n") == 1

    broken = tmp_path / "cli" / "broken.tsv"
    broken.write_text("index\tquestion\n0\tq\n")
    assert main(["eval", "--bench", f"tsv:{broken}", "--out", str(tmp_path / "b"), *server]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "missing column" in err and err.count("\n") == 1

    assert main(["eval", "--bench", str(tmp_path / "absent.tsv"), "--out", str(tmp_path / "c"), *server]) == 2
    assert capsys.readouterr().err.startswith("error: ")


# ---------------------------------------------------------------------------- names, keys, protocols


def test_two_files_under_one_name_never_share_answers(tmp_path):
    """Subset B under subset A's name: its items have A's ids but other questions, so A's cached
    answers must not be scored against them (What'sUp A/B used to share the default name)."""
    from tests.fixtures.benchmarks import tsv_rows, write_tsv

    a = load_benchmark(f"tsv:{write_tsv_fixture(tmp_path / 'a')}:Subset")
    rows = tsv_rows()
    for row in rows:
        row["question"] = "Another question? " + row["question"]
    (tmp_path / "b").mkdir()
    b = load_benchmark(f"tsv:{write_tsv(tmp_path / 'b' / 'tiny_bench.tsv', rows)}:Subset")
    out = tmp_path / "run"
    evaluate([a], FakeBackend(), out, progress=False)
    with pytest.raises(RunMismatch, match="made for another question"):
        evaluate([b], FakeBackend(), out, progress=False)
    with pytest.raises(RunMismatch, match="two benchmarks are named 'Subset'"):
        evaluate([a, b], FakeBackend(), tmp_path / "run2", progress=False)


def test_limit_then_full_run_reuses_the_keyed_cache(tmp_path):
    path = write_tsv_fixture(tmp_path / "benches")
    out, first = tmp_path / "run", FakeBackend()
    evaluate([load_benchmark(f"tsv:{path}", limit=3)], first, out, progress=False)
    second = FakeBackend()
    evaluate([load_benchmark(f"tsv:{path}")], second, out, progress=False)
    assert len(first.asked) == 3 and len(second.asked) == 5  # the first three were answered from the cache
    lines = [json.loads(x) for x in (bench_dir(out, "tiny_bench") / "predictions.jsonl").read_text().splitlines()]
    assert all(len(line["key"]) == 16 for line in lines)


def test_protocol_and_template_are_part_of_the_run(bench, tmp_path):
    out = tmp_path / "run"
    evaluate([bench], FakeBackend(), out, progress=False)
    recorded = json.loads((out / "run.json").read_text())
    assert recorded["protocol"] == "official" and recorded["prompt_template"] == "default"
    with pytest.raises(ValueError, match="use --mode cot"):
        evaluate([bench], FakeBackend(), tmp_path / "direct", progress=False, protocol="paper", mode="direct")
    with pytest.raises(RunMismatch, match="protocol='official', not 'paper'"):
        evaluate([bench], FakeBackend(), out, progress=False, protocol="paper")
    template = tmp_path / "mine.txt"
    template.write_text("Q: {question}\nAnswer: {answer_hint}")
    evaluate([bench], FakeBackend(), tmp_path / "run3", progress=False, prompt_template=str(template))
    assert json.loads((tmp_path / "run3" / "run.json").read_text())["prompt_template"].startswith("file:")
    assert (
        bench.items[0].prompt.startswith("Q: ") and "\nAnswer: The final answer is the letter" in bench.items[0].prompt
    )
    results = json.loads((tmp_path / "run3" / "results.json").read_text())
    assert results["benchmarks"]["tiny_bench"]["judge"] == {"used": False, "calls": 0}


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "not one of project, spatial-ssrl, harness and not a file"), ("no placeholder", "must contain {question}")],
)
def test_bad_prompt_template_is_refused_before_generating(bench, tmp_path, content, message):
    from spatial_ssrl.evaluate.prompts import PromptTemplateError

    name = "nope"
    if content is not None:
        name = str(tmp_path / "t.txt")
        Path(name).write_text(content)
    backend = FakeBackend()
    with pytest.raises(PromptTemplateError, match=message):
        evaluate([bench], backend, tmp_path / "run", progress=False, prompt_template=name)
    assert backend.asked == [] and not (tmp_path / "run").exists()


def test_released_checkpoint_prompt_is_appended_verbatim(bench, tmp_path):
    from spatial_ssrl.contract import RELEASED_CHECKPOINT_FORMAT_PROMPT
    from spatial_ssrl.evaluate.benchmarks import rules_for

    evaluate([bench], FakeBackend(), tmp_path / "run", progress=False, protocol="paper")
    item = bench.items[0]
    assert item.prompt == rules_for(bench.name).question(item, "paper") + RELEASED_CHECKPOINT_FORMAT_PROMPT
    assert item.prompt.endswith(
        "\n You FIRST think about the reasoning process as an internal monologue and then "
        "provide the final answer. The reasoning process MUST BE enclosed within <think> "
        "</think> tags. The final answer MUST BE put in \\boxed{}."
    )


def test_module_benchmarks_are_asked_as_their_harness_asks(tmp_path):
    """Without --prompt-template a benchmark module's question is sent as it is (official), or with the
    authors' reasoning sentence where their script puts it (paper); --prompt-template overrides both."""
    from spatial_ssrl.contract import RELEASED_REASONING_SENTENCE
    from spatial_ssrl.evaluate.benchmarks import rules_for
    from spatial_ssrl.evaluate.runner import prepare_benchmark

    bench = load_benchmark(f"tsv:{write_tsv_fixture(tmp_path)}:3DSRBench")
    rules = rules_for(bench.name)
    assert rules.name == "3DSRBench"
    bench, _ = prepare_benchmark(bench, "cot", "official", None)
    item = bench.items[0]
    assert item.prompt == rules.question(item, "official")
    assert item.prompt.endswith("Please select the correct answer from the options above. \n") or not item.options
    bench, _ = prepare_benchmark(bench, "cot", "paper", None)
    assert item.prompt == rules.question(item, "paper") + RELEASED_REASONING_SENTENCE  # appended directly
    bench, _ = prepare_benchmark(bench, "cot", "official", "project")
    assert item.prompt.endswith("inside \\boxed{}.")


def test_mmbench_test_without_answers_writes_the_submission(tmp_path):
    """MMBench TEST has no `answer` column: it is run for inference only (no score) and the official
    submission file is written next to the predictions."""
    import csv as _csv

    from tests.fixtures.benchmarks import write_tsv
    from tests.fixtures.vlmevalkit_files import mcq_row

    rows = [mcq_row(i, f"Question {i}?", {"A": "red", "B": "blue"}, "A", seed=i) for i in range(3)]
    columns = ["index", "image", "question", "A", "B", "category", "l2-category"]
    path = write_tsv(tmp_path / "MMBench_TEST_EN_V11.tsv", rows, columns)
    bench = load_benchmark(f"tsv:{path}")
    results = evaluate([bench], FakeBackend(), tmp_path / "run", progress=False)
    summary = results["benchmarks"]["MMBench_TEST_EN_V11"]
    assert summary["score"] is None and summary["rules"] == "MMBench"
    (submission,) = summary["files"]
    with open(submission, newline="", encoding="utf-8") as fh:
        table = list(_csv.DictReader(fh, delimiter="\t"))
    assert [r["index"] for r in table] == ["0", "1", "2"] and all("prediction" in r for r in table)
    assert "image" not in table[0]
