"""The champion/challenger verdict of a scheduled retraining run, without a run."""

from __future__ import annotations

from ganforge.pipelines.retraining.nodes import decide_promotion

BACKBONE = {"name": "classifier", "weights_fingerprint": "b1"}


def scores(fid: float, data: str) -> dict:
    return {"variant": "dcgan", "fid": fid, "score_label": "FD-classifier", "backbone": BACKBONE,
            "real_statistics_key": "r1", "n_samples": 100, "data_fingerprint": data}


def decide(candidate: dict, champion: dict, **retrain) -> dict:
    update, _ = decide_promotion(candidate, champion, {"checkpoint_version": "v1"},
                                 {"promotion_margin": 0.02, **retrain}, {"run_id": "run"})
    return update


def test_a_win_on_new_data_promotes():
    update = decide(scores(10.0, "new"), scores(20.0, "old"))
    assert update["promoted"] and "beats" in update["reason"]


def test_a_win_on_the_champions_own_data_does_not_promote():
    update = decide(scores(10.0, "same"), scores(20.0, "same"))
    assert not update["promoted"] and "has not changed" in update["reason"]
    assert "promote_unchanged_data" in update["reason"]  # the way out is named


def test_promote_unchanged_data_lets_the_margin_decide():
    assert decide(scores(10.0, "same"), scores(20.0, "same"), promote_unchanged_data=True)["promoted"]
    assert not decide(scores(19.9, "same"), scores(20.0, "same"), promote_unchanged_data=True)["promoted"]
