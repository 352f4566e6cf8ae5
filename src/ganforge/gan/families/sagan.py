"""SAGAN (Zhang et al. 2019): self-attention blocks in the generator and the discriminator, so
distant parts of an image can agree; spectral normalization in both networks, the hinge loss and
the two time-scale update rule (the discriminator learns 4× faster than the generator).

The networks are the convolutional ones (``model.architecture: dcgan`` or ``resnet``) with
``model.attention_resolution`` set; the alternating recipe is the classic one.
"""

from __future__ import annotations

import ganforge.gan.networks.dcgan  # noqa: F401  registers "dcgan"
import ganforge.gan.networks.resnet  # noqa: F401  registers "resnet"
import ganforge.gan.recipes.adversarial  # noqa: F401  registers "adversarial"
from ganforge.gan.variants import VARIANTS, Variant

VARIANTS.register("sagan", Variant("adversarial", "self-attention, spectral norm in both networks, hinge "
                                                  "loss, two time-scale updates (Zhang et al. 2019)"))
