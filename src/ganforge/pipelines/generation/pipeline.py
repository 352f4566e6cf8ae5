"""Used inside a variant's namespace: pick the checkpoint, write the images, the grid and the
latent interpolation."""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from .nodes import choose_checkpoint, generate_images, latent_interpolation


def create_pipeline() -> Pipeline:
    return Pipeline(
        [
            Node(choose_checkpoint, ["checkpoint_versions", "champion_registry", "params:generate", "params:variant"],
                 ["generation_checkpoint", "generation_version"], name="choose_checkpoint"),
            Node(generate_images, ["generation_checkpoint", "generation_version", "params:generate", "run_info"],
                 ["generated_images", "generated_grid", "generation_record"], name="generate_images"),
            Node(latent_interpolation, ["generation_checkpoint", "params:generate"], "latent_interpolation",
                 name="latent_interpolation"),
        ],
        tags={"generate"},
    )
