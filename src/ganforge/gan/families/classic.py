"""The classic families: one alternating recipe, two architectures, three objectives.

* ``gan`` — Goodfellow et al. 2014: MLP networks, non-saturating BCE.
* ``dcgan`` — Radford et al. 2016: (transposed) convolutions with BatchNorm, N(0, 0.02) init.
* ``wgan`` — Arjovsky et al. 2017: Wasserstein critic, weight clipping, n_critic = 5, RMSprop.
* ``wgan_gp`` — Gulrajani et al. 2017: Wasserstein critic with a gradient penalty, no BatchNorm.
* ``cgan`` — Mirza & Osindero 2014: both networks see the class label.
"""

from __future__ import annotations

import ganforge.gan.networks.dcgan  # noqa: F401  registers "dcgan"
import ganforge.gan.networks.mlp  # noqa: F401  registers "mlp"
import ganforge.gan.recipes.adversarial  # noqa: F401  registers "adversarial"
from ganforge.gan.variants import VARIANTS, Variant

VARIANTS.register("gan", Variant("adversarial", "MLP networks, non-saturating BCE (Goodfellow et al. 2014)"))
VARIANTS.register("dcgan", Variant("adversarial", "convolutional networks, BCE (Radford et al. 2016)"))
VARIANTS.register("wgan", Variant("adversarial", "Wasserstein critic with weight clipping (Arjovsky et al. 2017)"))
VARIANTS.register("wgan_gp", Variant("adversarial", "Wasserstein critic with gradient penalty (Gulrajani et al. 2017)"))
VARIANTS.register("cgan", Variant("adversarial", "class-conditional MLP networks (Mirza & Osindero 2014)",
                                  conditional=True))
