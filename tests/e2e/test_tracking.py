"""MLflow tracking of real `kedro run`s: what a run logs, read back through MLflow's client, and
what happens when the tracking server cannot be reached."""

from __future__ import annotations

import socket

import pytest

from tests.kedro_project import ONE_DOMAIN_VARIANTS, kedro, make_project, tracked_runs, tracking_client, versions

pytestmark = pytest.mark.e2e


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
