"""The verifiability measures: zero for identical images, invariant to flips where they must be."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial_ssrl.tasks._pixels import model_scale_gray, structure_diff, texture_std
from tests.fixtures.images import textured_image


@settings(max_examples=30, deadline=None)
@given(k=st.integers(1, 12), blocks=st.integers(1, 64), wide=st.booleans(), seed=st.integers(0, 100))
def test_pooling_commutes_with_flips(k, blocks, wide, seed):
    w, h = (64 * k, blocks * k) if wide else (blocks * k, 64 * k)
    a = textured_image(seed, w, h)
    g = model_scale_gray(a)
    assert g.shape == (h // k, w // k)
    np.testing.assert_allclose(model_scale_gray(a[::-1]), g[::-1], atol=1e-3)
    np.testing.assert_allclose(model_scale_gray(a[:, ::-1]), g[:, ::-1], atol=1e-3)


def test_measures():
    a = textured_image(1)
    assert structure_diff(a, a) == 0.0
    assert structure_diff(a, a[::-1]) > 10
    assert texture_std(np.full((100, 100, 3), 200, np.uint8)) == 0.0
    assert texture_std(a) > 10
    # JPEG-level noise (+-2 grey levels) stays far below every default threshold (>= 6).
    noisy = np.clip(a.astype(int) + np.random.default_rng(0).integers(-2, 3, a.shape), 0, 255).astype(np.uint8)
    assert structure_diff(a, noisy) < 0.5
