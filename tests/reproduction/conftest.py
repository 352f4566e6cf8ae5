"""Fixtures of the manifest checks."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def project(tmp_path) -> Path:
    """A project root with its data/ folder (nothing else is read)."""
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    return root
