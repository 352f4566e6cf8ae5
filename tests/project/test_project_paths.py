"""Where --params may send a run's writes, and paths in records relative to the project root."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline

from ganforge.errors import ConfigError
from ganforge.gan.config import TrainingConfig
from ganforge.hooks import GanForgeHooks
from ganforge.pipelines.data_processing.params import DataParams
from ganforge.project_paths import WRITTEN_PATH_SETTINGS, check_written_paths, portable_paths

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    return root


def nested(setting: str, value: object) -> dict:
    """``a.b.c`` = value as --params gives it to Kedro: nested mappings."""
    *parents, key = setting.split(".")
    tree: dict = {key: value}
    for parent in reversed(parents):
        tree = {parent: tree}
    return tree


@pytest.mark.parametrize("setting", [
    "training_defaults.resume_dir",
    "wgan.variant.training.tensorboard_dir",
    "data.staging_path",
    "cogan.domain_a.data.staging_path",
])
def test_params_that_send_writes_outside_data_are_refused(project, setting):
    params = nested(setting, "/tmp/elsewhere")
    with pytest.raises(ConfigError, match=rf"^{setting} is '/tmp/elsewhere', outside the project's data") as caught:
        check_written_paths(params, params, project)
    assert "\n" not in str(caught.value) and "conf/local/parameters.yml" in str(caught.value)


def test_params_inside_data_are_accepted(project):
    params = {"training_defaults": {"resume_dir": "data/06_models/mine", "tensorboard_dir": str(project / "data/tb")},
              "data": {"staging_path": "data/02_intermediate/x", "path": "/anywhere/to/read"}}
    check_written_paths(params, params, project)


def test_the_value_checked_is_the_one_the_run_uses(project):
    """An interpolation in --params is resolved by Kedro: the resolved value is what counts."""
    with pytest.raises(ConfigError, match="data.staging_path is '/tmp/evil'"):
        check_written_paths({"data": {"staging_path": "data/${x}"}}, {"data": {"staging_path": "/tmp/evil"}}, project)


def test_the_projects_configuration_may_point_anywhere(project):
    """Only what --params sets is checked: conf/<env>/parameters*.yml is the way to write elsewhere."""
    check_written_paths({"data": {"limit": 10}}, {"data": {"limit": 10, "staging_path": "/scratch/staging"}}, project)


def test_the_written_path_settings_are_settings_whose_defaults_lie_in_data():
    defaults = {**TrainingConfig.model_fields, **DataParams.model_fields}
    for name in WRITTEN_PATH_SETTINGS:
        assert defaults[name].default.startswith("data/"), name


def test_the_hook_refuses_params_before_the_run(project, monkeypatch):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # the hook installs its own
    hooks = GanForgeHooks()
    params = {"training_defaults": {"resume_dir": "/tmp/resume"}}
    hooks.after_context_created(SimpleNamespace(params=params, env=None,
                                                config_loader=SimpleNamespace(conf_source="conf")))
    catalog = DataCatalog()
    with pytest.raises(ConfigError, match="training_defaults.resume_dir"):
        hooks.before_pipeline_run({"runtime_params": params, "project_path": str(project)}, Pipeline([]), catalog)
    assert "run_info" not in catalog


def test_the_projects_config_loader_takes_its_settings():
    from ganforge.settings import CONFIG_LOADER_ARGS

    loader = OmegaConfigLoader(conf_source=str(REPO / "conf"), **{**CONFIG_LOADER_ARGS, "default_run_env": "base"})
    assert loader.restrict_runtime_params_type_selection
    assert "training_defaults" in loader["parameters"]


def test_paths_under_the_project_root_become_relative(tmp_path):
    root = tmp_path / "project"
    record = {"command": f"kedro run --params=data.path={root}/data/01_raw/faces",
              "checkpoint": f"{root}/data/06_models/wgan/checkpoint.pt", "project_path": str(root),
              "nested": [f"{root}/data", {"other": "/elsewhere/data"}], "sibling": f"{root}-copy/data", "count": 3}
    assert portable_paths(record, root) == {
        "command": "kedro run --params=data.path=data/01_raw/faces", "checkpoint": "data/06_models/wgan/checkpoint.pt",
        "project_path": ".", "nested": ["data", {"other": "/elsewhere/data"}], "sibling": f"{root}-copy/data",
        "count": 3}


def test_paths_under_the_home_folder_start_with_a_tilde(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    project = home / "project"
    record = {"weights_source": f"{home}/.cache/torch/hub/checkpoints/pt_inception.pth",
              "resume": f"{project}/data/resume", "home": str(home)}
    assert portable_paths(record, project) == {"weights_source": "~/.cache/torch/hub/checkpoints/pt_inception.pth",
                                               "resume": "data/resume", "home": "~"}
