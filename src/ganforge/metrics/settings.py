"""The ``evaluation:`` settings, checked once: shared defaults merged with a variant's overrides."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ganforge.errors import ConfigError, validation_problems
from ganforge.utils import deep_merge, resolve_device

#: the backbones a score can be computed with (see ganforge.metrics.backbones.choose_backbone)
BACKBONE_KINDS = ("auto", "inception", "classifier", "rotation", "contrastive", "none")
#: the backbones trained on the real data by each run (once per data version: then cached)
TRAINED_BACKBONES = ("classifier", "rotation", "contrastive")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClassifierBackboneConfig(_Strict):
    epochs: int = Field(4, ge=1)
    batch_size: int = Field(128, ge=2)
    lr: float = Field(1e-3, gt=0)
    holdout_fraction: float = Field(0.1, gt=0, lt=1)
    seed: int = 0
    #: the rotation backbone trains on at most this many real images (×4 rotations)
    max_images: int = Field(5000, ge=10)


class ContrastiveBackboneConfig(_Strict):
    """The FD-contrastive backbone (ganforge.metrics.contrastive): SimCLR on the real images."""

    epochs: int = Field(15, ge=1)
    #: images per batch; the other 2·(batch − 1) views are each view's negatives
    batch_size: int = Field(256, ge=2)
    lr: float = Field(1e-3, gt=0)
    temperature: float = Field(0.2, gt=0)
    holdout_fraction: float = Field(0.1, gt=0, lt=1)
    seed: int = 0
    max_images: int = Field(5000, ge=10)


class EvaluationConfig(_Strict):
    backbone: Literal[BACKBONE_KINDS] = "auto"  # type: ignore[valid-type]
    inception_weights: str | None = None
    #: "auto" tries pytorch-fid's download when the machine is online
    download_inception: bool | Literal["auto"] = "auto"
    n_samples: int = Field(2000, ge=2)
    #: at least this many generated images for an Inception FID (2,048-d features: fewer bias it)
    min_inception_samples: int = Field(10000, ge=2)
    n_real: int | None = Field(None, ge=2)
    batch_size: int = Field(100, ge=1)
    use_ema: bool = True
    #: truncation trick for every sample: redraw latent values beyond ±truncation, or for a style
    #: generator move w towards the average w by ψ = truncation (null = off)
    truncation: float | None = Field(None, gt=0)
    #: thresholds shown side by side in the truncation grid (plus one untruncated row)
    truncation_sweep: list[float] = Field(default_factory=lambda: [0.5, 0.75, 1.0])
    #: the style-mixing grid: layers that take the row sample's (coarse) styles; null = those of
    #: the lower half of the resolutions
    style_mixing_layers: int | None = Field(None, ge=1)
    every_n_epochs: int = Field(0, ge=0)
    kid_subsets: int = Field(100, ge=1)
    kid_subset_size: int = Field(1000, ge=2)
    precision_recall_k: int = Field(3, ge=1)
    device: str = "auto"
    seed: int = 1234
    classifier: ClassifierBackboneConfig = ClassifierBackboneConfig()
    contrastive: ContrastiveBackboneConfig = ContrastiveBackboneConfig()


def resolve_evaluation_config(defaults: dict[str, Any], overrides: dict[str, Any] | None = None,
                              where: str = "evaluation", fix: str | None = None) -> dict[str, Any]:
    """``defaults`` (parameters_evaluation.yml) under a variant's own ``evaluation:`` section;
    ``fix`` ends the error message (by default: the parameters files to edit)."""
    try:
        config = EvaluationConfig.model_validate(deep_merge(defaults or {}, overrides)).model_dump(mode="json")
    except ValidationError as error:
        fix = fix or "Fix conf/base/parameters_evaluation.yml or the variant's evaluation: section."
        raise ConfigError(f"Invalid evaluation parameters: {validation_problems(error, where)}. {fix}") from None
    resolve_device(config["device"], f"{where}.device")
    return config
