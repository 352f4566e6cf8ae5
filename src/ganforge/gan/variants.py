"""The variants GAN Forge ships, registered by the family modules in ``ganforge.gan.families``.

A variant is a name (its pipeline, its ``conf/base/parameters_<name>.yml`` and its ``<name>.*``
catalog entries), the recipe that trains it, and a line on what it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from ganforge.registry import Registry


@dataclass(frozen=True)
class Variant:
    recipe: str
    summary: str
    conditional: bool = False


VARIANTS: Registry[Variant] = Registry("variant", "the pipeline name / variant.name")


def recipe_of(name: str) -> str:
    return VARIANTS[name].recipe
