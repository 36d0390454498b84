"""The learning study's --quick mode end to end: every stage through the real commands, and tables that
agree with the predictions `ssrl eval` scored, intervals computed right, chance levels right for every task
and variant, the control matched to GRPO's forward/backward passes, the transfer comparison recomputed from its
predictions and its few-shot prompts equal to what `ssrl eval` shows, and a resumed study that redoes nothing."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from spatial_ssrl.evaluate.summary import wilson_interval
from studies.common import StudyError, newcombe_difference
from studies.learning import MODELS, SFT_BATCH, StudySettings, run_study, scored_items
from studies.transfer import TRANSFER_BENCH, fewshot_parquet, response, scored
from tests.evaluate.test_eval_chance import answer_space

pytest.importorskip("trl")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    return out, run_study(out, [0], StudySettings.quick())


def test_tables_are_recomputed_from_the_scored_predictions(study):
    out, res = study
    seed = res["seeds"]["0"]
    for model in MODELS:
        items = scored_items(out, 0, model)
        by_task = defaultdict(list)
        for r in items:
            by_task[r["category"]].append(r["score"])
        by_task["all"] = [r["score"] for r in items]
        table = seed["models"][model]
        assert set(table) == set(by_task)
        for task, scores in by_task.items():
            k, n = int(sum(scores)), len(scores)
            assert (table[task]["correct"], table[task]["n"]) == (k, n)
            assert table[task]["ci95"] == pytest.approx(list(wilson_interval(k, n)))
            assert table[task]["above"] == (table[task]["ci95"][0] > table[task]["chance"])
            gold = [r["answer"] for r in items if task == "all" or r["category"] == task]
            assert table[task]["best_constant"] == max(gold.count(a) for a in gold) / n
            fmt = [r["format"] for r in items if task == "all" or r["category"] == task]
            assert table[task]["format"] == pytest.approx(sum(fmt) / n)
        # ssrl eval's own summary gives the same accuracy and interval per task
        evaluated = json.loads((out / "seed-0" / "eval" / model / "results.json").read_text())
        bench = evaluated["benchmarks"]["pretext-test"]
        for task, block in bench["by_category"].items():
            assert block["ci95"] == pytest.approx(table[task]["ci95"])
            assert block["chance"] == pytest.approx(table[task]["chance"])


def test_chance_levels_match_each_items_answer_space(study):
    out, _ = study
    from spatial_ssrl.dataset.schema import read_rows

    variants = {r["id"]: r["variant"] for r in read_rows(out / "seed-0" / "data", "test")}
    answers = {r["id"]: r["answer"] for r in read_rows(out / "seed-0" / "data", "test")}
    for r in scored_items(out, 0, "sft"):
        n_labels = len(answers[r["id"]].split("-"))
        assert r["chance"] == pytest.approx(1 / answer_space(r["category"], variants[r["id"]], n_labels)), r


def test_grpo_versus_control_is_compute_matched_and_its_interval_right(study):
    out, res = study
    stages = res["seeds"]["0"]["stages"]
    s = StudySettings.quick()
    # GRPO trains on 2 prompts x num_generations completions per step; the control on SFT_BATCH rows per step
    sequences = stages["grpo"]["steps"] * 2 * s.num_generations
    assert stages["control"]["steps"] == stages["control"]["settings"]["steps"] == max(1, round(sequences / SFT_BATCH))
    assert stages["control"]["matched_sequences"] == stages["control"]["steps"] * SFT_BATCH
    for task, d in res["seeds"]["0"]["grpo_vs_control"].items():
        g, c = res["seeds"]["0"]["models"]["grpo"][task], res["seeds"]["0"]["models"]["control"][task]
        assert d["difference"] == pytest.approx(g["accuracy"] - c["accuracy"])
        assert d["ci95"] == pytest.approx(list(newcombe_difference(g["correct"], g["n"], c["correct"], c["n"])))
        assert d["ci95"][0] <= d["difference"] <= d["ci95"][1]
    assert (out / "tables.md").read_text().count("| all |") == 5  # accuracy, answers, GRPO vs control, transfer x2
    for figure in ("accuracy_vs_chance.png", "curves.png"):
        assert (out / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_answer_diagnosis_counts_the_predictions(study):
    out, res = study
    for model in MODELS:
        items = scored_items(out, 0, model)
        top = res["seeds"]["0"]["models"][model]["all"]["top_prediction"]
        preds = [r.get("pred") for r in items]
        assert top["share"] == pytest.approx(preds.count(top["answer"]) / len(preds))
        assert top["distinct"] == len(set(preds))


def test_newcombe_difference_reference_value():
    # Newcombe (1998), Table II, example (e): 56/70 vs 48/80 -> difference 0.2, method 10 interval 0.0524 to 0.3339.
    assert newcombe_difference(56, 70, 48, 80) == pytest.approx((0.0524, 0.3339), abs=1e-4)


def test_a_resumed_study_redoes_nothing_and_refuses_other_settings(study):
    out, _ = study
    before = {p: p.read_text() for p in out.glob("seed-0/*/stage.json")}
    run_study(out, [0], StudySettings.quick())
    assert {p: p.read_text() for p in out.glob("seed-0/*/stage.json")} == before
    with pytest.raises(StudyError, match="other settings"):
        run_study(out, [0], StudySettings.quick().__class__(**{**StudySettings.quick().__dict__, "sft_epochs": 2.0}))


def test_transfer_tables_are_recomputed_from_its_predictions(study):
    out, res = study
    t = res["seeds"]["0"]["transfer"]
    assert set(t["models"]) == {"scratch-fewshot", "pretext-fewshot", "pretext-zero-shot"}
    for name, table in t["models"].items():
        items = [
            json.loads(x)
            for x in (out / "seed-0" / "transfer" / "eval" / name / TRANSFER_BENCH / "scored.jsonl")
            .read_text()
            .splitlines()
        ]
        assert items and len(items) == table["all"]["n"]
        assert table["all"]["correct"] == sum(r["score"] for r in items)
        assert table["all"]["chance"] == pytest.approx(0.5)  # two options, A or B
        assert table["all"]["ci95"] == pytest.approx(list(wilson_interval(table["all"]["correct"], len(items))))
        assert scored(out / "seed-0", name) == [{**r, "chance": r.get("chance", 0.5)} for r in items]
        assert t["format"][name] == pytest.approx(sum(r["format"] for r in items) / len(items))
    for cat, d in t["pretext_minus_scratch"].items():
        p, q = t["models"]["pretext-fewshot"][cat], t["models"]["scratch-fewshot"][cat]
        assert d["difference"] == pytest.approx(p["accuracy"] - q["accuracy"])
        assert d["ci95"] == pytest.approx(list(newcombe_difference(p["correct"], p["n"], q["correct"], q["n"])))
    # both starting points got the same few-shot budget
    stages = res["seeds"]["0"]["stages"]
    assert stages["ft-scratch"]["steps"] == stages["ft-pretext"]["steps"] > 0
    assert (out / "transfer.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_fewshot_prompts_are_what_ssrl_eval_shows(study, tmp_path):
    """The few-shot SFT rows carry exactly the user message the evaluation builds for the same item, and a
    response whose boxed letter is the item's answer."""
    import pyarrow.parquet as pq

    from spatial_ssrl.evaluate.load import load_benchmark
    from spatial_ssrl.evaluate.prompts import build_message
    from spatial_ssrl.evaluate.runner import prepare_benchmark

    out, _ = study
    tsv = out / "transfer-data" / "spatialqa-fewshot.tsv"
    n = fewshot_parquet(tsv, tmp_path / "f.parquet")
    rows = pq.read_table(tmp_path / "f.parquet").to_pylist()
    bench, _ = prepare_benchmark(load_benchmark(f"tsv:{tsv}"), "cot", "official", None)
    assert n == len(rows) == len(bench.items) > 0
    for row, item in zip(rows, bench.items):
        user, assistant = row["messages"]
        want = build_message(item, "cot")
        assert user["role"] == "user" and [dict(p) for p in user["content"]] == want["content"]
        assert assistant["content"][0]["text"] == response(item.category, item.answer)
        assert assistant["content"][0]["text"].endswith(f"\\boxed{{{item.answer}}}")
        assert len(row["images"]) == sum(p["type"] == "image" for p in want["content"])
