"""CoGAN (Liu & Tuzel 2016, §3): a pair of GANs, one per domain, trained together on unpaired
images. Each step draws one z for both generators, so the shared layers must learn content that
both domains render, and each domain's discriminator judges its own domain; the two losses are
summed, so a shared weight gets one update from both domains' gradients.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ganforge.gan.data import DomainPair
from ganforge.gan.recipes import RECIPES, StepContext, require_plain_objective
from ganforge.gan.recipes.adversarial import AdversarialRecipe


@RECIPES.register("coupled")
class CoupledRecipe(AdversarialRecipe):
    """The alternating recipe's networks, optimizers and objective; its own step over two domains."""

    history_columns = ("discriminator_loss", "generator_loss")

    def __init__(self, config: dict[str, Any], spec: dict[str, Any]) -> None:
        require_plain_objective(config)
        super().__init__(config, spec)

    def train_step(self, batch: DomainPair, step: StepContext) -> None:
        generator, judge, objective = self.networks["generator"], self.networks["discriminator"], self.objective
        noise = step.noise(batch.size, self.spec["latent_dim"])
        with step.autocast(objective.supports_bf16):
            fakes = generator(noise)
            judge_loss = sum(
                objective.discriminator_loss(judge(step.augment(real), domain).float(),
                                             judge(step.augment(fake.detach()), domain).float())
                for domain, (real, fake) in enumerate(zip((batch.a.real, batch.b.real), fakes, strict=True)))
        step.optimize("discriminator", judge_loss)
        with step.autocast(objective.supports_bf16):
            generator_loss = sum(objective.generator_loss(judge(step.augment(fake), domain).float())
                                 for domain, fake in enumerate(fakes))
        step.optimize("generator", generator_loss)
        step.log(discriminator_loss=judge_loss, generator_loss=generator_loss)

    def grid_inputs(self, count: int, seed: int, device: torch.device, data: Any = None) -> dict[str, Any]:
        """Noise for ``count / 2`` pairs."""
        return super().grid_inputs(max(1, count // 2), seed, device, data)

    def generate(self, networks: dict[str, nn.Module], inputs: dict[str, Any]) -> torch.Tensor:
        """Pairs side by side: A₁ B₁ A₂ B₂ … (each pair from one z)."""
        return interleave_pairs(*networks["generator"](inputs["noise"]))


def interleave_pairs(images_a: torch.Tensor, images_b: torch.Tensor) -> torch.Tensor:
    return torch.stack([images_a, images_b], dim=1).flatten(0, 1)
