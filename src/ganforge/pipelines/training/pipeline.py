"""Training nodes wired into a pipeline (namespaced per variant in ``pipelines/experiment.py``)."""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from .nodes import configure_experiment, plot_training_history, render_grids, train, write_run_manifest

def create_training_pipeline() -> Pipeline:
    return Pipeline(
        [
            Node(configure_experiment,
                 ["params:training_defaults", "params:variant", "params:evaluation", "model_input"],
                 "experiment_config", name="configure_experiment"),
            Node(train, ["model_input", "experiment_config"],
                 ["checkpoint", "training_history", "epoch_samples", "generator_snapshots", "training_info"],
                 name="train"),
            Node(render_grids, ["epoch_samples", "experiment_config", "run_info"],
                 ["epoch_grids", "final_grid", "progress_gif"], name="render_grids"),
            Node(plot_training_history, ["training_history", "experiment_config"], "loss_curve",
                 name="plot_training_history"),
            Node(write_run_manifest, ["experiment_config", "model_input", "training_info", "run_info"],
                 "run_manifest", name="write_run_manifest"),
        ],
        tags={"training"},
    )
