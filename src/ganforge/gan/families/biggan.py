"""BigGAN (Brock et al. 2019), scaled down with every defining part: class-conditional BatchNorm
driven by a shared class embedding and a chunk of a hierarchical latent per generator block, a
projection discriminator, spectral normalization (of both networks in the paper, of the
discriminator in the CPU default), the hinge loss, off-diagonal orthogonal regularization of the
generator (``objective.orthogonal_regularization``) and the truncation trick at sampling
(``evaluation.truncation``, with the truncation grid). Class-conditional: needs labeled data.
"""

from __future__ import annotations

import ganforge.gan.networks.biggan  # noqa: F401  registers "biggan" and the orthogonal initializer
import ganforge.gan.recipes.adversarial  # noqa: F401  registers "adversarial"
from ganforge.gan.variants import VARIANTS, Variant

VARIANTS.register("biggan", Variant("adversarial", "class-conditional BatchNorm, hierarchical latent, projection "
                                                   "discriminator, orthogonal regularization (Brock et al. 2019)",
                                    conditional=True))
