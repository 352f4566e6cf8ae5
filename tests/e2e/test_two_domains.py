"""Two-domain variants from the command line: a user's own unpaired folders in CycleGAN's
trainA/trainB layout through scheduled retraining and rescoring, CoGAN's champion comparison,
and a missing domain."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from tests.kedro_project import champion, kedro, latest, make_project, tiny_params, write_unlabeled_folder

pytestmark = pytest.mark.e2e


def test_unlabeled_train_a_and_train_b_folders_retrain_and_rescore(tmp_path):
    project = make_project(tmp_path / "project")
    root = tmp_path / "horse2zebra"
    domains = {}
    for domain, folder in (("domain_a", "trainA"), ("domain_b", "trainB")):
        write_unlabeled_folder(root / folder, count=40)
        domains.update({f"cyclegan.{domain}.data.source": "image_folder", f"cyclegan.{domain}.data.path": root / folder,
                        f"cyclegan.{domain}.data.image_size": 16, f"cyclegan.{domain}.data.channels": 3})
    params = tiny_params(("cyclegan",), epochs=1, **domains)
    kedro(project, "run", "--pipeline=retrain_cyclegan", f"--params={params}")
    assert champion(project, "cyclegan")["registry_version"] == 1
    metrics = json.loads(latest(project / "data/08_reporting/cyclegan/metrics.json").read_text())
    assert metrics["a_to_b"]["score_label"] == "FD-rotation"  # no labels: the rotation backbone
    assert metrics["a_to_b"]["label_preservation"] is None and metrics["fid"] > 0

    result = kedro(project, "run", "--pipeline=cyclegan_score", f"--params={params}")
    assert "reused from the cache" in result.stdout + result.stderr
    rescored = json.loads(latest(project / "data/08_reporting/cyclegan/metrics.json").read_text())
    assert rescored["fid"] == pytest.approx(metrics["fid"])


def test_cogan_retrains_against_its_champion_and_generates_pairs_from_it(tmp_path):
    project = make_project(tmp_path / "project")
    params = tiny_params(("cogan",), epochs=1)
    kedro(project, "run", "--pipeline=retrain_cogan", f"--params={params}")
    # the same data again: promote_unchanged_data lets the (impossible) margin decide
    result = kedro(project, "run", "--pipeline=retrain_cogan",
                   f"--params={params},retrain.promotion_margin=1.0,retrain.promote_unchanged_data=true")
    assert "Warm start from the checkpoint" in result.stdout + result.stderr
    decision = json.loads(latest(project / "data/08_reporting/cogan/promotion_decision.json").read_text())
    assert decision["promoted"] is False and "does not beat" in decision["reason"]
    assert decision["champion"]["real_statistics_key"] == decision["candidate"]["real_statistics_key"]

    # generating from the champion (the default, through the registry alias): each PNG a pair from
    # one noise, A left, B right (tests/e2e/test_generate.py checks a named version gives the same bytes)
    generate = "generate.count=4,generate.interpolation.steps=2"
    kedro(project, "run", "--pipeline=generate_cogan", f"--params={generate}")
    record = json.loads(latest(project / "data/08_reporting/cogan/generation_record.json").read_text())
    assert record["checkpoint_version"] == champion(project, "cogan")["checkpoint_version"]
    (generated,) = (project / "data/07_model_output/cogan/generated").iterdir()
    assert [Image.open(path).size for path in sorted(generated.glob("*.png"))] == [(56, 28)] * 4


def test_a_missing_domain_is_one_clear_error_and_writes_nothing(tmp_path):
    project = make_project(tmp_path / "project")
    parameters = project / "conf/base/parameters_cyclegan.yml"
    text = parameters.read_text()
    start, end = text.index("  domain_b:"), text.index("  variant:")
    parameters.write_text(text[:start] + text[end:])
    result = kedro(project, "run", "--pipeline=cyclegan", check=False)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error (")]
    assert len(errors) == 1 and "Missing parameters cyclegan.domain_b.data" in errors[0]
    assert not (project / "data/06_models").exists() or not any((project / "data/06_models").rglob("*.pt"))
