"""What a new user does first: train on their own unlabeled photos offline, compare right away,
and make a configuration mistake."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from tests.kedro_project import VARIANTS, kedro, latest, make_project, tiny_params, write_unlabeled_folder

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def unlabeled_run(tmp_path_factory):
    """dcgan on a folder of 16×16 colour images with no class folders, offline."""
    root = tmp_path_factory.mktemp("first_steps")
    folder = write_unlabeled_folder(root / "faces", 96)
    project = make_project(root / "project")
    params = tiny_params(("dcgan",), epochs=1, **{"data.source": "image_folder", "data.path": str(folder),
                                                 "data.image_size": 16, "data.channels": 3, "data.limit": "null",
                                                 "evaluation.classifier.max_images": 50})
    result = kedro(project, "run", "--pipeline=dcgan", f"--params={params}")
    return project, result.stdout + result.stderr


def test_unlabeled_photos_train_and_score_offline(unlabeled_run):
    project, log = unlabeled_run
    metrics = json.loads(latest(project / "data/08_reporting/dcgan/metrics.json").read_text())
    assert metrics["score_label"] == "FD-rotation"
    assert metrics["backbone"]["name"] == "rotation_lenet"
    assert metrics["fid"] is not None and metrics["n_samples"] == 100


def test_compare_after_one_variant_reports_what_exists(unlabeled_run):
    project, _ = unlabeled_run
    result = kedro(project, "run", "--pipeline=compare")
    assert "Traceback" not in result.stderr
    report = latest(project / "data/08_reporting/comparison/comparison.md").read_text()
    assert "| dcgan" in report
    for variant in set(VARIANTS) - {"dcgan"}:
        assert f"`{variant}`: no scores yet" in report
    Image.open(latest(project / "data/08_reporting/comparison/sample_grids.png")).verify()


def test_a_user_error_is_one_line_and_writes_nothing(unlabeled_run):
    project, _ = unlabeled_run
    # the convolutional critic with BatchNorm (null clears the MLP's own keys)
    model = {"architecture": "dcgan", "generator_hidden": "null", "discriminator_hidden": "null",
             "base_channels": 4, "discriminator_norm": "batch"}
    params = tiny_params(("wgan_gp",), epochs=1,
                         **{f"wgan_gp.variant.model.{key}": value for key, value in model.items()})
    result = kedro(project, "run", "--pipeline=wgan_gp", f"--params={params}", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert output.count("BatchNorm makes each sample's score depend") == 1
    assert "Error (ConfigError): Variant 'wgan_gp' puts a gradient penalty" in result.stderr
    assert not (project / "data/06_models/wgan_gp").exists()
