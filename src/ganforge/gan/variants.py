"""The variants GAN Forge ships, registered by the family modules in ``ganforge.gan.families``.

A variant is a name (its pipeline, its ``conf/base/parameters_<name>.yml`` and its ``<name>.*``
catalog entries), the recipe that trains it, a line on what it is, and how many image domains
it learns from (two: CycleGAN, CoGAN, each domain under ``<name>.domain_a`` / ``domain_b``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ganforge.registry import Registry


@dataclass(frozen=True)
class Variant:
    recipe: str
    summary: str
    conditional: bool = False
    #: what the scoring pipeline evaluates: "samples" of one generator, or over two domains
    #: "translations" between them (CycleGAN) or "pairs" drawn from one z (CoGAN)
    scoring: str = "samples"
    #: pictures the scoring pipeline draws beyond the sample and truncation grids, each saved as
    #: ``<variant>.<name>_grid`` ("style_mixing": coarse styles of one sample, fine of another)
    grids: tuple[str, ...] = ()

    @property
    def domains(self) -> int:
        return 1 if self.scoring == "samples" else 2


VARIANTS: Registry[Variant] = Registry("variant", "the pipeline name / variant.name")


def recipe_of(name: str) -> str:
    return VARIANTS[name].recipe


def domains_of(name: str) -> int:
    return VARIANTS[name].domains
