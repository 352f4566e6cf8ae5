"""Evaluation nodes: per-variant settings, sample counts, conditional sampling, the report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from ganforge.gan import draw, resolve_experiment_config, train
from ganforge.metrics import resolve_evaluation_config
from ganforge.pipelines.compare.nodes import comparison_markdown, comparison_table, time_to_quality
from ganforge.pipelines.evaluation.nodes import configure_evaluation, prepare_real_features, sample_count
from tests.training.conftest import TINY_DEFAULTS, VARIANT_SNIPPETS, make_model_input

SMALL = {"download_inception": False, "classifier": {"epochs": 1, "batch_size": 16, "max_images": 40},
         "device": "cpu"}


def test_a_variants_evaluation_overrides_reach_the_real_statistics():
    model_input = make_model_input(count=64)
    shared = resolve_evaluation_config(SMALL)
    own = configure_evaluation(SMALL, {"name": "dcgan", "evaluation": {"n_real": 20, "classifier": {"seed": 5}}})
    assert own["n_real"] == 20 and own["classifier"]["seed"] == 5 and own["classifier"]["epochs"] == 1
    shared_backbone, shared_real, cache = prepare_real_features(model_input, shared, {})
    own_backbone, own_real, _ = prepare_real_features(model_input, own, {})
    assert shared_real["n_real"] == 64 and own_real["n_real"] == 20
    assert own_real["cache_key"] != shared_real["cache_key"]
    assert own_backbone["describe"]["weights_fingerprint"] != shared_backbone["describe"]["weights_fingerprint"]
    assert any(key.startswith("classifier-") for key in cache)


def test_unlabeled_data_gets_the_rotation_backbone_and_none_skips_scoring():
    unlabeled = make_model_input(count=48, classes=0)
    backbone, real, _ = prepare_real_features(unlabeled, resolve_evaluation_config(SMALL), {})
    assert backbone["kind"] == "rotation" and backbone["describe"]["score_label"] == "FD-rotation"
    assert real["features"].shape == (48, backbone["describe"]["feature_dim"])
    backbone, real, updates = prepare_real_features(unlabeled, resolve_evaluation_config({**SMALL, "backbone": "none"}),
                                                    {})
    assert backbone["kind"] == "none" and real == {} and updates == {}


def test_inception_scores_use_enough_samples():
    settings = resolve_evaluation_config({"n_samples": 2000})
    assert sample_count({"kind": "inception"}, settings) == 10000
    assert sample_count({"kind": "classifier"}, settings) == 2000
    assert sample_count({"kind": "inception"}, resolve_evaluation_config({"n_samples": 20000})) == 20000


def test_conditional_samples_follow_the_class_shares(tmp_path):
    model_input = make_model_input(count=40, classes=4)
    model_input["labels"] = torch.tensor([0] * 25 + [1] * 5 + [2] * 5 + [3] * 5)
    config = resolve_experiment_config({**TINY_DEFAULTS, "epochs": 1, "resume": False,
                                        "resume_dir": str(tmp_path)}, VARIANT_SNIPPETS["cgan"])
    checkpoint = train(model_input, config).checkpoint
    assert checkpoint["class_frequencies"] == pytest.approx([0.625, 0.125, 0.125, 0.125])
    images, labels = draw(checkpoint, checkpoint["ema"]["generator"], 4000, batch_size=500, device="cpu", seed=1)
    shares = torch.bincount(labels, minlength=4).double() / 4000
    assert shares[0] == pytest.approx(0.625, abs=0.03) and shares[3] == pytest.approx(0.125, abs=0.03)
    again, _ = draw(checkpoint, checkpoint["ema"]["generator"], 4000, batch_size=500, device="cpu", seed=1)
    assert torch.equal(images, again)


def _metrics(variant, fid, n_samples=2000, conditional=False, fingerprint="abc"):
    return {"variant": variant, "fid": fid, "kid": 0.1, "kid_std": 0.01, "precision": 0.5, "recall": 0.5,
            "epoch": 3, "n_samples": n_samples, "n_real": 5000, "score_label": "FD-classifier",
            "conditional": conditional, "run_id": "r", "checkpoint_version": "r",
            "backbone": {"name": "classifier_lenet", "weights_fingerprint": fingerprint}}


def test_the_report_ranks_only_comparable_scores_together():
    table = comparison_table(gan=_metrics("gan", 30.0), dcgan=_metrics("dcgan", 20.0, n_samples=500),
                             cgan=_metrics("cgan", 5.0, conditional=True), wgan=None)
    report = comparison_markdown(table, time_to_quality(gan=pd.DataFrame(), wgan=None))
    sections = report.split("## ")
    unconditional_2000 = next(s for s in sections if "unconditional" in s and "2000 generated" in s)
    assert "| gan" in unconditional_2000 and "dcgan" not in unconditional_2000 and "cgan" not in unconditional_2000
    assert any("conditional variants" in s and "| cgan" in s and "unconditional" not in s for s in sections)
    assert "`wgan`: no scores yet" in report


def test_time_to_quality_reports_the_first_scored_crossing_of_each_target():
    curve = pd.DataFrame({"epoch": [10, 20, 30, 40], "train_seconds": [50.0, 100.0, 150.0, 200.0],
                          "fid": [140.0, 90.0, 60.0, 45.0], "score_label": "FD-classifier",
                          "backbone": "classifier_lenet"})
    quality = time_to_quality(sngan=curve, wgan=curve.assign(fid=[300.0, 250.0, 200.0, 150.0])).set_index("variant")
    assert quality.loc["sngan", "seconds_to_100"] == 100.0 and quality.loc["sngan", "seconds_to_50"] == 200.0
    assert quality.loc["sngan", "score_at_1_min"] == 140.0 and quality.loc["sngan", "score_at_2_min"] == 90.0
    assert np.isnan(quality.loc["wgan", "seconds_to_100"])


def test_truncated_scoring_is_recorded_and_the_sweep_shows_every_threshold(tmp_path):
    from ganforge.pipelines.evaluation.nodes import render_truncation_sweep, sample_images

    config = resolve_experiment_config({**TINY_DEFAULTS, "epochs": 1, "resume": False, "resume_dir": str(tmp_path)},
                                       VARIANT_SNIPPETS["dcgan"])
    checkpoint = train(make_model_input(count=16, classes=0), config).checkpoint
    settings = resolve_evaluation_config({"n_samples": 8, "truncation": 0.5, "truncation_sweep": [0.25, 1.0],
                                          "device": "cpu"})
    samples = sample_images(checkpoint, {"kind": "classifier"}, settings)
    assert samples["truncation"] == 0.5 and samples["images"].shape[0] == 8
    sweep = render_truncation_sweep(checkpoint, settings)
    assert sweep.height >= 3 * 2 * 16  # two thresholds and the untruncated rows, 16 px images
