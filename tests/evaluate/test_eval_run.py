"""Evaluation runs: the tiny model end to end, batching, the predictions cache and resume, the CLI."""

from __future__ import annotations

import json

import pytest

from spatial_ssrl.evaluate.backends import TransformersBackend, plan_batches
from spatial_ssrl.evaluate.items import EvalItem
from spatial_ssrl.evaluate.load import load_benchmark
from spatial_ssrl.evaluate.runner import RunMismatch, evaluate, load_cache
from tests.fixtures.benchmarks import (
    write_tsv_fixture,
    write_viewspatial_fixture,
    write_vsibench_fixture,
    write_whatsup_fixture,
)

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # The tiny model's steps are microseconds of work: on a shared 2-core machine a second torch thread
    # only adds waiting. Restored afterwards.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from spatial_ssrl.train.tiny import build_tiny_model

    return {arch: build_tiny_model(tmp_path_factory.mktemp(arch), arch) for arch in ("qwen2_5_vl", "qwen3_vl")}


@pytest.fixture(scope="module")
def benches(tmp_path_factory):
    root = tmp_path_factory.mktemp("benches")
    return {
        "tsv": f"tsv:{write_tsv_fixture(root)}",
        "viewspatial": f"viewspatial:{write_viewspatial_fixture(root / 'vs')}",
        "whatsup": f"whatsup:{write_whatsup_fixture(root / 'wu')}",
        "vsibench": f"vsibench:{write_vsibench_fixture(root / 'vsi')}",
    }


class FakeBackend:
    """Answers every item with its reference letter/answer in boxed form; records what it was asked;
    raises on call number `fail_on` (an interruption)."""

    def __init__(self, batch_size=2, fail_on=None, model="fake"):
        self.batch_size, self.fail_on, self.model = batch_size, fail_on, model
        self.calls: list[list[str]] = []

    def describe(self):
        return {"backend": "fake", "model": self.model}

    def generate(self, items, mode="cot"):
        self.calls.append([it.id for it in items])
        if self.fail_on is not None and len(self.calls) == self.fail_on:
            raise KeyboardInterrupt("interrupted")
        return [f"<think>t</think> \\boxed{{{it.answer}}}" for it in items]


def test_tiny_model_end_to_end(tiny, benches, tmp_path):
    specs = [benches["tsv"], benches["viewspatial"], benches["whatsup"], benches["vsibench"]]
    loaded = [load_benchmark(s, num_frames=4) for s in specs]
    backend = TransformersBackend(str(tiny["qwen2_5_vl"]), device_map="cpu", batch_size=4, max_new_tokens=4)
    results = evaluate(loaded, backend, tmp_path / "run", mode="cot", progress=False)
    counts = {name: s["n"] for name, s in results["benchmarks"].items()}
    assert counts == {"tiny_bench": 8, "ViewSpatial": 6, "WhatsUp-controlled_images": 5, "VSI-Bench": 5}
    for bench in loaded:
        folder = tmp_path / "run" / bench.name
        lines = (folder / "predictions.jsonl").read_text().splitlines()
        assert sorted(json.loads(x)["id"] for x in lines) == sorted(it.id for it in bench.items)
        assert (folder / "results.json").exists() and (folder / "results.md").exists()
        assert len((folder / "scored.jsonl").read_text().splitlines()) == len(bench.items)
    md = (tmp_path / "run" / "results.md").read_text()
    assert "| tiny_bench | 8 |" in md and "object_rel_direction_easy" in md
    assert json.loads((tmp_path / "run" / "run.json").read_text())["mode"] == "cot"


def test_batched_equals_one_at_a_time(tiny, benches):
    """Left padding: a batch of prompts of different lengths decodes exactly as each prompt alone."""
    items = load_benchmark(benches["tsv"]).items
    for arch in ("qwen2_5_vl", "qwen3_vl"):
        backend = TransformersBackend(str(tiny[arch]), device_map="cpu", batch_size=8, max_new_tokens=6)
        batched = backend.generate(items, "direct")
        alone = [backend.generate([it], "direct")[0] for it in items]
        assert batched == alone, arch


def test_video_question_with_qwen3(tiny, benches, tmp_path):
    bench = load_benchmark(benches["vsibench"], num_frames=4)
    backend = TransformersBackend(str(tiny["qwen3_vl"]), device_map="cpu", batch_size=2, max_new_tokens=3)
    results = evaluate([bench], backend, tmp_path / "run", mode="direct", progress=False)
    assert results["benchmarks"]["VSI-Bench"]["n"] == 5


def test_bucketing_groups_equal_sizes(benches):
    items = load_benchmark(benches["tsv"]).items + load_benchmark(benches["whatsup"]).items
    batches = plan_batches(items, 4)
    assert sorted(it.id for b in batches for it in b) == sorted(it.id for it in items)
    # 7 single 64x48 images, 1 with two images, 5 of 72x54: no batch mixes sizes beyond one boundary.
    for batch in batches:
        keys = {(len(it.images), it.visual_sizes()) for it in batch}
        assert len(keys) <= 2
    assert sum(len({it.visual_sizes() for it in b}) == 1 for b in batches) >= len(batches) - 2


