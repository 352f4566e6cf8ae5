"""StyleGAN, in its StyleGAN2 form (Karras et al. 2019, 2020), scaled to small images: a mapping
network z → w, a learned constant input, modulated and demodulated convolutions with per-layer
noise, skip outputs; a residual discriminator; the non-saturating logistic loss with lazy R1
(and optionally path-length) regularization, style mixing, and the truncation trick in w space
around a tracked average w. Unconditional.

Networks: ``model.architecture: style``; regularization and mixing: the ``recipe:`` section
(``r1_gamma``, ``r1_interval``, ``style_mixing``, ``path_length_weight``, ...). Sampling with
``evaluation.truncation`` sets ψ; each run also draws a style-mixing grid.
"""

from __future__ import annotations

import ganforge.gan.networks.style  # noqa: F401  registers "style"
import ganforge.gan.recipes.style  # noqa: F401  registers the "style" recipe
from ganforge.gan.variants import VARIANTS, Variant

VARIANTS.register("stylegan", Variant("style", "mapping network, modulated convolutions, noise inputs, style "
                                               "mixing, lazy R1, truncation in w (Karras et al. 2019/2020)",
                                      grids=("style_mixing",)))
