"""``kedro run --pipeline=data_processing``: ingest → validate → gate → normalize.

A variant that learns across two image domains (CycleGAN, CoGAN) runs this same pipeline once per
domain under the namespace ``<variant>.<domain>``: it reads ``params:<variant>.<domain>.data`` and
writes ``<variant>.<domain>.model_input`` with its own manifest and validation report.
"""

from __future__ import annotations

from kedro.pipeline import Pipeline, node

from .nodes import build_model_input, gate_validation, ingest_images, validate_manifest

#: the two training sets of a two-domain variant, each a namespace of this pipeline
DOMAINS = ("domain_a", "domain_b")


def create_domain_pipeline(variant: str, domain: str) -> Pipeline:
    """This pipeline for one domain of ``variant`` (parameters and datasets under
    ``<variant>.<domain>``), validated and normalized exactly as a single training set is."""
    if domain not in DOMAINS:
        raise ValueError(f"domain must be one of {', '.join(DOMAINS)}, got '{domain}'")
    return Pipeline(create_pipeline(), namespace=f"{variant}.{domain}", tags={variant})


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                ingest_images,
                inputs="params:data",
                outputs=["raw_images", "image_manifest", "data_source_info"],
                name="ingest_images",
            ),
            node(
                validate_manifest,
                inputs=["image_manifest", "data_source_info", "params:data"],
                outputs=["data_validation_report", "data_validation_summary"],
                name="validate_manifest",
            ),
            # A separate node so the report and summary are saved before the run can stop.
            node(
                gate_validation,
                inputs=["data_validation_report", "params:data"],
                outputs="data_validation_gate",
                name="gate_validation",
            ),
            # Depends on the gate: on failure nothing downstream is written and earlier
            # versions of model_input stay as they were.
            node(
                build_model_input,
                inputs=["raw_images", "data_validation_gate"],
                outputs="model_input",
                name="build_model_input",
            ),
        ]
    )
