"""Fixtures generated in code: textured, asymmetric test images of any size."""

from __future__ import annotations

import pytest

from tests.fixtures.images import textured_image


@pytest.fixture
def textured():
    return textured_image
