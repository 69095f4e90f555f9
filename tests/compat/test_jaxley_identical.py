"""Rung 4 (optional, `make compat`): identical traces to Jaxley in float64.

Skipped unless the `jaxley` package is importable (it is installed by `make compat` into a
separate environment).
"""

import numpy as np
import pytest

jaxley = pytest.importorskip("jaxley")

import dendrax  # noqa: E402


def _build(lib, hh_cls, kind):
    comp = lib.Compartment()
    if kind == "comp":
        module = comp
    elif kind == "branch":
        module = lib.Branch(comp, ncomp=4)
    else:
        module = lib.Cell(lib.Branch(comp, ncomp=3), parents=[-1, 0, 0, 1, 1])
    module.insert(hh_cls())
    if kind == "cell":
        module.branch(1).set("radius", 0.5)
        module.set("axial_resistivity", 300.0)
    if kind == "comp":
        target, second = module, None
    elif kind == "branch":
        target, second = module.comp(0), module.comp(3)
    else:
        target, second = module.branch(0).comp(0), module.branch(4).comp(2)
    target.stimulate(lib.step_current(0.5, 3.0, 0.1, 0.025, 10.0), verbose=False)
    target.record("v", verbose=False)
    if second is not None:
        second.record("v", verbose=False)
    return module


@pytest.mark.parametrize("solver", ["bwd_euler", "crank_nicolson"])
@pytest.mark.parametrize("kind", ["comp", "branch", "cell"])
def test_identical_to_jaxley(kind, solver):
    from jaxley.channels import HH as JaxleyHH

    from dendrax.channels import HH

    ours = np.asarray(dendrax.integrate(_build(dendrax, HH, kind), t_max=10.0, solver=solver))
    theirs = np.asarray(jaxley.integrate(_build(jaxley, JaxleyHH, kind), t_max=10.0, solver=solver))
    assert ours.shape == theirs.shape
    assert np.abs(ours - theirs).max() < 1e-8
