"""``kedro run --pipeline=data_processing``: ingest → validate → gate → normalize.

A variant that learns across two image domains (CycleGAN, CoGAN) runs this same pipeline once per
domain under the namespace ``<variant>_data.<domain>``: it reads ``params:<variant>.<domain>.data``
and writes ``<variant>_data.<domain>.model_input`` with its own manifest and validation report.
(A namespace apart from the variant's own: kedro-viz draws a namespace as one box, and a box that
both takes the feature cache and gives out data-layer datasets would order the layers in a circle.)
"""

from __future__ import annotations

from kedro.pipeline import Pipeline, node

from ganforge.gan.data import DOMAINS  # the two training sets of a two-domain variant

from .nodes import build_model_input, gate_validation, ingest_images, validate_manifest


def domain_namespace(variant: str, domain: str) -> str:
    return f"{variant}_data.{domain}"


def create_domain_pipeline(variant: str, domain: str) -> Pipeline:
    """This pipeline for one domain of ``variant`` (parameters ``<variant>.<domain>.data``, datasets
    under ``<variant>_data.<domain>``), validated and normalized exactly as a single training set is."""
    if domain not in DOMAINS:
        raise ValueError(f"domain must be one of {', '.join(DOMAINS)}, got '{domain}'")
    return Pipeline(create_pipeline(), namespace=domain_namespace(variant, domain), tags={variant},
                    parameters={"params:data": f"params:{variant}.{domain}.data"})


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
