"""`kedro run --pipeline=sweep_<variant>`: the variant once per seed as namespaced pipelines,
summarized as mean ± std, also in the compare report."""

from __future__ import annotations

import json
import statistics

import torch

from tests.kedro_project import kedro, latest, make_project, tiny_params


def test_a_sweep_trains_each_seed_and_reports_mean_and_std(tmp_path):
    project = make_project(tmp_path / "project")
    (project / "conf/local/parameters_sweep.yml").write_text("sweep:\n  seeds: [4, 9]\n")
    kedro(project, "run", "--pipeline=sweep_dcgan", f"--params={tiny_params(('dcgan',), epochs=1)}")

    checkpoints = {seed: torch.load(latest(project / f"data/06_models/dcgan.seed_{seed}/checkpoint.pt"),
                                    weights_only=True) for seed in (4, 9)}
    assert [checkpoints[seed]["config"]["training"]["seed"] for seed in (4, 9)] == [4, 9]
    first, second = (checkpoints[seed]["networks"]["generator"] for seed in (4, 9))
    assert any(not torch.equal(first[name], second[name]) for name in first)  # different seeds, different models
    scores = [json.loads(latest(project / f"data/08_reporting/dcgan.seed_{seed}/metrics.json").read_text())["fid"]
              for seed in (4, 9)]
    summary = json.loads(latest(project / "data/08_reporting/dcgan/sweep_summary.json").read_text())
    assert summary["n"] == 2
    assert summary["mean"]["fid"] == statistics.fmean(scores)
    assert summary["std"]["fid"] == statistics.stdev(scores)
    assert [member["member"] for member in summary["members"]] == ["seed_4", "seed_9"]

    kedro(project, "run", "--pipeline=compare")
    report = latest(project / "data/08_reporting/comparison/comparison.md").read_text()
    assert "## Over seeds" in report
    assert f"{statistics.fmean(scores):.4g} ± {statistics.stdev(scores):.2g}" in report
