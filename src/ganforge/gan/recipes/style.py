"""StyleGAN2's training step (Karras et al. 2020, with the 2019 paper's style mixing).

Losses: the non-saturating logistic loss, softplus(D(fake)) + softplus(−D(real)) for the
discriminator and softplus(−D(fake)) for the generator. Regularizers are *lazy* (StyleGAN2,
§3.1): R1 on the real images, γ/2 · E‖∇D(x)‖², is a separate discriminator step every
``r1_interval`` steps, multiplied by the interval so its average strength is unchanged; likewise
the optional path-length penalty for the generator every ``path_length_interval`` steps. Adam's
learning rate and β's are adjusted for the extra steps as the paper does: with c = k / (k + 1)
for an interval k, lr · c and β^c.

Style mixing: with probability ``style_mixing`` a generated image uses two latents, the first's w
up to a random layer and the second's after it, so that neighbouring layers' styles do not learn
to depend on each other. Each generator step moves the tracked average w (for truncation).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from ganforge.errors import ConfigError
from ganforge.gan.data import Batch
from ganforge.gan.networks import build_discriminator, build_generator
from ganforge.gan.objectives import r1_penalty
from ganforge.gan.recipes import RECIPES, Recipe, RecipeOptions, StepContext


class StyleRecipeOptions(RecipeOptions):
    #: γ of R1 (StyleGAN2 uses 10 for FFHQ; smaller images want less)
    r1_gamma: float = Field(10.0, ge=0)
    r1_interval: int = Field(16, ge=1)
    #: probability that an image mixes two latents' styles
    style_mixing: float = Field(0.9, ge=0, le=1)
    #: weight of the path-length penalty (0: off; the paper's 2)
    path_length_weight: float = Field(0.0, ge=0)
    path_length_interval: int = Field(4, ge=1)
    #: decay of the running mean path length the penalty pulls towards
    path_length_decay: float = Field(0.01, gt=0, le=1)


def lazy_adam(parameters: Any, lr: float, betas: tuple[float, float], interval: int | None) -> torch.optim.Adam:
    """Adam for a network regularized every ``interval`` steps (None: never), lr and β adjusted."""
    ratio = interval / (interval + 1) if interval else 1.0
    return torch.optim.Adam(parameters, lr=lr * ratio, betas=(betas[0] ** ratio, betas[1] ** ratio))


@RECIPES.register("style")
class StyleRecipe(Recipe):
    options = StyleRecipeOptions
    history_columns = ("discriminator_loss", "generator_loss", "r1_penalty", "path_length_penalty")
    # the generator is used through map() and synthesize() (mixing, path length), which
    # DistributedDataParallel does not see
    data_parallel = False

    def __init__(self, config: dict[str, Any], spec: dict[str, Any]) -> None:
        super().__init__(config, spec)
        if config["objective"]["loss"] != "bce":
            raise ConfigError(f"Variant '{config['name']}' trains with the non-saturating logistic loss and R1 "
                              "(recipe.r1_gamma): set objective.loss: bce.")
        self.settings = config["recipe"]
        self.steps = 0  # training steps taken: the lazy regularizers' clock
        self.path_length_mean = 0.0

    def build_networks(self) -> dict[str, nn.Module]:
        return {"generator": build_generator(self.spec), "discriminator": build_discriminator(self.spec)}

    def build_optimizers(self, networks: dict[str, nn.Module]) -> dict[str, torch.optim.Optimizer]:
        optimizer, settings = self.config["optimizer"], self.settings
        betas = tuple(optimizer["betas"])
        path_interval = settings["path_length_interval"] if settings["path_length_weight"] else None
        return {
            "generator": lazy_adam(networks["generator"].parameters(), optimizer["lr_generator"], betas, path_interval),
            "discriminator": lazy_adam(networks["discriminator"].parameters(), optimizer["lr_discriminator"], betas,
                                       settings["r1_interval"] if settings["r1_gamma"] else None),
        }

    def styles(self, count: int, step: StepContext) -> tuple[torch.Tensor, torch.Tensor]:
        """(one w per layer for ``count`` images, the first latent's w), mixed as configured."""
        generator = self.networks["generator"]
        w = generator.map(step.noise(count, self.spec["latent_dim"]))
        second = generator.map(step.noise(count, self.spec["latent_dim"]))
        layers = torch.arange(generator.num_ws, device=w.device)
        crossover = step.random.randint(1, generator.num_ws, count, device=w.device)
        mixing = step.random.rand(count, device=w.device) < self.settings["style_mixing"]
        crossover = torch.where(mixing, crossover, torch.full_like(crossover, generator.num_ws))
        use_second = (layers[None] >= crossover[:, None])[..., None]
        return torch.where(use_second, second[:, None], w[:, None]), w

    def train_step(self, batch: Batch, step: StepContext) -> None:
        generator, critic, settings = self.networks["generator"], self.networks["discriminator"], self.settings
        with step.autocast():
            with torch.no_grad():  # the discriminator's step needs no graph through the generator
                fake = generator.synthesize(self.styles(batch.size, step)[0])
            real_scores = critic(step.augment(batch.real))
            fake_scores = critic(step.augment(fake))
            critic_loss = F.softplus(fake_scores.float()).mean() + F.softplus(-real_scores.float()).mean()
        step.optimize("discriminator", critic_loss)
        step.log(discriminator_loss=critic_loss)
        self.steps += 1
        if settings["r1_gamma"] and self.steps % settings["r1_interval"] == 0:
            penalty = r1_penalty(critic, batch.real) * (settings["r1_gamma"] / 2)
            step.optimize("discriminator", penalty * settings["r1_interval"])
            step.log(r1_penalty=penalty)

        with step.autocast():
            ws, w = self.styles(batch.size, step)
            generator_loss = F.softplus(-critic(step.augment(generator.synthesize(ws))).float()).mean()
        step.optimize("generator", generator_loss)
        generator.track_w_avg(w)
        step.log(generator_loss=generator_loss)
        if settings["path_length_weight"] and self.steps % settings["path_length_interval"] == 0:
            penalty = self.path_length_penalty(batch.size, step) * settings["path_length_weight"]
            step.optimize("generator", penalty * settings["path_length_interval"])
            step.log(path_length_penalty=penalty)

    def path_length_penalty(self, count: int, step: StepContext) -> torch.Tensor:
        """(‖J_wᵀ y‖ − a)² for images' random projections y, a the running mean length
        (StyleGAN2, §3.2): a unit step in w should change the image by a fixed amount. fp32."""
        generator = self.networks["generator"]
        ws, _ = self.styles(max(count // 2, 1), step)
        images = generator.synthesize(ws)
        projection = torch.randn_like(images) / math.sqrt(images.shape[2] * images.shape[3])
        (gradients,) = torch.autograd.grad((images * projection).sum(), ws, create_graph=True)
        lengths = gradients.pow(2).sum(dim=2).mean(dim=1).sqrt()
        mean = self.path_length_mean + self.settings["path_length_decay"] * (lengths.mean().item()
                                                                             - self.path_length_mean)
        self.path_length_mean = mean
        return (lengths - mean).pow(2).mean()

    def state_dict(self) -> dict[str, Any]:
        return {"steps": self.steps, "path_length_mean": self.path_length_mean}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.steps = int(state.get("steps", 0))
        self.path_length_mean = float(state.get("path_length_mean", 0.0))
