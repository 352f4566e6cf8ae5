"""`kedro reproduce` takes a manifest as untrusted input: what it accepts, what it refuses, and that
a refusal is one line before anything is written. No `kedro run` here: the checks alone."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ganforge.cli import cli
from ganforge.errors import ConfigError, ManifestError
from ganforge.gan.config import TrainingConfig
from ganforge.metrics.settings import EvaluationConfig
from ganforge.pipelines.data_processing.params import DataParams
from ganforge.reproduction import (
    CONFIG_PATHS,
    DATA_PATHS,
    RunManifest,
    read_manifest,
    runtime_params_from_manifest,
)
from tests.reproduction.manifests import shipped_manifest


def edited(manifest: dict[str, Any], setting: str, value: Any) -> dict[str, Any]:
    """A copy of ``manifest`` with the dotted ``setting`` set to ``value``."""
    changed = copy.deepcopy(manifest)
    *parents, key = setting.split(".")
    section = changed
    for parent in parents:
        section = section[parent]
    section[key] = value
    return changed


def refusal(manifest: dict[str, Any], project: Path) -> str:
    """The one-line message with which ``manifest`` is refused."""
    with pytest.raises(ConfigError) as caught:
        runtime_params_from_manifest(RunManifest.model_validate(manifest), project)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.fixture(scope="module")
def dcgan_manifest() -> dict[str, Any]:
    return shipped_manifest("dcgan")


@pytest.fixture(scope="module")
def cogan_manifest() -> dict[str, Any]:
    return shipped_manifest("cogan")


def test_the_manifest_model_has_the_keys_a_run_writes(dcgan_manifest):
    assert set(dcgan_manifest) == set(RunManifest.model_fields)


def test_a_shipped_runs_manifest_is_accepted_with_its_settings(dcgan_manifest, project):
    params = runtime_params_from_manifest(RunManifest.model_validate(dcgan_manifest), project)
    assert set(params) == {"dcgan", "data"}
    config = params["dcgan"]["variant"]
    recorded = dcgan_manifest["parameters"]
    assert {key: config[key] for key in ("name", "model", "objective", "optimizer", "training", "recipe")} == {
        key: recorded[key] for key in ("name", "model", "objective", "optimizer", "training", "recipe")}
    assert params["data"]["source"] == dcgan_manifest["data_parameters"]["source"]


def test_a_two_domain_manifest_gives_each_domain_its_data(cogan_manifest, project):
    params = runtime_params_from_manifest(RunManifest.model_validate(cogan_manifest), project)
    assert set(params) == {"cogan"}
    assert params["cogan"]["domain_b"]["data"]["transform"] == "negative"
    assert params["cogan"]["domain_a"]["data"]["part"] == [0, 2]


def test_what_a_manifest_leaves_to_auto_runs_offline(dcgan_manifest, project):
    assert dcgan_manifest["parameters"]["evaluation"]["download_inception"] == "auto"
    assert dcgan_manifest["data_parameters"]["download"] is None
    params = runtime_params_from_manifest(RunManifest.model_validate(dcgan_manifest), project)
    assert params["dcgan"]["variant"]["evaluation"]["download_inception"] is False
    assert params["data"]["download"] is False


@pytest.mark.parametrize(("setting", "value", "named"), [
    ("parameters.training.resume_dir", "/tmp/ganforge-resume", "training.resume_dir"),
    ("parameters.training.tensorboard_dir", "../tensorboard", "training.tensorboard_dir"),
    ("parameters.training.resume_dir", "data/../../escaped", "training.resume_dir"),
    ("parameters.training.resume_dir", "~/resume", "training.resume_dir"),
    ("parameters.evaluation.inception_weights", "/etc/passwd", "evaluation.inception_weights"),
    ("data_parameters.path", "/tmp", "data.path"),
    ("data_parameters.staging_path", "/tmp/staging", "data.staging_path"),
    ("data_parameters.staging_path", "src", "data.staging_path"),
])
def test_a_path_outside_data_is_refused(dcgan_manifest, project, setting, value, named):
    message = refusal(edited(dcgan_manifest, setting, value), project)
    assert message.startswith(f"{named} is '{value}', outside the project's data folder")


def test_a_path_in_data_is_accepted_relative_or_absolute(dcgan_manifest, project):
    manifest = edited(dcgan_manifest, "parameters.training.resume_dir", str(project / "data/06_models/elsewhere"))
    manifest = edited(manifest, "data_parameters.path", "data/01_raw/digits")
    params = runtime_params_from_manifest(RunManifest.model_validate(manifest), project)
    assert params["dcgan"]["variant"]["training"]["resume_dir"] == str(project / "data/06_models/elsewhere")


def test_a_symlink_out_of_data_is_refused(dcgan_manifest, project, tmp_path):
    (tmp_path / "outside").mkdir()
    (project / "data" / "link").symlink_to(tmp_path / "outside")
    assert "training.resume_dir" in refusal(edited(dcgan_manifest, "parameters.training.resume_dir", "data/link/r"),
                                            project)


def test_a_domains_path_outside_data_is_refused(cogan_manifest, project):
    message = refusal(edited(cogan_manifest, "data_parameters.domain_b.staging_path", "/tmp/x"), project)
    assert "domain_b.data.staging_path" in message


@pytest.mark.parametrize(("setting", "value", "named"), [
    ("parameters.training.distributed.enabled", True, "training.distributed.enabled"),
    ("parameters.training.distributed.rdzv_endpoint", "attacker.example:29400", "rdzv_endpoint"),
    ("parameters.evaluation.download_inception", True, "evaluation.download_inception"),
    ("data_parameters.download", True, "data.download"),
])
def test_a_network_setting_is_refused(dcgan_manifest, project, setting, value, named):
    message = refusal(edited(dcgan_manifest, setting, value), project)
    assert named in message and "no network connection" in message


@pytest.mark.parametrize(("setting", "named"), [
    ("parameters.training.unknown", "training.unknown"),
    ("parameters.model.unknown", "model.unknown"),
    ("parameters.recipe.unknown", "recipe.unknown"),
    ("parameters.evaluation.unknown", "evaluation.unknown"),
    ("parameters.unknown", "dcgan.unknown"),
    ("data_parameters.unknown", "data.unknown"),
    ("data_parameters.validation.unknown", "data.validation.unknown"),
])
def test_an_unknown_setting_is_refused(dcgan_manifest, project, setting, named):
    assert named in refusal(edited(dcgan_manifest, setting, 1), project)


def test_an_unknown_domain_is_refused(cogan_manifest, project):
    manifest = edited(cogan_manifest, "data_parameters.domain_c", {"source": "mnist_builtin"})
    assert "domain_c" in refusal(manifest, project)


def test_a_setting_the_data_source_does_not_read_is_refused(dcgan_manifest, project):
    assert "data.style" in refusal(edited(dcgan_manifest, "data_parameters.style", "google"), project)


def test_an_interpolation_is_refused(dcgan_manifest, project):
    manifest = edited(dcgan_manifest, "parameters.training.resume_dir", "data/${oc.env:HOME}")
    assert "interpolation" in refusal(manifest, project)


@pytest.mark.parametrize(("variant", "name"), [("tracking", "tracking"), ("dcgan", "wgan"), ("wgan", "dcgan")])
def test_the_variant_must_be_registered_and_named_in_the_parameters(dcgan_manifest, project, variant, name):
    manifest = edited(edited(dcgan_manifest, "variant", variant), "parameters.name", name)
    refusal(manifest, project)


def test_a_warm_started_run_is_refused(dcgan_manifest, project):
    manifest = edited(dcgan_manifest, "training.warm_start", {"checkpoint_version": "2026-11-24T03.00.00.000Z"})
    assert "warm-started" in refusal(manifest, project)


@pytest.mark.parametrize("content", [
    b"not json at all",
    b"\xff\xfe\x00binary",
    b"[1, 2, 3]",
    b'{"variant": "dcgan"}',
    b"{}",
    b'{"variant": "dcgan\\nforged line"}',
])
def test_a_file_that_is_not_a_manifest_is_one_line(tmp_path, content):
    path = tmp_path / "run_manifest.json"
    path.write_bytes(content)
    with pytest.raises(ManifestError) as caught:
        read_manifest(path)
    assert "\n" not in str(caught.value) and "run_manifest.json" in str(caught.value)


def test_a_manifest_with_a_key_no_run_writes_is_refused(dcgan_manifest, tmp_path):
    path = tmp_path / "run_manifest.json"
    path.write_text(json.dumps({**dcgan_manifest, "runtime_params": {"tracking": {}}}))
    with pytest.raises(ManifestError, match="manifest.runtime_params"):
        read_manifest(path)


def test_every_path_setting_is_checked():
    """A new setting that names a file or folder must join the lists that the manifest check walks."""
    def path_like(model: type) -> set[str]:
        return {name for name in model.model_fields
                if name == "path" or name.endswith(("_dir", "_path", "_weights"))}

    assert path_like(TrainingConfig) == {key for section, key in CONFIG_PATHS if section == "training"}
    assert path_like(EvaluationConfig) == {key for section, key in CONFIG_PATHS if section == "evaluation"}
    assert path_like(DataParams) == set(DATA_PATHS)


def test_reproduce_refuses_in_one_line_before_writing_anything(dcgan_manifest, project, tmp_path, monkeypatch):
    outside = tmp_path / "outside"
    crafted = edited(dcgan_manifest, "parameters.training.resume_dir", str(outside / "resume"))
    crafted = edited(crafted, "data_parameters.staging_path", str(outside / "staging"))
    manifest_path = tmp_path / "run_manifest.json"
    manifest_path.write_text(json.dumps(crafted))
    before = sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*"))
    monkeypatch.chdir(project)
    result = CliRunner().invoke(cli, ["reproduce", str(manifest_path)])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith("Error: Not reproducing")
    assert "training.resume_dir" in result.output
    assert sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*")) == before
