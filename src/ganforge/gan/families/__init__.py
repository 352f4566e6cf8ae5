"""Every module in this package is a family: it registers its networks, objectives, recipes and
variants on import. Adding a family is adding a module here (and its parameters file)."""

from __future__ import annotations

import importlib
import pkgutil


def load_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
