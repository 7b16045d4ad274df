"""Model name -> class. Model modules register themselves with ``@register``."""
from __future__ import annotations

import difflib
import importlib
import pkgutil

from gankit.errors import GankitError

_MODELS: dict[str, type] = {}


def register(cls: type) -> type:
    if cls.name in _MODELS:
        raise RuntimeError(f"model name '{cls.name}' registered twice")
    _MODELS[cls.name] = cls
    return cls


def _import_all() -> None:
    import gankit.models

    for info in pkgutil.walk_packages(gankit.models.__path__, prefix="gankit.models."):
        importlib.import_module(info.name)


def all_models() -> dict[str, type]:
    _import_all()
    return dict(sorted(_MODELS.items()))


def get_model(name: str) -> type:
    models = all_models()
    if name not in models:
        close = difflib.get_close_matches(name, list(models), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise GankitError(f"unknown model '{name}'{hint}; run 'gankit list' to see the models.")
    return models[name]
