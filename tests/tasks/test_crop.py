"""Crop answers are proven by pasting the answered candidate into the hole."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial_ssrl import Rejection, Source, run_task
from tests.fixtures.images import textured_image


def _hole(damaged):
    black = (damaged == 0).all(axis=2)
    ys, xs = np.nonzero(black)
    return xs.min(), ys.min(), xs.max() + 1, ys.max() + 1


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    img_seed=st.integers(0, 50),
    size=st.sampled_from([(320, 240), (301, 199), (200, 400), (640, 480)]),
)
def test_pasting_answer_restores_source(seed, img_seed, size):
    rgb = textured_image(img_seed, *size)
    sample = run_task("crop", Source("img", rgb), seed=seed)
    assert not isinstance(sample, Rejection), sample
    assert len(sample.images) == 5 and sample.question.count("<image>") == 5
    damaged, *options = sample.images
    assert damaged.shape == rgb.shape
    x0, y0, x1, y1 = _hole(damaged)
    s = min(size) // 2
    assert (x1 - x0, y1 - y0) == (s, s)
    letter_index = "ABCD".index(sample.answer)
    matches = []
    for opt in options:
        assert opt.shape == (s, s, 3)
        restored = damaged.copy()
        restored[y0:y1, x0:x1] = opt
        matches.append(np.array_equal(restored, rgb))
    assert matches == [k == letter_index for k in range(4)]
    kinds = sample.meta["option_kinds"]
    assert kinds[sample.answer] == "true" and len(set(kinds.values())) == 4


def test_every_distractor_kind_occurs():
    rgb = textured_image(4, 640, 480)
    kinds = set()
    for i in range(60):
        kinds |= set(run_task("crop", Source("img", rgb), seed=0, index=i).meta["option_kinds"].values())
    assert kinds == {"true", "inner", "grow_quarter", "grow_half", "rotate_cw", "rotate_ccw"}


def test_uniform_image_distractors_are_rejected():
    rgb = np.full((240, 320, 3), 77, np.uint8)
    r = run_task("crop", Source("flat", rgb), seed=0)
    assert isinstance(r, Rejection) and r.reason == "crop.distractor_identical"


@pytest.mark.parametrize("size", [(1, 1), (60, 400)])
def test_too_small(size):
    r = run_task("crop", Source("t", np.zeros((size[1], size[0], 3), np.uint8)), seed=0)
    assert isinstance(r, Rejection) and r.reason == "crop.too_small"
