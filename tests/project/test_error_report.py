"""The one-line report of errors a user can cause, from whichever layer raises them, and the
checks that run before any node (tests/e2e/test_bad_inputs.py drives both through `kedro`)."""

from __future__ import annotations

import errno
import sys

import pytest
from kedro.io import DatasetError

from ganforge.error_report import HINT, install_short_error_hook, user_error_line
from ganforge.errors import CheckpointError, ConfigError
from ganforge.run_checks import check_environment
from ganforge.utils import resolve_device


def _raised(error: BaseException, cause: BaseException | None = None) -> BaseException:
    """``error`` as Python leaves it when raised ``from cause``."""
    try:
        raise error from cause
    except BaseException as caught:  # noqa: BLE001
        return caught


def test_a_full_disk_behind_a_failed_save_is_reported_as_the_full_disk():
    full = OSError(errno.ENOSPC, "No space left on device", "data/06_models/dcgan/checkpoint.pt")
    error = _raised(DatasetError("dcgan.checkpoint: Failed while saving data to dataset TorchDataset(...)."),
                    _raised(full))
    line = user_error_line(error)
    assert line == ("Error (OSError): No space left on the disk writing data/06_models/dcgan/checkpoint.pt. "
                    "Free space on it (old versions under data/ can go) and run again.")


def test_a_catalog_error_drops_kedros_description_of_the_dataset():
    missing = _raised(FileNotFoundError(2, "No such file or directory", "data/x.pt"))
    inner = _raised(DatasetError(f"Failed while loading data from dataset TorchDataset(filepath=x).\n{missing}"),
                    missing)
    line = user_error_line(_raised(DatasetError(f"dcgan.checkpoint: {inner}"), inner))
    assert line == ("Error (DatasetError): dcgan.checkpoint: Failed while loading data: [Errno 2] No such file "
                    "or directory: 'data/x.pt'. Check --load-versions and the files under data/.")


def test_a_project_error_anywhere_in_the_chain_wins_and_is_one_line():
    error = _raised(RuntimeError("node failed"), _raised(ConfigError("first line\nsecond line")))
    assert user_error_line(error) == "Error (ConfigError): first line second line"


def test_a_bug_is_not_a_user_error():
    assert user_error_line(_raised(KeyError("model_spec"))) is None
    assert user_error_line(_raised(OSError(errno.EIO, "I/O error"))) is None


def test_the_hook_prints_one_line_and_hands_bugs_on(monkeypatch, capsys):
    handed_on = []
    monkeypatch.setattr(sys, "excepthook", lambda *args: handed_on.append(args[1]))
    monkeypatch.delenv("GANFORGE_TRACEBACK", raising=False)
    install_short_error_hook()
    user_error, bug = ConfigError("Set x to 1."), ValueError("bug")
    sys.excepthook(ConfigError, user_error, None)
    sys.excepthook(ValueError, bug, None)
    assert capsys.readouterr().err.strip().splitlines() == ["Error (ConfigError): Set x to 1.", HINT]
    assert handed_on == [bug]


def test_with_the_traceback_asked_for_the_line_follows_it(monkeypatch, capsys):
    handed_on = []
    monkeypatch.setattr(sys, "excepthook", lambda *args: handed_on.append(args[1]))
    monkeypatch.setenv("GANFORGE_TRACEBACK", "1")
    install_short_error_hook()
    user_error = ConfigError("Set x to 1.")
    sys.excepthook(ConfigError, user_error, None)
    assert handed_on == [user_error]
    assert capsys.readouterr().err.strip() == "Error (ConfigError): Set x to 1."


def test_an_environment_must_be_a_folder_of_conf(tmp_path):
    for env in ("base", "local", "photos"):
        (tmp_path / env).mkdir()
    check_environment(tmp_path, "photos")
    check_environment(tmp_path, None)
    with pytest.raises(ConfigError, match=r"no configuration environment 'nosuch'.* local, photos, or leave"):
        check_environment(tmp_path, "nosuch")


@pytest.mark.parametrize(("device", "problem"), [("gpu", "not a device"), ("cuda:99", "cuda:99")])
def test_a_device_this_machine_lacks_is_a_config_error(device, problem):
    with pytest.raises(ConfigError, match=problem):
        resolve_device(device, "evaluation.device")
    assert resolve_device("cpu").type == "cpu"


@pytest.mark.parametrize("content", [{"generator": {}}, [1, 2, 3]])
def test_a_torch_file_that_is_not_a_checkpoint_is_a_checkpoint_error(content):
    from ganforge.gan.state import upgrade_checkpoint

    with pytest.raises(CheckpointError, match="not a GAN Forge checkpoint"):
        upgrade_checkpoint(content)
