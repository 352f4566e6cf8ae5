"""Fixtures shared across test folders."""

from __future__ import annotations

import os
from pathlib import Path

# Tests run tiny models, several processes at a time on 2 cores: one intra-op thread each avoids
# oversubscription (which can make PyTorch on a busy CPU ten times slower). Set before torch loads.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest

from tests.kedro_project import kedro, make_project, tiny_params


@pytest.fixture(scope="session")
def tiny_default_run(tmp_path_factory) -> tuple[Path, str]:
    """`kedro run` of the default pipeline (data, all five variants, comparison) on a tiny config
    in a throw-away project; shared by the end-to-end and notebook tests, run once per session."""
    project = make_project(tmp_path_factory.mktemp("default_run") / "project")
    result = kedro(project, "run", f"--params={tiny_params(epochs=2)}")
    return project, result.stdout + result.stderr
