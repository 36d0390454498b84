"""Evaluation: benchmark readers, prompts, generation backends, scoring, cached runs and reports.

    from spatial_ssrl.evaluate import load_benchmark, TransformersBackend, evaluate, compare

    bench = load_benchmark("tsv:/data/3DSRBench.tsv")
    results = evaluate([bench], TransformersBackend("path/or/hub-id", batch_size=8), "runs/base", mode="cot")
    print(compare(["runs/base", "runs/ssrl"], out_dir="runs/compare"))

Docs: docs/evaluation.md. Command line: `ssrl infer`, `ssrl eval`, `ssrl compare`.
"""

from spatial_ssrl.evaluate.backends import OpenAIBackend, TransformersBackend, plan_batches
from spatial_ssrl.evaluate.items import Benchmark, BenchmarkFormatError, EvalItem
from spatial_ssrl.evaluate.load import load_benchmark
from spatial_ssrl.evaluate.prompts import build_message
from spatial_ssrl.evaluate.report import compare, comparison
from spatial_ssrl.evaluate.runner import RunMismatch, evaluate
from spatial_ssrl.evaluate.scoring import mean_relative_accuracy, score_item

__all__ = [
    "Benchmark",
    "BenchmarkFormatError",
    "EvalItem",
    "OpenAIBackend",
    "RunMismatch",
    "TransformersBackend",
    "build_message",
    "compare",
    "comparison",
    "evaluate",
    "load_benchmark",
    "mean_relative_accuracy",
    "plan_batches",
    "score_item",
]
