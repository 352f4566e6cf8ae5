"""SNGAN (Miyato et al. 2018): every discriminator layer spectrally normalized, so the
discriminator is 1-Lipschitz per layer without a penalty, trained with the hinge loss.

The default networks are the convolutional ones of ``dcgan`` (``model.spectral_norm:
discriminator``, no BatchNorm in the discriminator); ``model.architecture: resnet`` gives the
paper's residual networks. The alternating recipe is the classic one.
"""

from __future__ import annotations

import ganforge.gan.networks.dcgan  # noqa: F401  registers "dcgan"
import ganforge.gan.networks.resnet  # noqa: F401  registers "resnet" (the ResNet option)
import ganforge.gan.recipes.adversarial  # noqa: F401  registers "adversarial"
from ganforge.gan.variants import VARIANTS, Variant

VARIANTS.register("sngan", Variant("adversarial", "spectrally normalized discriminator, hinge loss "
                                                  "(Miyato et al. 2018)"))
