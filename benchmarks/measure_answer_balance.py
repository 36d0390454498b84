"""Answer balance on sources that reject often: the answer distribution per task when a rejected sample
moves on to a new question (the old retry), and when it keeps its question and retries only the geometry
(the builder's retry, `dataset.shards._attempts`).

Sources: DIODE-like and MegaDepth-like RGB-D (benchmarks/measure_region_flatness.py) for the depth tasks;
photos whose top half is plain sky for the RGB tasks (the flat half rejects whole pieces). The statistic
is Pearson's chi-square against a uniform answer distribution, per task (per variant where the answer
space depends on it), with its degrees of freedom; the 0.001 critical value is printed next to it.

    python benchmarks/measure_answer_balance.py [--samples 300]
"""

from __future__ import annotations

import argparse
import itertools
from collections import Counter

from measure_region_flatness import diode_like, megadepth_like

import spatial_ssrl.tasks  # noqa: F401 - registers the tasks
from spatial_ssrl import Rejection, run_task
from spatial_ssrl.dataset.config import BuildConfig
from spatial_ssrl.dataset.shards import _attempts
from spatial_ssrl.engine.sample import Source
from spatial_ssrl.sources.synthetic import make_scene

CHI2_999 = {3: 16.27, 5: 20.52, 7: 24.32, 22: 48.27, 23: 49.73}  # chi-square critical values at p = 0.001


def half_sky(seed: int) -> Source:
    """A photo-like textured image whose top half is plain sky."""
    rgb = make_scene(seed, 320, 240).rgb.copy()
    rgb[:120] = (120, 160, 230)
    return Source(f"half_sky_{seed}", rgb)


TASKS = {
    # task: (answer space, sources, variant weights)
    "flip": ([f"{a}-{b}" for a in range(4) for b in range(2)], half_sky, None),
    "shuffle": (
        ["-".join(map(str, p)) for p in itertools.permutations(range(4)) if p != (0, 1, 2, 3)],
        half_sky,
        {"2x2": 1.0},
    ),
    "crop": (list("ABCD"), half_sky, None),
    "depth_order": (["-".join(map(str, p)) for p in itertools.permutations((1, 2, 3))], None, None),
    "position": (list("ABCD"), None, None),
}


def sources_for(task: str, n: int) -> list[Source]:
    """`n` sources that reject often for `task`."""
    make = TASKS[task][1]
    if make is not None:
        return [make(s) for s in range(n)]
    return [diode_like(s) if s % 2 == 0 else megadepth_like(s) for s in range(n)]


def old_retry(source: Source, task: str, wanted: int, weights) -> tuple[Counter, Counter, int]:
    """The old retry: a rejected sample moves on to the next index (a new question)."""
    answers, variants, rejected = Counter(), Counter(), 0
    for index in range(wanted * 6):
        sample = run_task(task, source, seed=0, index=index, variant_weights=weights)
        if isinstance(sample, Rejection):
            rejected += 1
            continue
        answers[sample.answer] += 1
        variants[sample.variant] += 1
        if sum(answers.values()) == wanted:
            break
    return answers, variants, rejected


def new_retry(source: Source, task: str, wanted: int, weights) -> tuple[Counter, Counter, int]:
    """The builder's retry: the question stays, the geometry is retried."""
    config = BuildConfig("unused", seed=0, variant_weights={task: weights} if weights else {})
    stats = {"rejections": Counter()}
    samples = list(_attempts(source, task, wanted, 0, config, stats))
    answers, variants = Counter(s.answer for s in samples), Counter(s.variant for s in samples)
    return answers, variants, sum(stats["rejections"].values())


def chi_square(counts: Counter, space: list[str]) -> float:
    """Pearson's statistic of `counts` against the uniform distribution over `space`."""
    n = sum(counts[a] for a in space)
    if n == 0:
        return float("nan")
    expected = n / len(space)
    return float(sum((counts[a] - expected) ** 2 / expected for a in space))


def main() -> None:
    """Print the table of the issue 14 note (answer balance before and after)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=300, help="samples per task and retry rule")
    parser.add_argument("--sources", type=int, default=10)
    args = parser.parse_args()
    print(
        "| task | retry | samples | rejected attempts | answers min / max | chi-square (df) | p < 0.001? | variants |"
    )
    print("|---|---|---:|---:|---:|---:|---|---|")
    for task, (space, _, weights) in TASKS.items():
        per_source = max(1, args.samples // args.sources)
        for label, rule in (("new question (old)", old_retry), ("same question (new)", new_retry)):
            answers, variants, rejected = Counter(), Counter(), 0
            for source in sources_for(task, args.sources):
                got, kinds, rej = rule(source, task, per_source, weights)
                answers.update(got)
                variants.update(kinds)
                rejected += rej
            stat, df = chi_square(answers, space), len(space) - 1
            counts = [answers[a] for a in space]
            print(
                f"| {task} | {label} | {sum(counts)} | {rejected} | {min(counts)} / {max(counts)} | "
                f"{stat:.1f} ({df}) | {'—' if stat != stat else 'yes' if stat > CHI2_999[df] else 'no'} | "
                + ", ".join(f"{k} {v}" for k, v in sorted(variants.items()))
                + " |"
            )


if __name__ == "__main__":
    main()
