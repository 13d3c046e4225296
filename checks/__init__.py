"""The library of inspection checks: one small module per check, each defining `CHECK`.

`checks.spec` says what a check is, `checks.rules` how its points are
judged. The collector's check engine routes every stored point to the checks
whose `Applies` match it; nothing else imports a check module by name.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from checks.spec import Check

_INFRASTRUCTURE = frozenset({"spec", "rules", "overrides"})


@cache
def library() -> dict[str, Check]:
    """Every shipped check by id; two modules claiming one id is an error."""
    found: dict[str, Check] = {}
    for module in pkgutil.iter_modules(__path__):
        if module.name in _INFRASTRUCTURE or module.name.startswith("_"):
            continue
        check = getattr(importlib.import_module(f"{__name__}.{module.name}"), "CHECK", None)
        if not isinstance(check, Check):
            raise TypeError(f"checks/{module.name}.py defines no CHECK")
        if check.id in found:
            raise ValueError(f"check id {check.id!r} is defined twice (checks/{module.name}.py)")
        found[check.id] = check
    return dict(sorted(found.items()))
