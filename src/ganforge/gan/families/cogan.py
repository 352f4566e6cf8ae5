"""``cogan`` — Liu & Tuzel 2016: coupled generators and discriminators sharing the layers that
carry content, trained on unpaired images of two domains; one z gives a pair of images."""

from __future__ import annotations

import ganforge.gan.networks.coupled  # noqa: F401  registers "coupled"
import ganforge.gan.recipes.coupled  # noqa: F401  registers the "coupled" recipe
from ganforge.gan.variants import VARIANTS, Variant

VARIANTS.register("cogan", Variant("coupled", "coupled GANs over two domains, sharing their content layers "
                                   "(Liu & Tuzel 2016)", scoring="pairs"))
