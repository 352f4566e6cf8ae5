"""GAN Forge's GAN library: networks, objectives, training recipes and the engine.

Plain PyTorch, no Kedro. Families register themselves by name (``ganforge.gan.families``);
:func:`train` runs any registered variant on a ``model_input`` dict (uint8 images N×C×H×W,
labels, normalization recipe, fingerprint).
"""

from ganforge.gan.config import check_config_against_data, resolve_experiment_config
from ganforge.gan.data import DOMAINS, is_two_domain, pair_domains, seeded_subset
from ganforge.gan.engine import (
    TrainingResult,
    check_input,
    finish_resume_state,
    input_geometry,
    require_labels_if_conditional,
    spec_for,
)
from ganforge.gan.families import load_all as _load_families
from ganforge.gan.networks import ARCHITECTURES, build_discriminator, build_generator, model_spec
from ganforge.gan.objectives import OBJECTIVES, build_objective
from ganforge.gan.recipes import RECIPES
from ganforge.gan.sampling import (
    draw,
    draw_pairs,
    interpolation_path,
    mix_styles,
    render,
    sampling_weights,
    slerp,
    translate,
    translator_weights,
)
from ganforge.gan.state import upgrade_checkpoint
from ganforge.gan.training import train
from ganforge.gan.variants import VARIANTS, domains_of

_load_families()

__all__ = [
    "ARCHITECTURES",
    "DOMAINS",
    "OBJECTIVES",
    "RECIPES",
    "VARIANTS",
    "TrainingResult",
    "build_discriminator",
    "build_generator",
    "build_objective",
    "check_config_against_data",
    "check_input",
    "domains_of",
    "draw",
    "draw_pairs",
    "finish_resume_state",
    "input_geometry",
    "interpolation_path",
    "is_two_domain",
    "pair_domains",
    "mix_styles",
    "model_spec",
    "require_labels_if_conditional",
    "render",
    "resolve_experiment_config",
    "sampling_weights",
    "seeded_subset",
    "slerp",
    "spec_for",
    "train",
    "translate",
    "translator_weights",
    "upgrade_checkpoint",
]
