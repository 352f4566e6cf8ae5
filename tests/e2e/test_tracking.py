"""MLflow tracking of real `kedro run`s: what happens when the tracking server cannot be reached.
What the default run logs is checked in tests/e2e/test_kedro_run.py, which holds the tests that
walk that run (one copy of it per pytest-xdist worker that asks for it)."""

from __future__ import annotations

import socket

import pytest

from tests.kedro_project import kedro, make_project, versions

pytestmark = pytest.mark.e2e


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # free once closed: nothing listens there


def test_an_unreachable_tracking_server_fails_fast_or_runs_untracked_by_setting(tmp_path):
    project = make_project(tmp_path / "project")
    (project / "conf/local/mlflow.yml").write_text(
        f"server:\n  mlflow_tracking_uri: http://127.0.0.1:{_closed_port()}\n")
    data = "--params=data.limit=64"
    result = kedro(project, "run", "--pipeline=data_processing", f"{data},tracking.mlflow_unreachable=warn")
    assert "Running untracked" in result.stdout + result.stderr
    assert len(versions(project / "data/05_model_input/model_input.pt")) == 1
    written = {path: path.stat().st_mtime_ns for path in (project / "data").rglob("*") if path.is_file()}

    result = kedro(project, "run", "--pipeline=data_processing", data, check=False)  # the default: fail
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error (")]
    assert len(errors) == 1 and "cannot be used" in errors[0] and "mlflow_unreachable=warn" in errors[0]
    # it stopped before anything ran: what the first run wrote is there, untouched, and nothing new
    assert {path: path.stat().st_mtime_ns for path in (project / "data").rglob("*") if path.is_file()} == written
