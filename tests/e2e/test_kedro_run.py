"""The real thing: `kedro run` on a throw-away copy of the project, checked through the catalog."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import torch
from PIL import Image

from ganforge.gan import VARIANTS as REGISTERED_VARIANTS
from tests.kedro_project import (
    ONE_DOMAIN_VARIANTS,
    TWO_DOMAIN_VARIANTS,
    kedro,
    kedro_env,
    latest,
    make_project,
    tiny_params,
    tracked_runs,
    tracking_client,
    versions,
    write_unlabeled_folder,
)

pytestmark = pytest.mark.e2e

# the notebook test walks the same default run; run from this module, it shares this worker's copy
from tests.notebooks.notebook_run import (  # noqa: E402, F401
    kernel_for_this_interpreter,
    test_notebook_runs_against_a_tiny_run,
    tiny_run,
)


@pytest.fixture
def full_run(tiny_default_run):
    """`kedro run` of the default pipeline: data, all five variants, and the comparison."""
    return tiny_default_run


def test_default_pipeline_completes(full_run):
    _, log = full_run
    assert "Pipeline execution completed successfully" in log


@pytest.mark.parametrize("variant", ONE_DOMAIN_VARIANTS)
def test_every_artifact_is_in_the_catalog(full_run, variant):
    project, _ = full_run
    data = project / "data"
    checkpoint = torch.load(latest(data / f"06_models/{variant}/checkpoint.pt"), weights_only=True)
    for key in ("networks", "ema", "optimizers", "counters", "epoch", "step", "rng", "config", "normalization"):
        assert key in checkpoint, key
    assert set(checkpoint["networks"]) == set(checkpoint["optimizers"]) == {"generator", "discriminator"}
    assert checkpoint["epoch"] == 2

    history = pd.read_csv(latest(data / f"08_reporting/{variant}/training_history.csv"))
    assert list(history["epoch"]) == [1, 2]
    assert {"discriminator_loss", "generator_loss", "seconds", "images_per_second"} <= set(history.columns)
    if variant.startswith("wgan"):
        assert history["wasserstein_estimate"].notna().all()
    if variant == "wgan_gp":
        assert history["weighted_gradient_penalty"].notna().all()

    run_folders = [p for p in (data / f"07_model_output/{variant}/epoch_grids").iterdir() if p.is_dir()]
    assert len(run_folders) == 1
    assert sorted(p.name for p in run_folders[0].iterdir()) == ["epoch_0000.png", "epoch_0001.png", "epoch_0002.png"]
    gif = Image.open(latest(data / f"07_model_output/{variant}/progress.gif"))
    assert gif.n_frames == 3
    Image.open(latest(data / f"07_model_output/{variant}/final_grid.png")).verify()
    sweep = Image.open(latest(data / f"07_model_output/{variant}/truncation_grid.png"))
    assert sweep.height >= 4 * 2 * 28  # three thresholds and the untruncated row, two rows of samples each
    if "style_mixing" in REGISTERED_VARIANTS[variant].grids:
        mixing = Image.open(latest(data / f"07_model_output/{variant}/style_mixing_grid.png"))
        assert mixing.size == (52 + 9 * 30 + 2, 7 * 30 + 2)  # caption; a header row and column, 6 × 8 mixes
    Image.open(latest(data / f"08_reporting/{variant}/loss_curve.png")).verify()

    manifest = json.loads(latest(data / f"08_reporting/{variant}/run_manifest.json").read_text())
    assert manifest["seed"] == checkpoint["config"]["training"]["seed"]
    assert manifest["data"]["fingerprint"] == checkpoint["data_fingerprint"]
    assert {"torch", "kedro"} <= set(manifest["environment"]["packages"])
    assert manifest["run_id"] == run_folders[0].name

    samples = torch.load(latest(data / f"07_model_output/{variant}/samples.pt"), weights_only=True)
    assert samples["images"].shape[0] == 100 and samples["images"].dtype == torch.uint8
    metrics = json.loads(latest(data / f"08_reporting/{variant}/metrics.json").read_text())
    for key in ("variant", "run_id", "epoch", "backbone", "n_samples", "n_real", "fid", "kid", "precision",
                "recall", "seconds"):
        assert key in metrics, key
    assert metrics["truncation"] is None
    curve = pd.read_csv(latest(data / f"08_reporting/{variant}/score_curve.csv"))
    assert list(curve["epoch"]) == [1, 2]


@pytest.mark.parametrize("variant", TWO_DOMAIN_VARIANTS)
def test_every_two_domain_artifact_is_in_the_catalog(full_run, variant):
    project, _ = full_run
    data = project / "data"
    for domain in ("domain_a", "domain_b"):
        # each domain ingested, validated and normalized by the data pipeline under its namespace
        assert latest(data / f"05_model_input/{variant}/{domain}/model_input.pt").exists()
        assert latest(data / f"08_reporting/{variant}/{domain}/data_validation.json").exists()
    checkpoint = torch.load(latest(data / f"06_models/{variant}/checkpoint.pt"), weights_only=True)
    assert set(checkpoint["networks"]) == set(checkpoint["optimizers"])
    assert len(checkpoint["networks"]) == {"cyclegan": 4, "cogan": 2}[variant]
    assert set(checkpoint["domains"]) == {"domain_a", "domain_b"}
    manifest = json.loads(latest(data / f"08_reporting/{variant}/run_manifest.json").read_text())
    assert manifest["data"]["domain_b"]["fingerprint"] == checkpoint["domains"]["domain_b"]["fingerprint"]
    assert manifest["data_parameters"]["domain_b"]["source"] in ("sklearn_digits", "mnist_builtin")

    metrics = json.loads(latest(data / f"08_reporting/{variant}/metrics.json").read_text())
    scored = [metrics[name] for name in metrics["rows"]]
    assert all(scores["fid"] > 0 and scores["n_samples"] == 100 for scores in scored)
    assert metrics["fid"] == pytest.approx(sum(scores["fid"] for scores in scored) / 2)
    if variant == "cyclegan":
        assert metrics["rows"] == ["a_to_b", "b_to_a"]
        assert all(0 <= scores["label_preservation"] <= 1 and 0 <= scores["cycle_error"] <= 1 for scores in scored)
    else:
        assert metrics["rows"] == ["domain_a", "domain_b"] and 0 <= metrics["pair_agreement"] <= 1
    grid = Image.open(latest(data / f"07_model_output/{variant}/sample_grid.png"))
    assert grid.height >= 4 * 28  # translations: real, there and back per domain; pairs: A over B, twice
    history = pd.read_csv(latest(data / f"08_reporting/{variant}/training_history.csv"))
    assert list(history["epoch"]) == [1, 2]


def test_conditional_samples_are_class_balanced(full_run):
    project, _ = full_run
    samples = torch.load(latest(project / "data/07_model_output/cgan/samples.pt"), weights_only=True)
    # labels follow the training data's class shares rather than an exact balance
    counts = torch.bincount(samples["labels"], minlength=10)
    assert (counts > 0).all() and counts.max() - counts.min() > 1


def test_comparison_report(full_run):
    project, _ = full_run
    table = pd.read_csv(latest(project / "data/08_reporting/comparison/comparison_table.csv"))
    assert sorted(table["variant"]) == sorted(ONE_DOMAIN_VARIANTS)
    two_domain = pd.read_csv(latest(project / "data/08_reporting/comparison/two_domain_table.csv"))
    assert sorted(set(two_domain["variant"])) == sorted(TWO_DOMAIN_VARIANTS)
    report = latest(project / "data/08_reporting/comparison/comparison.md").read_text()
    assert "FD-classifier" in report and "wgan_gp" in report and "## Two-domain variants" in report
    Image.open(latest(project / "data/08_reporting/comparison/sample_grids.png")).verify()
    Image.open(latest(project / "data/08_reporting/comparison/score_versus_epoch.png")).verify()


def test_real_statistics_are_cached_and_reused(full_run, tmp_path):
    project, _ = full_run
    cache = project / "data/04_feature/feature_cache"
    before = {path.name: path.stat().st_mtime_ns for path in cache.iterdir()}
    assert any(name.startswith("real-") for name in before)
    # same evaluation settings as the run that filled the cache
    result = kedro(project, "run", "--pipeline=wgan_score", f"--params={tiny_params(epochs=2)}")
    log = result.stdout + result.stderr
    assert "reused from the cache" in log
    assert {path.name: path.stat().st_mtime_ns for path in cache.iterdir()} == before


def test_rescoring_an_old_checkpoint_version(full_run):
    project, _ = full_run
    checkpoint_versions = versions(project / "data/06_models/dcgan/checkpoint.pt")
    chosen = checkpoint_versions[0].name
    kedro(project, "run", "--pipeline=dcgan_score", f"--load-versions=dcgan.checkpoint:{chosen}",
          f"--params={tiny_params(epochs=2)}")
    metrics = json.loads(latest(project / "data/08_reporting/dcgan/metrics.json").read_text())
    assert metrics["checkpoint_version"] == chosen


def test_killed_training_resumes_from_last_completed_epoch(tmp_path):
    project = make_project(tmp_path / "project")
    params = tiny_params(("dcgan",), epochs=40, limit=512)
    command = [sys.executable, "-m", "kedro", "run", "--pipeline=dcgan", f"--params={params}"]
    process = subprocess.Popen(command, cwd=project, env=kedro_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    resume_dir = project / "data/06_models/resume"
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            files = list(resume_dir.glob("dcgan-*.pt")) if resume_dir.exists() else []
            if files:
                state = torch.load(files[0], weights_only=True)
                if state["epoch"] >= 2:
                    break
            time.sleep(0.5)
        else:
            pytest.fail("training never wrote a resume file")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    killed_at = torch.load(next(resume_dir.glob("dcgan-*.pt")), weights_only=True)["epoch"]
    assert killed_at < 40

    params = tiny_params(("dcgan",), epochs=killed_at + 1, limit=512)
    result = kedro(project, "run", "--pipeline=dcgan", f"--params={params}")
    assert f"Resuming 'dcgan' after epoch {killed_at}" in result.stdout + result.stderr
    history = pd.read_csv(latest(project / "data/08_reporting/dcgan/training_history.csv"))
    assert list(history["epoch"]) == list(range(1, killed_at + 2))
    # a finished run keeps its final state, marked finished, so raising epochs continues it
    assert torch.load(next(resume_dir.glob("dcgan-*.pt")), weights_only=True)["finished"]


def test_conditional_variant_on_unlabeled_data_fails_before_training(tmp_path):
    project = make_project(tmp_path / "project")
    folder = write_unlabeled_folder(tmp_path / "faces", 40)
    params = tiny_params(("cgan",), **{"data.source": "image_folder", "data.path": str(folder),
                                       "data.image_size": 16, "data.channels": 3, "data.limit": "null"})
    result = kedro(project, "run", "--pipeline=cgan", f"--params={params}", check=False)
    assert result.returncode != 0
    assert re.search(r"has no (class )?labels", result.stderr)
    assert "Traceback" not in result.stderr
    assert not (project / "data/06_models/cgan").exists()


@pytest.mark.parametrize("variant", ["dcgan", "cogan"])  # one data set; two domains, each with its data settings
def test_a_run_is_reproduced_from_its_manifest(full_run, variant):
    project, _ = full_run
    manifest = latest(project / f"data/08_reporting/{variant}/run_manifest.json")
    result = kedro(project, "reproduce", str(manifest))
    output = result.stdout + result.stderr
    assert "checkpoint digest: match" in output
    assert "Reproduced: identical data and checkpoint." in output
    runs = versions(project / f"data/08_reporting/{variant}/run_manifest.json")
    first, second = (json.loads((runs[i] / "run_manifest.json").read_text()) for i in (0, -1))
    assert first["training"]["checkpoint_digest"] == second["training"]["checkpoint_digest"]
    assert first["run_id"] != second["run_id"]


def test_params_may_not_send_a_runs_writes_outside_data(tmp_path):
    project = make_project(tmp_path / "project")
    outside = tmp_path / "outside"
    params = tiny_params(("dcgan",), **{"training_defaults.resume_dir": str(outside / "resume"),
                                        "data.staging_path": str(outside / "staging")})
    result = kedro(project, "run", "--pipeline=dcgan", f"--params={params}", check=False)
    assert result.returncode != 0
    assert "outside the project's data folder" in result.stderr and "Traceback" not in result.stderr
    assert not outside.exists() and not (project / "data/06_models/dcgan").exists()


def test_a_crafted_manifest_is_refused_before_anything_is_written(full_run, tmp_path):
    project, _ = full_run
    manifests = project / "data/08_reporting/dcgan/run_manifest.json"
    manifest = json.loads(latest(manifests).read_text())
    outside = tmp_path / "outside"
    manifest["parameters"]["training"].update(resume_dir=str(outside / "resume"), tensorboard=True,
                                              tensorboard_dir=str(outside / "tensorboard"))
    manifest["parameters"]["training"]["distributed"].update(enabled=True, rdzv_endpoint="127.0.0.1:29999")
    crafted = tmp_path / "run_manifest.json"
    crafted.write_text(json.dumps(manifest))
    before = versions(manifests)
    result = kedro(project, "reproduce", str(crafted), check=False)
    assert result.returncode == 1
    assert "Error: Not reproducing" in result.stderr and "training.resume_dir" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not outside.exists() and versions(manifests) == before


def test_a_run_logs_parameters_metric_histories_and_artifacts(tiny_default_run):
    project, _ = tiny_default_run
    run = tracked_runs(project)[0]  # other tests run more pipelines in this project afterwards
    client = tracking_client(project)
    assert run.info.status == "FINISHED" and run.info.run_name == "__default__"
    tags, params = run.data.tags, run.data.params
    kedro_run_id = versions(project / "data/06_models/wgan/checkpoint.pt")[0].name
    assert tags["kedro.run_id"] == kedro_run_id  # the save version of the run's checkpoint and reports
    assert set(tags["ganforge.variants"].split(",")) == set(ONE_DOMAIN_VARIANTS) | {"cogan", "cyclegan"}
    # the parameters as written (flattened) and as the run resolved them
    assert params["wgan.variant.training.epochs"] == "2" and params["wgan.resolved.training.epochs"] == "2"
    assert params["wgan.resolved.training.n_critic"] == "5"  # from wgan's own section over the defaults
    assert tags["wgan.data.source"] == "mnist_builtin" and len(tags["wgan.data.fingerprint"]) == 16
    assert tags["cyclegan.data.domain_b.source"] == "sklearn_digits"

    for variant in ("wgan", "cyclegan"):
        losses = client.get_metric_history(run.info.run_id, f"{variant}.train.generator_loss")
        assert sorted(metric.step for metric in losses) == [1, 2]  # one point per epoch
        assert client.get_metric_history(run.info.run_id, f"{variant}.train.images_per_second")
        assert run.data.metrics[f"{variant}.fid"] > 0
        logged = {artifact.path for artifact in client.list_artifacts(run.info.run_id, variant)}
        assert {f"{variant}/{name}" for name in ("final_grid.png", "progress.gif", "loss_curve.png",
                                                 "run_manifest.json")} <= logged
    curve = client.get_metric_history(run.info.run_id, "wgan.curve.fid")
    assert sorted(metric.step for metric in curve) == [1, 2]  # evaluation.every_n_epochs=1
