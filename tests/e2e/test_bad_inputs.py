"""Bad inputs a user can give, each through the real `kedro` command line: every one ends with a
non-zero exit status and one line on stderr that says what is wrong, never a traceback, and a
failed MLflow run is reported closed at most once.

What "one line" means here, exactly: stderr, less blank lines, MLflow's own log lines (it logs to
stderr when it creates a store) and click's usage preamble (``Usage: ...`` and ``Try ... for
help.``, printed before click's own one-line errors), is the error line alone, or the error line
and the fixed hint that GANFORGE_TRACEBACK=1 shows the traceback. The error line starts with
``Error`` and holds the expected text, and that text appears nowhere else in the output (Kedro's
"Node ... failed" log would repeat it).

Every case fails before any training, most before any node runs; one project serves them all.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from ganforge.error_report import HINT
from tests.kedro_project import kedro, make_project

pytestmark = pytest.mark.e2e

TRUNCATED = "2020-01-01T00.00.00.000Z"
MISFITTING = "2020-01-02T00.00.00.000Z"
NEVER_SAVED = "2020-01-03T00.00.00.000Z"

#: (id, `kedro` arguments, text the error line holds): settings that the project checks before
#: any node runs (ganforge.run_checks)
CHECKED_SETTINGS = [
    ("device not on this machine", ["run", "--pipelines=dcgan", "--params=training_defaults.device=cuda:99"],
     "training.device is 'cuda:99'"),
    ("device name that is no device", ["run", "--pipelines=generate_dcgan", "--params=generate.device=gpu"],
     "generate.device is 'gpu', which is not a device"),
    ("parameter of the wrong type", ["run", "--pipelines=dcgan", "--params=dcgan.variant.training.epochs=many"],
     "dcgan.training.epochs: Input should be a valid integer"),
    ("misspelt parameter", ["run", "--pipelines=sweep_wgan", "--params=wgan.variant.training.n_critc=2"],
     "wgan.training.n_critc: Extra inputs are not permitted"),
    ("unknown loss name", ["run", "--pipelines=dcgan", "--params=dcgan.variant.objective.loss=hinge2"], "hinge2"),
    ("unknown data source", ["run", "--pipelines=data_processing", "--params=data.source=mnistt"], "mnistt"),
    ("generate value out of range", ["run", "--pipelines=generate_dcgan", "--params=generate.count=-1"],
     "generate.count: Input should be greater than or equal to 1"),
    ("load version never saved", ["run", "--pipelines=dcgan_score", f"--load-versions=dcgan.checkpoint:{NEVER_SAVED}"],
     f"--load-versions asks for version '{NEVER_SAVED}' of dcgan.checkpoint, which was never saved"),
    ("written folder outside data/",
     ["run", "--pipelines=dcgan", "--params=training_defaults.resume_dir=/tmp/elsewhere"],
     "training_defaults.resume_dir"),
]

#: the same, for mistakes that Kedro, the command line, the catalog or a node's first read finds
FOUND_ELSEWHERE = [
    ("unknown pipeline", ["run", "--pipelines=dcgna"], "There is no pipeline 'dcgna'. Did you mean dcgan"),
    ("unknown environment", ["run", "--env=nosuch", "--pipelines=dcgan"],
     "There is no configuration environment 'nosuch'"),
    ("malformed --params", ["run", "--params=data.limit"], "Invalid format of `params` option"),
    ("reproduce of a file that is no manifest", ["reproduce", "notes.json"], "is not a run manifest"),
    ("missing image folder", ["run", "--pipelines=data_processing",
                              "--params=data.source=image_folder,data.path=data/01_raw/nothing_here"],
     "data.path 'data/01_raw/nothing_here' is not a folder"),
    ("truncated checkpoint", ["run", "--pipelines=generate_dcgan", f"--params=generate.checkpoint={TRUNCATED}"],
     "The file may be truncated"),
    ("checkpoint of the wrong shape", ["run", "--pipelines=generate_dcgan",
                                       f"--params=generate.checkpoint={MISFITTING}"],
     "weights do not fit the network its model_spec describes"),
]

MLFLOW_LOG_LINE = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d INFO mlflow")
CLICK_PREAMBLE = re.compile(r"^(Usage: .*|Try '.*' for help\.)$")


def _misfitting_checkpoint() -> dict:
    """A checkpoint whose model_spec asks for a DCGAN generator its weights are not from."""
    spec = {"architecture": "dcgan", "latent_dim": 100, "embedding_dim": 16, "init": "dcgan",
            "spectral_norm": "none", "base_channels": 16, "discriminator_norm": "batch",
            "attention_resolution": None, "channels": 1, "image_size": 28, "num_classes": 0}
    return {"format": "ganforge-checkpoint-v2", "variant": "dcgan", "recipe": "adversarial", "model_spec": spec,
            "networks": {"generator": {"layer.weight": torch.zeros(3, 3)}, "discriminator": {}}, "ema": {},
            "config": {"model": {"init": "dcgan"}}}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = make_project(tmp_path_factory.mktemp("bad_inputs") / "project")
    checkpoints = root / "data/06_models/dcgan/checkpoint.pt"
    (checkpoints / TRUNCATED).mkdir(parents=True)
    (checkpoints / TRUNCATED / "checkpoint.pt").write_bytes(b"PK\x03\x04 cut short")
    (checkpoints / MISFITTING).mkdir()
    torch.save(_misfitting_checkpoint(), checkpoints / MISFITTING / "checkpoint.pt")
    (root / "notes.json").write_text('{"notes": "not a manifest"}')
    return root


def _message_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines()
            if line.strip() and not MLFLOW_LOG_LINE.match(line) and not CLICK_PREAMBLE.match(line)]


def _cases(table: list) -> pytest.MarkDecorator:
    return pytest.mark.parametrize(("arguments", "expected"), [case[1:] for case in table],
                                   ids=[case[0] for case in table])


def _assert_one_line(project: Path, arguments: list[str], expected: str) -> None:
    result = kedro(project, *arguments, check=False, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    lines = _message_lines(result.stderr)
    assert lines and lines[1:] in ([], [HINT]), result.stderr[-3000:]
    assert lines[0].startswith("Error") and expected in lines[0], lines[0]
    assert output.count(expected) == 1, output[-3000:]
    assert output.count("closed because of an error") <= 1, result.stdout[-3000:]


# Two classes so that pytest-xdist (--dist=loadscope) can give each to a worker.
class TestSettingsCheckedBeforeAnyNode:
    @_cases(CHECKED_SETTINGS)
    def test_a_bad_setting_ends_in_one_line(self, project, arguments, expected):
        _assert_one_line(project, arguments, expected)


class TestMistakesFoundElsewhere:
    @_cases(FOUND_ELSEWHERE)
    def test_a_bad_input_ends_in_one_line(self, project, arguments, expected):
        _assert_one_line(project, arguments, expected)
