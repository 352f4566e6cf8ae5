"""The experiment pipeline, instantiated once per GAN variant with a Kedro namespace."""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from .nodes import configure_experiment, plot_training_history, render_grids, train, write_run_manifest

# Datasets every variant shares rather than namespacing them.
SHARED_INPUTS = {"model_input", "run_info"}
SHARED_PARAMETERS = {"params:training_defaults"}


def create_training_pipeline() -> Pipeline:
    return Pipeline(
        [
            Node(configure_experiment, ["params:training_defaults", "params:variant"],
                 "experiment_config", name="configure_experiment"),
            Node(train, ["model_input", "experiment_config"],
                 ["checkpoint", "training_history", "epoch_samples", "training_info"], name="train"),
            Node(render_grids, ["epoch_samples", "experiment_config", "run_info"],
                 ["epoch_grids", "final_grid", "progress_gif"], name="render_grids"),
            Node(plot_training_history, ["training_history", "experiment_config"], "loss_curve",
                 name="plot_training_history"),
            Node(write_run_manifest, ["experiment_config", "model_input", "training_info", "run_info"],
                 "run_manifest", name="write_run_manifest"),
        ]
    )


def create_experiment_pipeline(variant: str) -> Pipeline:
    """Training (and, once added, sampling and evaluation) for one variant, namespaced by name:
    its parameters come from ``params:<variant>.variant`` and its artifacts are ``<variant>.*``."""
    return Pipeline(
        create_training_pipeline(),
        namespace=variant,
        inputs=SHARED_INPUTS,
        parameters=SHARED_PARAMETERS,
        tags={variant, "experiment"},
    )
