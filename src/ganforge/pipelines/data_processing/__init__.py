"""The data pipeline: any supported source → validated, versioned ``model_input``."""

from .pipeline import DOMAINS, create_domain_pipeline, create_pipeline, domain_namespace

__all__ = ["DOMAINS", "create_domain_pipeline", "create_pipeline", "domain_namespace"]
