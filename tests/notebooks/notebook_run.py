"""notebooks/explore_experiment.ipynb runs headless (nbclient) against a tiny run of a throw-away
project copy, and shows images (the sample grid and the loss plot).

Collected through tests/e2e/test_kedro_run.py, which imports this test: pytest-xdist keeps a
module's tests on one worker (`--dist=loadscope`), so the two modules that walk the session's
default run (`tiny_default_run`, a real `kedro run` of every family) build it once, not twice."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.kedro_project import REPO

pytestmark = pytest.mark.e2e

NOTEBOOK = REPO / "notebooks" / "explore_experiment.ipynb"
KERNEL_NAME = "ganforge-test"


@pytest.fixture
def tiny_run(tiny_default_run) -> Path:
    """The default pipeline (all variants and the comparison) on a tiny config (tests/conftest.py)."""
    return tiny_default_run[0]


@pytest.fixture
def kernel_for_this_interpreter(tmp_path, monkeypatch) -> str:
    """A kernelspec that starts *this* interpreter. The stock `python3` spec of a venv runs
    whatever `python` is first on PATH, which is not the venv unless it is activated."""
    spec_dir = tmp_path / "jupyter" / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "GAN Forge tests",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))  # searched before user/system
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "true")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # Agg would swallow the inline plots
    return KERNEL_NAME


def _set_parameters(notebook: nbformat.NotebookNode, **values: object) -> None:
    cell = next(cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", []))
    cell.source = "\n".join(f"{name} = {value!r}" for name, value in values.items())


def test_notebook_runs_against_a_tiny_run(tiny_run, kernel_for_this_interpreter, tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    _set_parameters(notebook, variant="wgan", project_path=str(tiny_run))
    client = NotebookClient(
        notebook,
        kernel_name=kernel_for_this_interpreter,
        timeout=300,
        resources={"metadata": {"path": str(tmp_path)}},  # the kernel's working directory
    )
    client.execute()  # raises CellExecutionError on the first failing cell

    outputs = [
        output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    ]
    assert not [output for output in outputs if output.output_type == "error"]
    images = [output for output in outputs if "image/png" in output.get("data", {})]
    assert len(images) >= 2, "expected the sample grid and the loss plot"
    text = "\n".join(
        output.get("text", "") + output.get("data", {}).get("text/plain", "") for output in outputs
    )
    assert "'wgan'" in text  # sorted(pipelines)
    assert '"fid"' in text  # the metrics JSON
    assert "wgan_gp" in text and "dcgan" in text  # the comparison table lists every variant
