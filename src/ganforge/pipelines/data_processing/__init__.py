"""The data pipeline: any supported source → validated, versioned ``model_input``."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
