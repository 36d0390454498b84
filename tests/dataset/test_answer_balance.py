"""Answers stay uniform on sources that reject often: a rejected sample keeps its question (the task's
question draw) and only its geometry is retried (`run_task(..., attempt=k)`, `shards._attempts`)."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from spatial_ssrl import Rejection, Source, run_task
from spatial_ssrl.dataset.config import BuildConfig
from spatial_ssrl.dataset.shards import _attempts
from spatial_ssrl.sources.synthetic import make_scene
from tests.fixtures.images import textured_image
from tests.fixtures.stats import CHI2_999, chi_square


def half_sky(seed: int = 3) -> Source:
    """A photo whose top half is plain sky: at full size both top pieces of a 2x2 grid are flat, so half
    of all flip answers cannot be realised without moving the grid."""
    rgb = textured_image(seed, 320, 240).copy()
    rgb[:120] = (120, 160, 230)
    return Source("half_sky", rgb)


@pytest.mark.parametrize(
    ("task", "source"), [("flip", "photo"), ("shuffle", "photo"), ("crop", "photo"), ("position", "scene")]
)
def test_retries_keep_the_question(task, source):
    src = make_scene(4, 320, 240).to_source("s") if source == "scene" else Source("p", textured_image(5, 320, 240))
    for index in range(4):
        made = [run_task(task, src, seed=2, index=index, attempt=k) for k in range(6)]
        samples = [m for m in made if not isinstance(m, Rejection)]
        assert samples, made
        assert len({(s.answer, s.variant, s.question, str(s.options)) for s in samples}) == 1
        assert [s.attempt for s in samples] == [k for k, m in enumerate(made) if not isinstance(m, Rejection)]


def test_flip_answers_stay_uniform_on_a_source_that_rejects_often():
    src = half_sky()
    config = BuildConfig("unused", seed=0, max_attempts=6)
    stats = {"rejections": Counter()}
    answers = Counter(s.answer for s in _attempts(src, "flip", 240, 0, config, stats))
    accepted, rejected = sum(answers.values()), sum(stats["rejections"].values())
    assert rejected >= accepted >= 160  # the source rejects at least half of its attempts
    categories = [f"{label}-{d}" for label in range(4) for d in range(2)]
    assert chi_square(answers, categories) < CHI2_999[7], answers
    # Moving to a new question after each rejection (the old retry) skews the same source completely:
    # the top pieces (labels 0 and 1) never appear.
    old = Counter()
    for index in range(1500):
        sample = run_task("flip", src, seed=0, index=index)
        if not isinstance(sample, Rejection):
            old[sample.answer] += 1
        if sum(old.values()) == accepted:
            break
    assert old["0-0"] + old["0-1"] + old["1-0"] + old["1-1"] == 0
    assert chi_square(old, categories) > 5 * CHI2_999[7]


def test_shuffle_answers_stay_uniform_within_a_layout_on_a_source_that_rejects_often():
    src = half_sky(7)
    config = BuildConfig("unused", seed=1, max_attempts=6, variant_weights={"shuffle": {"2x2": 1.0}})
    stats = {"rejections": Counter()}
    answers = Counter(s.answer for s in _attempts(src, "shuffle", 480, 0, config, stats))
    accepted, rejected = sum(answers.values()), sum(stats["rejections"].values())
    assert rejected >= accepted >= 240
    perms = ["-".join(map(str, p)) for p in itertools.permutations(range(4))]
    perms.remove("0-1-2-3")  # the identity is never asked
    assert chi_square(answers, perms) < CHI2_999[23], answers
