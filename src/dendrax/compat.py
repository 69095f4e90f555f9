"""Run libraries written for Jaxley on dendrax, unedited.

Packages built on Jaxley's public API (jaxley-mech and similar) import ``jaxley``,
``jaxley.channels``, ``jaxley.solver_gate`` and so on. After :func:`alias_jaxley`, each of
those imports resolves to the dendrax module of the same dotted path (``jaxley.channels``
*is* ``dendrax.channels``), so such a package runs on dendrax as it is::

    import dendrax.compat

    dendrax.compat.alias_jaxley()
    from jaxley_mech.channels.l5pc import NaTs2T  # its `from jaxley.channels import ...` is dendrax

Setting the environment variable ``DENDRAX_ALIAS_JAXLEY=1`` before ``import dendrax`` does
the same, for scripts that cannot be edited at all.

The alias is a finder at the front of ``sys.meta_path``: it takes precedence over a real
Jaxley installation, and it refuses to start once a real ``jaxley`` has been imported in the
process (two simulators' objects would then be mixed silently).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

ALIASED_NAME = "jaxley"
TARGET_NAME = "dendrax"


def _target_of(fullname: str) -> str | None:
    if fullname == ALIASED_NAME:
        return TARGET_NAME
    if fullname.startswith(ALIASED_NAME + "."):
        return TARGET_NAME + fullname[len(ALIASED_NAME) :]
    return None


class _ExistingModuleLoader(importlib.abc.Loader):
    """Loader that hands out an already imported dendrax module under the Jaxley name."""

    def __init__(self, module: ModuleType):
        self._module = module

    def create_module(self, spec):
        return self._module

    def exec_module(self, module):
        # The dendrax module is fully initialised already; nothing to execute.
        return None


class JaxleyAliasFinder(importlib.abc.MetaPathFinder):
    """Resolves ``jaxley[.X]`` to ``dendrax[.X]``; other names are left to later finders."""

    def find_spec(self, fullname, path=None, target=None):
        dendrax_name = _target_of(fullname)
        if dendrax_name is None:
            return None
        try:
            module = importlib.import_module(dendrax_name)
        except ModuleNotFoundError as err:
            if err.name != dendrax_name:
                raise
            raise ModuleNotFoundError(
                f"{fullname!r} is aliased to {dendrax_name!r} (dendrax.compat.alias_jaxley), "
                f"which does not exist: dendrax has no counterpart of this Jaxley module",
                name=fullname,
            ) from None
        spec = importlib.machinery.ModuleSpec(
            fullname, _ExistingModuleLoader(module), is_package=hasattr(module, "__path__")
        )
        if hasattr(module, "__path__"):
            spec.submodule_search_locations = list(module.__path__)
        return spec


def _installed_finder() -> JaxleyAliasFinder | None:
    return next((f for f in sys.meta_path if isinstance(f, JaxleyAliasFinder)), None)


def alias_jaxley() -> None:
    """Make ``import jaxley...`` resolve to dendrax's modules, for the rest of the process.

    Idempotent. Raises ``RuntimeError`` if a real Jaxley package was imported earlier in
    this process (restart the interpreter and alias before anything imports Jaxley).
    """
    if _installed_finder() is not None:
        return
    real = [
        name
        for name, mod in sys.modules.items()
        if _target_of(name) is not None and not getattr(mod, "__name__", "").startswith(TARGET_NAME)
    ]
    if real:
        raise RuntimeError(
            f"a real Jaxley is already imported ({', '.join(sorted(real)[:3])}); call "
            "dendrax.compat.alias_jaxley() before anything imports jaxley"
        )
    sys.meta_path.insert(0, JaxleyAliasFinder())


def remove_jaxley_alias() -> None:
    """Undo :func:`alias_jaxley`: drop the finder and the ``jaxley`` entries it created."""
    finder = _installed_finder()
    if finder is not None:
        sys.meta_path.remove(finder)
    for name in [n for n in sys.modules if _target_of(n) is not None]:
        if getattr(sys.modules[name], "__name__", "").startswith(TARGET_NAME):
            del sys.modules[name]


def is_aliased() -> bool:
    """Whether ``import jaxley`` currently resolves to dendrax."""
    return _installed_finder() is not None
