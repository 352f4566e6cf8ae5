"""An experiment's training configuration: shared defaults merged with one variant's settings,
checked in full before any training starts.

The ``model:`` section is checked by the options class of its architecture and ``objective.loss``
against the objective registry, so a new family's settings are validated like the built-in ones.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ganforge.errors import ConfigError, validation_problems
from ganforge.gan.augment import AUGMENTATIONS
from ganforge.gan.networks import ARCHITECTURES, INITIALIZERS, build_discriminator, contains_batch_norm, model_spec
from ganforge.gan.objectives import OBJECTIVES
from ganforge.gan.recipes import RECIPES
from ganforge.gan.variants import VARIANTS, recipe_of
from ganforge.utils import deep_merge, resolve_device


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ObjectiveConfig(_Strict):
    loss: str = "bce"
    clip_value: float | None = Field(None, gt=0)
    gradient_penalty: float | None = Field(None, gt=0)
    #: ε of the drift penalty ε·E[D(real)²] on a Wasserstein critic (ProGAN: 0.001)
    drift: float | None = Field(None, gt=0)
    #: β of the generator's off-diagonal orthogonal regularization (BigGAN: 1e-4); any loss
    orthogonal_regularization: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _constraints_fit_the_loss(self) -> ObjectiveConfig:
        if self.loss == "wasserstein" and not (self.clip_value or self.gradient_penalty):
            raise ValueError(
                "a Wasserstein critic needs objective.clip_value (WGAN) or "
                "objective.gradient_penalty (WGAN-GP)"
            )
        if self.loss != "wasserstein" and (self.clip_value or self.gradient_penalty or self.drift):
            raise ValueError("clip_value, gradient_penalty and drift only apply to loss: wasserstein")
        if self.clip_value and self.gradient_penalty:
            raise ValueError(
                "use objective.clip_value or objective.gradient_penalty, not both: clipping bounds "
                "the critic's weights, which keeps its gradient norm away from the 1 the penalty asks for"
            )
        return self


class OptimizerConfig(_Strict):
    name: Literal["adam", "rmsprop"] = "adam"
    lr_generator: float = Field(2e-4, gt=0)
    lr_discriminator: float = Field(2e-4, gt=0)
    betas: tuple[float, float] = (0.5, 0.999)


class EmaConfig(_Strict):
    enabled: bool = True
    decay: float = Field(0.999, gt=0, lt=1)


class DistributedConfig(_Strict):
    """Data-parallel training on torch.distributed (``training.distributed``): the train node
    launches ``nproc_per_node`` worker processes per node with the elastic launcher."""

    enabled: bool = False
    nproc_per_node: int = Field(2, ge=1)
    nnodes: int = Field(1, ge=1)
    #: host:port of the rendezvous (node 0); localhost:0 lets one node pick a free port
    rdzv_endpoint: str = "localhost:0"
    #: how long the nodes wait for each other at the rendezvous
    rdzv_timeout_seconds: int = Field(900, ge=1)
    #: auto = NCCL on CUDA, gloo on CPU
    backend: Literal["auto", "nccl", "gloo"] = "auto"


class TrainingConfig(_Strict):
    device: str = "auto"
    precision: Literal["fp32", "bf16"] = "fp32"
    num_threads: int | None = Field(None, ge=1)
    #: convolution weights and batches stored channels-last (NHWC), which CPU and GPU convolutions
    #: run faster on (benchmarks/bench_training.py); off by default so runs stay bit-identical
    channels_last: bool = False
    seed: int = 42
    epochs: int = Field(10, ge=1)
    batch_size: int = Field(64, ge=2)
    n_critic: int = Field(1, ge=1)
    #: DiffAugment operations for the discriminator's inputs, in order: color, translation, cutout
    augment: list[str] = []
    ema: EmaConfig = EmaConfig()
    resume: bool = True
    resume_dir: str = "data/06_models/resume"
    grid_size: int = Field(64, ge=1)
    grid_rows: int = Field(8, ge=1)
    log_every: int = Field(25, ge=1)
    tensorboard: bool = False
    tensorboard_dir: str = "data/08_reporting/tensorboard"
    deterministic: bool = True
    #: a training set stored as shards: hold it in (device) memory, stream it from disk, or
    #: auto = in memory when its pixels fit in memory_budget_gb
    data_in_memory: Literal["auto"] | bool = "auto"
    memory_budget_gb: float = Field(4.0, gt=0)
    #: DataLoader worker processes that read a streamed set's shards
    data_loader_workers: int = Field(2, ge=0)
    distributed: DistributedConfig = DistributedConfig()


class ExperimentConfig(_Strict):
    name: str
    description: str = ""
    model: dict[str, Any] = {"architecture": "dcgan"}
    objective: ObjectiveConfig = ObjectiveConfig()
    optimizer: OptimizerConfig = OptimizerConfig()
    training: TrainingConfig = TrainingConfig()
    #: the recipe's own settings, checked by its options class
    recipe: dict[str, Any] = {}
    # checked by the evaluation settings (ganforge.metrics.settings), kept here as given
    evaluation: dict[str, Any] = {}


def _validated(schema: type[BaseModel], value: Any, prefix: str, name: str, fix: str) -> dict[str, Any]:
    try:
        return schema.model_validate(value).model_dump(mode="json")
    except ValidationError as error:
        raise ConfigError(
            f"Invalid configuration for variant '{name}': {validation_problems(error, prefix)}. {fix}"
        ) from None


def resolve_experiment_config(
    training_defaults: dict[str, Any], variant: dict[str, Any], fix: str | None = None
) -> dict[str, Any]:
    """Merge the shared ``training_defaults`` under the variant's own ``training`` section and
    validate it all. ``fix`` ends the error message (by default: the parameters file to edit).

    Raises:
        ConfigError: naming every bad key with its location, e.g. ``wgan.training.n_critic``,
            or a ``training.device`` that this machine does not have.
    """
    name = (variant or {}).get("name", "<unnamed>")
    fix = fix or f"Fix conf/base/parameters_{name}.yml (or parameters_training.yml for shared defaults)."
    merged = dict(variant or {})
    merged["training"] = deep_merge(training_defaults or {}, (variant or {}).get("training", {}))
    config = _validated(ExperimentConfig, merged, name, name, fix)
    architecture = config["model"].get("architecture", "dcgan")
    options = ARCHITECTURES[architecture].options
    # a key set to null is left out: its architecture's default applies, and an environment that
    # switches architecture (conf/photos) can clear the keys of the one it replaces
    model = {key: value for key, value in config["model"].items() if value is not None}
    config["model"] = _validated(options, {**model, "architecture": architecture}, f"{name}.model", name, fix)
    if name in VARIANTS:
        options = RECIPES[recipe_of(name)].options
        config["recipe"] = _validated(options, config["recipe"], f"{name}.recipe", name, fix)
    INITIALIZERS[config["model"]["init"]]
    OBJECTIVES[config["objective"]["loss"]]
    for operation in config["training"]["augment"]:
        AUGMENTATIONS[operation]
    resolve_device(config["training"]["device"])  # a device this machine lacks is known before any node runs
    return config


def check_config_against_data(config: dict[str, Any], channels: int, image_size: int, num_classes: int) -> None:
    """What the configuration alone cannot tell: can the networks be built for this data, and
    do the objective and the discriminator go together."""
    ARCHITECTURES[config["model"]["architecture"]].check_fit(config["model"], image_size)
    if config["objective"].get("gradient_penalty"):
        with torch.device("meta"):  # shapes only: no memory, no random numbers
            critic = build_discriminator(model_spec(config["model"], channels, image_size, num_classes))
        if contains_batch_norm(critic):
            raise ConfigError(
                f"Variant '{config['name']}' puts a gradient penalty on a critic with BatchNorm: the "
                "penalty is a per-sample gradient norm, and BatchNorm makes each sample's score depend "
                "on the rest of the batch. Set model.discriminator_norm: layer (or none)."
            )
