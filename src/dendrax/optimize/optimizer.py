"""Per-parameter-type optax optimizers (e.g. different learning rates per parameter name).

optax is an optional dependency (``pip install dendrax[train]``); it is imported lazily, so this
module can be imported without it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["TypeOptimizer"]

_NO_DEFAULT = object()


def _import_optax() -> Any:
    try:
        import optax
    except ImportError as err:  # pragma: no cover - exercised only without optax
        raise ImportError(
            "dendrax.optimize.TypeOptimizer needs optax, an optional dependency. Install it with "
            "`pip install dendrax[train]` (or `pip install optax`)."
        ) from err
    return optax


def _groups(params: Any) -> list[Mapping[str, Any]]:
    """Parameter groups: a list of dicts (``get_parameters()`` layout) or a single dict."""
    if isinstance(params, Mapping):
        return [params]
    if isinstance(params, list | tuple) and all(isinstance(p, Mapping) for p in params):
        return list(params)
    raise TypeError(
        "TypeOptimizer expects parameters as a list of dicts {name: array} (the layout of "
        f"get_parameters()) or a single dict, got {type(params).__name__}."
    )


class TypeOptimizer:
    """One optax optimizer per parameter type (dict key), all driven through one interface.

    For every parameter group ``{name: array}`` in ``opt_params`` the optimizer
    ``optimizer_fn(**optimizer_args[name])`` is built if the arguments are a dict, otherwise
    ``optimizer_fn(optimizer_args[name])`` (e.g. a learning rate)::

        opt = TypeOptimizer(lambda lr: optax.adam(lr), {"HH_gNa": 0.01, "radius": 0.1},
                            opt_params)
        opt_state = opt.init(opt_params)
        updates, opt_state = opt.update(grads, opt_state)
        opt_params = optax.apply_updates(opt_params, updates)

    Args:
        optimizer_fn: callable returning an ``optax.GradientTransformation``.
        optimizer_args: ``{param_name: args}``; ``args`` is a dict of keyword arguments or a
            single positional argument for ``optimizer_fn``.
        opt_params: parameters to optimize, a list of dicts ``[{name: array}, ...]`` (as from
            ``get_parameters()``) or a single dict.  Only its keys are used here.
        default_args: arguments for parameter names missing from ``optimizer_args``.  If not
            given, a missing name raises ``KeyError``.

    The optimizer state is a list (one entry per group) of dicts ``{name: optax state}``;
    ``update`` returns updates with the structure of ``grads``.
    """

    def __init__(
        self,
        optimizer_fn: Callable[..., Any],
        optimizer_args: Mapping[str, Any],
        opt_params: Any,
        *,
        default_args: Any = _NO_DEFAULT,
    ) -> None:
        _import_optax()
        if not isinstance(optimizer_args, Mapping):
            raise TypeError(
                "optimizer_args must be a dict {param_name: args}, got "
                f"{type(optimizer_args).__name__}."
            )
        self.optimizer_fn = optimizer_fn
        self.optimizer_args = dict(optimizer_args)
        self.default_args = default_args
        self.optimizers: list[dict[str, Any]] = []
        for group in _groups(opt_params):
            opts = {}
            for name in group:
                opts[name] = _call_optimizer_fn(optimizer_fn, self._args_for(name))
            self.optimizers.append(opts)

    def _args_for(self, name: str) -> Any:
        if name in self.optimizer_args:
            return self.optimizer_args[name]
        if self.default_args is not _NO_DEFAULT:
            return self.default_args
        raise KeyError(
            f"TypeOptimizer: no optimizer arguments for parameter {name!r}. Known names: "
            f"{sorted(self.optimizer_args)}. Add {name!r} to optimizer_args or pass "
            "default_args=..."
        )

    def _check(self, groups: list[Mapping[str, Any]], what: str) -> None:
        layout = [sorted(g) for g in groups]
        expected = [sorted(o) for o in self.optimizers]
        if layout != expected:
            raise ValueError(
                f"TypeOptimizer: {what} has parameter layout {layout}, but the optimizer was "
                f"built for {expected}."
            )

    def init(self, opt_params: Any) -> list[dict[str, Any]]:
        """Initial optimizer state: list (one per group) of ``{name: optax state}``."""
        groups = _groups(opt_params)
        self._check(groups, "opt_params")
        return [
            {name: opts[name].init(group[name]) for name in group}
            for opts, group in zip(self.optimizers, groups, strict=True)
        ]

    def update(
        self, grads: Any, opt_state: list[dict[str, Any]], params: Any = None
    ) -> tuple[Any, list[dict[str, Any]]]:
        """Per-type optax update.

        Args:
            grads: gradients with the structure of ``opt_params``.
            opt_state: state from :meth:`init` or a previous :meth:`update`.
            params: optional current parameters (for optimizers such as ``adamw`` that need
                them), same structure as ``grads``.

        Returns:
            ``(updates, new_opt_state)``; ``updates`` has the structure of ``grads``.
        """
        groups = _groups(grads)
        self._check(groups, "grads")
        p_groups = _groups(params) if params is not None else [None] * len(groups)
        updates: list[dict[str, Any]] = []
        new_state: list[dict[str, Any]] = []
        for opts, g, s, p in zip(self.optimizers, groups, opt_state, p_groups, strict=True):
            upd, st = {}, {}
            for name in g:
                kwargs = {} if p is None else {"params": p[name]}
                upd[name], st[name] = opts[name].update(g[name], s[name], **kwargs)
            updates.append(upd)
            new_state.append(st)
        if isinstance(grads, Mapping):
            return updates[0], new_state
        if isinstance(grads, tuple):
            return tuple(updates), new_state
        return updates, new_state


def _call_optimizer_fn(optimizer_fn: Callable[..., Any], args: Any) -> Any:
    """``optimizer_fn(**args)`` if ``args`` is a dict, else ``optimizer_fn(args)``."""
    if isinstance(args, Mapping):
        return optimizer_fn(**args)
    return optimizer_fn(args)
