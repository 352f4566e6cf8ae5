"""The experiment configuration: shared training defaults merged with one variant's settings,
checked in full before any training starts."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ganforge.errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelConfig(_Strict):
    architecture: Literal["mlp", "dcgan"] = "dcgan"
    latent_dim: int = Field(100, ge=1)
    base_channels: int = Field(64, ge=1)
    generator_hidden: tuple[int, ...] = (128, 256, 512, 1024)
    discriminator_hidden: tuple[int, ...] = (512, 256)
    discriminator_norm: Literal["batch", "layer", "none"] = "batch"
    conditional: bool = False
    embedding_dim: int = Field(16, ge=1)
    init: Literal["dcgan", "default"] = "default"


class ObjectiveConfig(_Strict):
    loss: Literal["bce", "minimax", "wasserstein"] = "bce"
    clip_value: float | None = Field(None, gt=0)
    gradient_penalty: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _wasserstein_needs_a_constraint(self) -> ObjectiveConfig:
        if self.loss == "wasserstein" and not (self.clip_value or self.gradient_penalty):
            raise ValueError(
                "a Wasserstein critic needs objective.clip_value (WGAN) or "
                "objective.gradient_penalty (WGAN-GP)"
            )
        if self.loss != "wasserstein" and (self.clip_value or self.gradient_penalty):
            raise ValueError("clip_value and gradient_penalty only apply to loss: wasserstein")
        return self


class OptimizerConfig(_Strict):
    name: Literal["adam", "rmsprop"] = "adam"
    lr_generator: float = Field(2e-4, gt=0)
    lr_discriminator: float = Field(2e-4, gt=0)
    betas: tuple[float, float] = (0.5, 0.999)


class EmaConfig(_Strict):
    enabled: bool = True
    decay: float = Field(0.999, gt=0, lt=1)


class TrainingConfig(_Strict):
    device: str = "auto"
    precision: Literal["fp32", "bf16"] = "fp32"
    num_threads: int | None = Field(None, ge=1)
    seed: int = 42
    epochs: int = Field(10, ge=1)
    batch_size: int = Field(64, ge=2)
    n_critic: int = Field(1, ge=1)
    ema: EmaConfig = EmaConfig()
    resume: bool = True
    resume_dir: str = "data/06_models/resume"
    grid_size: int = Field(64, ge=1)
    grid_rows: int = Field(8, ge=1)
    log_every: int = Field(25, ge=1)
    tensorboard: bool = False
    tensorboard_dir: str = "data/08_reporting/tensorboard"
    deterministic: bool = True


class ClassifierBackboneConfig(_Strict):
    epochs: int = Field(4, ge=1)
    batch_size: int = Field(128, ge=2)
    lr: float = Field(1e-3, gt=0)
    holdout_fraction: float = Field(0.1, gt=0, lt=1)
    seed: int = 0


class EvaluationConfig(_Strict):
    backbone: Literal["auto", "inception", "classifier"] = "auto"
    inception_weights: str | None = None
    n_samples: int = Field(2000, ge=2)
    n_real: int | None = Field(None, ge=2)
    batch_size: int = Field(100, ge=1)
    use_ema: bool = True
    every_n_epochs: int = Field(0, ge=0)
    kid_subsets: int = Field(100, ge=1)
    kid_subset_size: int = Field(1000, ge=2)
    precision_recall_k: int = Field(3, ge=1)
    device: str = "auto"
    seed: int = 1234
    download_inception: bool = False
    classifier: ClassifierBackboneConfig = ClassifierBackboneConfig()


class ExperimentConfig(_Strict):
    name: str
    description: str = ""
    model: ModelConfig = ModelConfig()
    objective: ObjectiveConfig = ObjectiveConfig()
    optimizer: OptimizerConfig = OptimizerConfig()
    training: TrainingConfig = TrainingConfig()
    evaluation: EvaluationConfig = EvaluationConfig()


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def resolve_experiment_config(
    training_defaults: dict[str, Any],
    variant: dict[str, Any],
    evaluation_defaults: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge the shared ``training_defaults`` (and ``evaluation_defaults``) under the variant's own
    ``training`` (and ``evaluation``) sections and validate it all.

    Raises:
        ConfigError: naming every bad key with its location, e.g. ``wgan.training.n_critic``.
    """
    name = (variant or {}).get("name", "<unnamed>")
    merged = dict(variant or {})
    merged["training"] = _deep_merge(training_defaults or {}, (variant or {}).get("training", {}))
    merged["evaluation"] = _deep_merge(evaluation_defaults or {}, (variant or {}).get("evaluation", {}))
    try:
        config = ExperimentConfig.model_validate(merged)
    except ValidationError as error:
        problems = "; ".join(
            f"{name}.{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}"
            for issue in error.errors()
        )
        raise ConfigError(
            f"Invalid configuration for variant '{name}': {problems}. "
            f"Fix conf/base/parameters_{name}.yml (or parameters_training.yml / "
            "parameters_evaluation.yml for shared defaults)."
        ) from None
    return config.model_dump(mode="json")


def resolve_evaluation_config(evaluation: dict[str, Any]) -> dict[str, Any]:
    """Validate the shared ``evaluation`` parameters on their own (for the shared nodes)."""
    try:
        return EvaluationConfig.model_validate(evaluation or {}).model_dump(mode="json")
    except ValidationError as error:
        problems = "; ".join(
            f"evaluation.{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}"
            for issue in error.errors()
        )
        raise ConfigError(
            f"Invalid evaluation parameters: {problems}. Fix conf/base/parameters_evaluation.yml."
        ) from None


def resume_key(config: dict[str, Any], data_fingerprint: str) -> str:
    """Identifies a training run for resuming: everything that changes the result except the
    number of epochs (so a run can be extended) and bookkeeping options."""
    relevant = copy.deepcopy(config)
    for key in ("epochs", "resume", "resume_dir", "log_every", "tensorboard", "tensorboard_dir", "device",
                "num_threads"):
        relevant["training"].pop(key, None)
    relevant.pop("description", None)
    relevant.pop("evaluation", None)
    payload = json.dumps({"config": relevant, "data": data_fingerprint}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]
