"""Progressive growing (Karras et al. 2018, §2): train at the lowest resolution, then fade in
each next level over ``recipe.fade_images`` images and stabilize it for ``recipe.stable_images``,
up to the data's size. Each step is the alternating adversarial step at the current resolution:
the real images are average-pooled to it (and faded like the generator's output, so both sides
of the discriminator see the same blend).

The schedule is counted in images shown to the discriminator; that count is the recipe's state,
saved with every resume point, so a run killed mid-fade continues at the same level, the same α
and the same image count. The generator's moving average restarts its warm-up with each level.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from pydantic import Field

from ganforge.errors import ConfigError
from ganforge.gan.data import Batch
from ganforge.gan.recipes import RECIPES, RecipeOptions, StepContext
from ganforge.gan.recipes.adversarial import AdversarialRecipe


class GrowthOptions(RecipeOptions):
    #: images each level trains at full strength (the lowest level: only this)
    stable_images: int = Field(50_000, ge=1)
    #: images over which a new level's α rises from 0 to 1
    fade_images: int = Field(50_000, ge=1)


@dataclass(frozen=True)
class GrowthSchedule:
    levels: int
    stable_images: int
    fade_images: int

    def at(self, images: int) -> tuple[int, float]:
        """(level, α) after ``images`` images: level 0 stable, then per level a fade and a stable
        phase; the last level stays."""
        if images < self.stable_images:
            return 0, 1.0
        period = self.fade_images + self.stable_images
        level, within = divmod(images - self.stable_images, period)
        level += 1
        if level >= self.levels:
            return self.levels - 1, 1.0
        return level, min(1.0, within / self.fade_images)

    @property
    def full_resolution_at(self) -> int:
        """Images after which the last level is fully faded in."""
        return (self.levels - 1) * (self.fade_images + self.stable_images)


@RECIPES.register("progressive")
class ProgressiveRecipe(AdversarialRecipe):
    options = GrowthOptions
    # the generator samples through synthesize() and the growth level is set on the networks
    data_parallel = False

    def __init__(self, config: dict[str, Any], spec: dict[str, Any]) -> None:
        super().__init__(config, spec)
        self.images_seen = 0

    def bind(self, networks: dict[str, torch.nn.Module]) -> None:
        super().bind(networks)
        settings = self.config["recipe"]
        self.schedule = GrowthSchedule(networks["generator"].levels, settings["stable_images"],
                                       settings["fade_images"])
        self._apply_schedule(self.networks.values())

    def on_train_start(self, images_per_epoch: int, epochs: int) -> None:
        needed, planned = self.schedule.full_resolution_at, images_per_epoch * epochs
        if needed > planned:
            raise ConfigError(
                f"Variant '{self.config['name']}' reaches full resolution after {needed:,} images (epoch "
                f"{math.ceil(needed / images_per_epoch)}), but training.epochs = {epochs} shows only {planned:,}. "
                "Raise training.epochs or lower recipe.stable_images / recipe.fade_images.")

    def _apply_schedule(self, networks: Iterable[torch.nn.Module]) -> None:
        """Every network (and averaged copy) at the level and α of the next step, so grids,
        snapshots and checkpoints taken between steps draw as training stands."""
        level, alpha = self.schedule.at(self.images_seen)
        for network in networks:
            network.set_progress(level, alpha)

    def real_images(self, batch: Batch) -> torch.Tensor:
        generator = self.networks["generator"]
        factor = generator.image_size // generator.resolution()
        real = F.avg_pool2d(batch.real, factor) if factor > 1 else batch.real
        if generator.fading:
            coarse = F.interpolate(F.avg_pool2d(real, 2), scale_factor=2, mode="nearest")
            real = torch.lerp(coarse, real, generator.alpha)
        return real

    def fake_images(self, noise: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        return self.networks["generator"].synthesize(noise)

    def train_step(self, batch: Batch, step: StepContext) -> None:
        super().train_step(batch, step)
        level = self.networks["generator"].level
        self.images_seen += batch.size
        self._apply_schedule([*self.networks.values(), *(average.model for average in step.ema.values())])
        if self.networks["generator"].level != level:
            # A new level begins: the average restarts its warm-up, so it follows the growing
            # generator within a few hundred steps instead of mixing in the coarser one. (With the
            # paper's 800k images a phase, a 0.999 average forgets the last level anyway; with 35k,
            # averaged weights of 14×14 training made final 28×28 samples FD-classifier 112, the
            # live generator's 74.)
            for average in step.ema.values():
                average.updates = 0

    def progress(self) -> dict[str, float]:
        level, alpha = self.schedule.at(self.images_seen)
        return {"resolution": self.networks["generator"].resolution(level), "alpha": alpha}

    @property
    def at_full_quality(self) -> bool:
        return self.schedule.at(self.images_seen) == (self.schedule.levels - 1, 1.0)

    def state_dict(self) -> dict[str, Any]:
        return {"images_seen": self.images_seen}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.images_seen = int(state.get("images_seen", 0))
        self._apply_schedule(self.networks.values())
