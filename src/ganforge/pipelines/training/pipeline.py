"""Training nodes wired into a pipeline (namespaced per variant in ``pipelines/experiment.py``)."""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from .nodes import (
    configure_experiment,
    plot_training_history,
    render_grids,
    train,
    train_from_champion,
    write_run_manifest,
)

TRAINING_OUTPUTS = ["checkpoint", "training_history", "epoch_samples", "generator_snapshots", "training_info"]


def create_training_pipeline(warm_start: bool = False, variant_settings: str = "params:variant") -> Pipeline:
    """Configure, train and render. With ``warm_start`` (scheduled retraining) training starts
    from the variant's champion checkpoint when ``retrain.warm_start`` says so.
    ``variant_settings`` is where the variant's settings come from (a sweep member's are the
    variant's with its own seed)."""
    if warm_start:
        train_node = Node(train_from_champion,
                          ["model_input", "experiment_config", "champion_checkpoint", "params:retrain"],
                          TRAINING_OUTPUTS, name="train")
    else:
        train_node = Node(train, ["model_input", "experiment_config"], TRAINING_OUTPUTS, name="train")
    return Pipeline(
        [
            Node(configure_experiment,
                 ["params:training_defaults", variant_settings, "evaluation_config", "model_input"],
                 "experiment_config", name="configure_experiment"),
            train_node,
            Node(render_grids, ["epoch_samples", "experiment_config", "run_info"],
                 ["epoch_grids", "final_grid", "progress_gif"], name="render_grids"),
            Node(plot_training_history, ["training_history", "experiment_config"], "loss_curve",
                 name="plot_training_history"),
            Node(write_run_manifest, ["experiment_config", "model_input", "training_info", "run_info"],
                 "run_manifest", name="write_run_manifest"),
        ],
        tags={"training"},
    )