def test_resume_after_interruption(benches, tmp_path):
    bench = load_benchmark(benches["tsv"])  # 8 items
    first = FakeBackend(batch_size=3, fail_on=2)
    with pytest.raises(KeyboardInterrupt):
        evaluate([bench], first, tmp_path, progress=False)
    done = first.calls[0]
    cache = load_cache(tmp_path / "tiny_bench" / "predictions.jsonl")
    assert sorted(cache) == sorted(done) and len(done) == 3  # the first batch was kept
    second = FakeBackend(batch_size=3)
    results = evaluate([bench], second, tmp_path, progress=False)
    asked = [i for call in second.calls for i in call]
    assert sorted(asked) == sorted(set(it.id for it in bench.items) - set(done))  # only the rest
    assert results["benchmarks"]["tiny_bench"]["n"] == 8
    assert results["benchmarks"]["tiny_bench"]["score"] == 1.0  # the fake answers correctly
    third = FakeBackend()
    evaluate([bench], third, tmp_path, progress=False)
    assert third.calls == []  # a finished run only re-scores


def test_truncated_cache_line_is_dropped(benches, tmp_path):
    bench = load_benchmark(benches["tsv"])
    evaluate([bench], FakeBackend(batch_size=8), tmp_path, progress=False)
    path = tmp_path / "tiny_bench" / "predictions.jsonl"
    text = path.read_text()
    path.write_text(text[: len(text) - 10])  # a crash in the middle of the last line
    again = FakeBackend(batch_size=8)
    evaluate([bench], again, tmp_path, progress=False)
    assert len(again.calls) == 1 and len(again.calls[0]) == 1
    assert all(json.loads(line) for line in path.read_text().splitlines())


def test_mismatched_rerun_is_refused(benches, tmp_path):
    bench = load_benchmark(benches["tsv"], limit=2)
    evaluate([bench], FakeBackend(), tmp_path, mode="cot", progress=False)
    with pytest.raises(RunMismatch, match="mode='cot'"):
        evaluate([bench], FakeBackend(), tmp_path, mode="direct", progress=False)
    with pytest.raises(RunMismatch, match="model='fake'"):
        evaluate([bench], FakeBackend(model="other"), tmp_path, mode="cot", progress=False)


def test_pretext_benchmark_with_fake_answers(tmp_path):
    from spatial_ssrl.dataset.builder import BuildConfig, build
    from spatial_ssrl.sources.discover import synthetic

    config = BuildConfig(
        tmp_path / "ds", samples_per_task=1, splits={"train": 0.5, "validation": 0.5, "test": 0.0}, preview=False
    )
    build(config, synthetic(4, size=(160, 120)))
    bench = load_benchmark(f"pretext:{tmp_path / 'ds'}")
    results = evaluate([bench], FakeBackend(batch_size=4), tmp_path / "run", progress=False)
    summary = results["benchmarks"]["pretext-validation"]
    assert summary["n"] == len(bench.items) and summary["score"] == 1.0 and summary["format_rate"] == 1.0
    assert set(summary["by_category"]) == {it.category for it in bench.items}
    assert set(summary["by_subcategory"]) == {it.subcategory for it in bench.items}


def test_cli_eval_infer_compare(tiny, benches, tmp_path, capsys):
    from PIL import Image

    from spatial_ssrl.cli import main

    model = str(tiny["qwen2_5_vl"])
    common = ["--device", "cpu", "--max-new-tokens", "3", "--batch-size", "4", "--quiet"]
    assert main(["eval", "--model", model, "--bench", benches["tsv"], "--out", str(tmp_path / "a"), *common]) == 0
    args = ["eval", "--model", model, "--bench", benches["whatsup"], "--limit", "3", "--mode", "direct"]
    assert main([*args, "--out", str(tmp_path / "b"), *common]) == 0
    out = capsys.readouterr().out
    assert "tiny_bench" in out and "WhatsUp" in out
    assert (
        json.loads((tmp_path / "b" / "results.json").read_text())["benchmarks"]["WhatsUp-controlled_images"]["n"] == 3
    )

    Image.new("RGB", (64, 48), (200, 30, 30)).save(tmp_path / "red.png")
    infer = ["infer", "--model", model, "--image", str(tmp_path / "red.png"), "--question", "What colour is it?"]
    assert main([*infer, "--device", "cpu", "--max-new-tokens", "4", "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"response", "answer"}

    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "a"), "--names", "x,y"]) == 0
    assert "| x |" in capsys.readouterr().out


def test_direct_prompt_asks_for_a_letter():
    from spatial_ssrl.evaluate.prompts import build_message

    it = EvalItem(benchmark="t", id="0", question="Where?", options={"A": "left", "B": "right"}, images=[b"x"])
    content = build_message(it, "direct")["content"]
    assert content[0]["type"] == "image"
    assert (
        content[1]["text"] == "Where?\nOptions:\nA. left\nB. right\nReply with only the letter of the correct option."
    )
    cot = build_message(it, "cot")["content"][1]["text"]
    assert "<think>" in cot and "\\boxed{}" in cot
