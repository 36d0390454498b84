"""Flip answers are proven by un-flipping the answered piece, which must restore the source."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial_ssrl import Rejection, Source, run_task
from tests.fixtures.images import textured_image


def _pieces(a, w, h):
    pw, ph = w // 2, h // 2
    return [(c * pw, r * ph, (c + 1) * pw, (r + 1) * ph) for r in range(2) for c in range(2)]


def _unflip(a, direction):
    return a[::-1] if direction == 0 else a[:, ::-1]


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000), img_seed=st.integers(0, 50), size=st.sampled_from([(320, 240), (301, 199), (200, 400)])
)
def test_unflipping_answered_piece_restores_source(seed, img_seed, size):
    rgb = textured_image(img_seed, *size)
    sample = run_task("flip", Source("img", rgb), seed=seed)
    assert not isinstance(sample, Rejection), sample
    label, direction = (int(x) for x in sample.answer.split("-"))
    assert direction == {"vertical": 0, "horizontal": 1}[sample.variant]
    out = sample.images[0]
    label_mask = np.zeros(out.shape[:2], bool)
    for x0, y0, x1, y1 in sample.meta["label_boxes"]:
        label_mask[max(0, y0) : y1, max(0, x0) : x1] = True
    for k, (x0, y0, x1, y1) in enumerate(_pieces(out, *size)):
        got, mask, want = out[y0:y1, x0:x1], label_mask[y0:y1, x0:x1], rgb[y0:y1, x0:x1]
        if k == label:
            got, mask = _unflip(got, direction), _unflip(mask, direction)
            wrong = _unflip(out[y0:y1, x0:x1], 1 - direction)
            assert not np.array_equal(wrong[~mask], want[~mask])  # the other direction does not restore it
        np.testing.assert_array_equal(got[~mask], want[~mask])


def test_symmetric_piece_is_rejected():
    # A sky-like vertical gradient is identical under a horizontal flip.
    h, w = 240, 320
    sky = np.zeros((h, w, 3), np.uint8)
    sky[..., 2] = np.linspace(250, 120, h, dtype=np.uint8)[:, None]
    sky[..., 1] = 140
    results = [run_task("flip", Source("sky", sky), seed=0, index=i, variant="horizontal") for i in range(8)]
    assert all(isinstance(r, Rejection) and r.reason == "flip.identical" for r in results)


def test_point_symmetric_piece_direction_is_rejected():
    # Each piece is 180-degree symmetric: vertical and horizontal flips look the same.
    base = textured_image(2, 80, 60)
    quarter = np.concatenate([base, base[::-1, ::-1]], axis=0)
    piece = np.concatenate([quarter, quarter[::-1, ::-1]], axis=1)
    assert np.array_equal(piece[::-1], piece[:, ::-1])  # 180-degree symmetric: both flips give one image
    rgb = np.tile(piece, (2, 2, 1))
    r = run_task("flip", Source("sym", rgb), seed=0, variant="vertical")
    assert isinstance(r, Rejection) and r.reason in ("flip.direction_ambiguous", "flip.identical")


@pytest.mark.parametrize("size", [(1, 1), (50, 50)])
def test_too_small(size):
    r = run_task("flip", Source("t", np.zeros((size[1], size[0], 3), np.uint8)), seed=0)
    assert isinstance(r, Rejection) and r.reason == "flip.too_small"
