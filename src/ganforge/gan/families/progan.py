"""ProGAN (Karras et al. 2018): networks grown from a low resolution to the data's size, each
new level faded in; pixelwise feature normalization in the generator, equalized learning rate in
both networks, the minibatch standard deviation in the discriminator, and the WGAN-GP loss with
a small drift term on the real scores.

Networks: ``model.architecture: progressive``; schedule: the ``recipe:`` section
(``stable_images``, ``fade_images``); loss: ``objective.loss: wasserstein`` with
``gradient_penalty`` and ``drift``.
"""

from __future__ import annotations

import ganforge.gan.networks.progressive  # noqa: F401  registers "progressive"
import ganforge.gan.recipes.progressive  # noqa: F401  registers the "progressive" recipe
from ganforge.gan.variants import VARIANTS, Variant

VARIANTS.register("progan", Variant("progressive", "progressive growing, pixel norm, equalized learning rate, "
                                                   "minibatch stddev, WGAN-GP (Karras et al. 2018)"))
