"""``cyclegan`` — Zhu et al. 2017: unpaired image-to-image translation between two domains with
ResNet translators, PatchGAN discriminators, least squares, cycle and identity losses."""

from __future__ import annotations

import ganforge.gan.networks.translation  # noqa: F401  registers "translation"
import ganforge.gan.recipes.cycle  # noqa: F401  registers the "cycle" recipe
from ganforge.gan.variants import VARIANTS, Variant

VARIANTS.register("cyclegan", Variant("cycle", "unpaired translation A ↔ B: cycle-consistent ResNet translators, "
                                      "PatchGAN discriminators (Zhu et al. 2017)",
                                      scoring="translations"))
