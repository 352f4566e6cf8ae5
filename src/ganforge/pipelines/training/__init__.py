"""Training: one engine and one pipeline serve every GAN variant."""

from .pipeline import create_experiment_pipeline

# Each name has conf/base/parameters_<name>.yml with a top-level ``<name>.variant`` section.
VARIANTS = ("gan", "dcgan", "wgan", "wgan_gp", "cgan")

__all__ = ["VARIANTS", "create_experiment_pipeline"]
