"""Contract tests of every registered mechanism (`dendrax.mechanisms_registry`).

Parametrized over the registry, as Optax tests all its optimizers: registering a new
channel, synapse or pump with `@register(StandardModel(...))` adds it here. Each must, on
its standard model: give finite output in float64; run in float32 without NaN; give the
same loss under `jax.jit(jax.vmap(...))` as eagerly; and have a `jax.grad` that matches
central finite differences (float64, `StandardModel.grad_rtol`).

One compiled `jit(vmap(value_and_grad(loss)))` per mechanism serves the jit, vmap and grad
tests (its results are cached), and one subprocess runs every model in float32, which keeps
the whole file near a minute on two cores.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dendrax.channels
import dendrax.pumps
import dendrax.synapses
from dendrax.channels import Channel, Leak
from dendrax.mechanisms_registry import (
    MECHANISMS,
    MechanismRegistry,
    StandardModel,
    register,
    registered,
)
from dendrax.pumps import Pump
from dendrax.synapses import Synapse

from .float32_subprocess import run_float32_script
from .standard_models import build

ENTRIES = registered()
NAMES = [e.name for e in ENTRIES]
PACKAGES = (dendrax.channels, dendrax.pumps, dendrax.synapses)
BASES = (Channel, Pump, Synapse)
#: Relative step of the finite differences (4th-order central stencil, see `_transformed`).
FD_STEP = 1e-3


# ---------------------------------------------------------------------------- registry
def _public_mechanism_classes():
    """{class: where it was found} for every public mechanism class of the three packages:
    the packages' own attributes and the classes defined in each of their submodules."""
    found = {}
    for package in PACKAGES:
        modules = [package] + [
            importlib.import_module(info.name)
            for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
        ]
        for module in modules:
            for attr, obj in vars(module).items():
                if attr.startswith("_") or not inspect.isclass(obj) or obj in BASES:
                    continue
                if not issubclass(obj, (Channel, Synapse)) or obj.__name__.startswith("_"):
                    continue
                if module is package or obj.__module__ == module.__name__:
                    found.setdefault(obj, f"{module.__name__}.{attr}")
    return found


def test_registry_is_complete():
    """Every public Channel / Pump / Synapse class of dendrax is registered."""
    classes = _public_mechanism_classes()
    assert len(classes) >= 26  # the 14 channels, 3 pumps and 9 synapses of today
    missing = sorted(where for cls, where in classes.items() if not MECHANISMS.is_registered(cls))
    assert not missing, (
        f"unregistered mechanism classes: {missing}; decorate each with "
        "@register(StandardModel(...)) from dendrax.mechanisms_registry"
    )


def test_registered_classes_are_public_and_of_the_right_kind():
    classes = _public_mechanism_classes()
    for entry in ENTRIES:
        assert entry.cls in classes, f"{entry.name} is registered but not exported"
        package = {"channel": dendrax.channels, "pump": dendrax.pumps}.get(
            entry.kind, dendrax.synapses
        )
        assert getattr(package, entry.cls.__name__) is entry.cls, entry.name
        want = "pump" if issubclass(entry.cls, Pump) else None
        want = want or ("synapse" if issubclass(entry.cls, Synapse) else "channel")
        assert entry.kind == want, entry.name


def test_user_subclasses_are_not_registered():
    before = MECHANISMS.names()

    class MyLeak(Leak):
        pass

    assert MECHANISMS.names() == before
    assert not MECHANISMS.is_registered(MyLeak)
    assert MECHANISMS.is_registered(Leak)


def test_a_registry_accepts_user_mechanisms_and_rejects_bad_ones():
    reg = MechanismRegistry()

    class MyLeak(Leak):
        pass

    model = StandardModel(param="{name}_gLeak")
    assert reg.add(MyLeak, model) is MyLeak
    assert reg.names() == ["MyLeak"] and reg.get("MyLeak").kind == "channel"

    class Other(Leak):
        pass

    with pytest.raises(ValueError, match="'MyLeak' is already registered"):
        reg.add(Other, model, name="MyLeak")
    with pytest.raises(TypeError, match="not a Channel, Pump or Synapse subclass"):
        reg.add(int, model)
    with pytest.raises(TypeError, match="needs a StandardModel"):
        reg.add(MyLeak, {"param": "x"}, name="Again")
    with pytest.raises(KeyError, match="No mechanism 'Nope' is registered"):
        reg.get("Nope")
    with pytest.raises(ValueError, match="kind must be one of"):
        reg.entries("pumps")
    reg.remove("MyLeak")
    assert len(reg) == 0
    with pytest.raises(TypeError, match=r"write @register\(StandardModel\(param=\.\.\.\)\)"):
        register(MyLeak)


