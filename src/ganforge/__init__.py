"""GAN Forge: reproducible, versioned GAN experiments as Kedro pipelines."""

__version__ = "0.1.0"
