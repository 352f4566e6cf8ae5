"""Fixtures for the data pipeline tests; the file writers live in dp_helpers.py."""

from __future__ import annotations

import copy
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")

PROJECT = Path(__file__).resolve().parents[2]
# The package is not installed into the venv; Kedro adds src/ itself, pytest needs it here.
if str(PROJECT / "src") not in sys.path:
    sys.path.insert(0, str(PROJECT / "src"))


def default_params() -> dict[str, Any]:
    return yaml.safe_load((PROJECT / "conf/base/parameters_data_processing.yml").read_text())[
        "data"
    ]


@pytest.fixture
def make_params():
    """``make_params(source=..., validation={...})``: defaults from conf with overrides."""

    def build(**overrides: Any) -> dict[str, Any]:
        params = copy.deepcopy(default_params())
        validation = overrides.pop("validation", None)
        params.update(overrides)
        if validation:
            params["validation"].update(validation)
        return params

    return build