def test_standard_model_validates_its_fields():
    with pytest.raises(ValueError, match="say why in grad_note"):
        StandardModel(param="x", grad_rtol=1e-2)
    with pytest.raises(TypeError, match=r"write \('Leak',\)"):
        StandardModel(param="x", with_mechanisms="Leak")
    with pytest.raises(ValueError, match="ncomp must be a positive int"):
        StandardModel(param="x", ncomp=0)
    with pytest.raises(ValueError, match="amplitude nA, delay ms, duration ms"):
        StandardModel(param="x", stimulus=(1.0, 2.0))
    with pytest.raises(ValueError, match="t_max > 0 and delta_t > 0"):
        StandardModel(param="x", delta_t=0.0)
    with pytest.raises(TypeError, match="must be a parameter name"):
        StandardModel(param="")


# ---------------------------------------------------------------------------- helpers
@functools.cache
def _standard(name):
    return build(MECHANISMS.get(name))


@functools.cache
def _eager_traces(name):
    std = _standard(name)
    return np.asarray(std.run(std.params_with(std.value)))


def _points(value: float) -> np.ndarray:
    """Parameter values: p, p ± h, p ± 2h (finite differences) and p + 50 % (vmap)."""
    scale = abs(value) if value != 0 else 1.0
    h = FD_STEP * scale
    return np.array([value, value + h, value - h, value + 2 * h, value - 2 * h, value + scale / 2])


@functools.cache
def _transformed(name):
    """`jit(vmap(value_and_grad(loss)))` at `_points`: (points, losses, gradients)."""
    std = _standard(name)
    points = _points(float(std.value[0]))

    def loss_of(x):
        return std.loss(std.params_with(x))

    losses, grads = jax.jit(jax.vmap(jax.value_and_grad(loss_of)))(jnp.asarray(points))
    return points, np.asarray(losses), np.asarray(grads)


# ---------------------------------------------------------------------------- contract
@pytest.mark.parametrize("name", NAMES)
def test_finite_output_float64(name):
    model = MECHANISMS.get(name).model
    traces = _eager_traces(name)
    n_steps = int(round(model.t_max / model.delta_t))
    assert traces.dtype == np.float64
    assert traces.shape[0] in (1, 2) and abs(traces.shape[1] - (n_steps + 1)) <= 1
    assert np.all(np.isfinite(traces)), f"{name}: non-finite output in float64"
    # The model is exercised: the stimulus moves v, and the observed quantity changes.
    assert np.ptp(traces[0]) > 0.1, f"{name}: the stimulus does not move v"
    assert np.ptp(traces[-1]) > 0.0, f"{name}: {model.observe} never changes"


@pytest.mark.parametrize("name", NAMES)
def test_jit_and_vmap_match_eager(name):
    std = _standard(name)
    points, losses, _ = _transformed(name)
    eager = np.array([float(std.loss(std.params_with(p))) for p in points[[0, -1]]])
    np.testing.assert_allclose(losses[[0, -1]], eager, rtol=1e-10, atol=1e-12 * np.abs(eager).max())
    # The batch elements are separate simulations: a 50 % larger parameter changes the loss.
    assert losses[-1] != losses[0], f"{name}: {std.param} does not change the loss"


@pytest.mark.parametrize("name", NAMES)
def test_grad_matches_finite_differences(name):
    model = MECHANISMS.get(name).model
    points, losses, grads = _transformed(name)
    h = points[1] - points[0]
    fd = (8.0 * (losses[1] - losses[2]) - (losses[3] - losses[4])) / (12.0 * h)
    # The parameter matters, so that agreement is not 0 == 0.
    assert abs(fd * points[0]) > 1e-6 * abs(losses[0]), f"{name}: loss insensitive, fd={fd}"
    rel = abs(grads[0] - fd) / abs(fd)
    assert np.isfinite(grads).all(), f"{name}: non-finite gradient"
    assert rel < model.grad_rtol, (
        f"{name}: grad {grads[0]:.10g} vs central finite difference {fd:.10g} "
        f"(relative error {rel:.2e} > {model.grad_rtol:g})"
    )


FLOAT32_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import jax
    jax.config.update("jax_enable_x64", False)
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    from contract.standard_models import build
    from dendrax.mechanisms_registry import registered
    out = {}
    for entry in registered():
        try:
            std = build(entry)
            traces = np.asarray(std.run(std.params_with(std.value)))
            out[entry.name] = {
                "dtype": str(traces.dtype),
                "finite": bool(np.all(np.isfinite(traces))),
                "ptp": float(np.ptp(traces[-1])),
            }
        except Exception as err:  # reported per mechanism by the test
            out[entry.name] = {"error": f"{type(err).__name__}: {err}"}
    print("RESULTS" + json.dumps(out))
    """
)


@functools.lru_cache(maxsize=1)
def _float32_results():
    return run_float32_script(FLOAT32_SCRIPT)


@pytest.mark.parametrize("name", NAMES)
def test_float32_without_nan(name):
    got = _float32_results()[name]
    assert "error" not in got, f"{name} fails in float32: {got.get('error')}"
    assert got["dtype"] == "float32"
    assert got["finite"], f"{name}: NaN or inf in float32"
    assert got["ptp"] > 0.0, f"{name}: the observed trace is constant in float32"
